"""The right to erasure: a customer copied across the platform is found nowhere afterwards."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from cea.common.errors import Conflict, PermissionDenied
from engagement.conversations.models import Conversation, Message
from records.cases.models import Case, CaseNote
from records.customers.models import CustomerStatus
from records.customers.services import customer_create, customer_merge
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from records.privacy.erasure import privacy_erasure_carry_out
from records.privacy.models import LegalHold, PrivacyRequestStatus, PrivacyRewrite
from records.privacy.registry import personal_data_parts
from records.privacy.services import privacy_request_approve, privacy_request_carry_out, privacy_request_create
from records.tasks import privacy_request_carry_out_task
from tests.accounts.factories import UserFactory
from tests.records.factories import CustomerFactory
from tests.records.privacy_support import IDENTIFIERS, forget_leftovers, identifiers_found, spread_customer

pytestmark = pytest.mark.django_db


def _aggregates(customer_id: int) -> dict[str, object]:
    interactions = Interaction.objects.filter(customer_id=customer_id)
    return {
        "interactions": interactions.count(),
        "interaction_timing": list(
            interactions.values_list(
                "started_at", "ended_at", "queue", "agent_id", "sentiment", "satisfaction", "wrap_up_code"
            )
        ),
        "cases": list(
            Case.objects.filter(customer_id=customer_id).values_list("status", "category", "priority", "created_at")
        ),
        "case_notes": CaseNote.objects.filter(case__customer_id=customer_id).count(),
        "journey": list(
            JourneyEvent.objects.filter(customer_id=customer_id).values_list("kind", "occurred_at", "channel")
        ),
        "conversations": Conversation.objects.filter(customer_id=customer_id).count(),
        "messages": Message.objects.filter(conversation__customer_id=customer_id).count(),
    }


def test_an_erased_customer_is_found_nowhere_in_the_database_or_redis_and_aggregates_stay(
    supervisor, agent, team_a, django_capture_on_commit_callbacks, eager_tasks
):
    # Given a customer whose identifiers were copied across the platform
    approver = UserFactory(username="dpo", role="admin")
    forget_leftovers([*IDENTIFIERS])
    with django_capture_on_commit_callbacks(execute=True):
        spread = spread_customer(actor=supervisor, agent=agent, team=team_a)
    customer = spread.customer
    identifiers = [*IDENTIFIERS, spread.national_id_digest]
    assert len(identifiers_found(identifiers)) > 20  # the copies really are everywhere
    before = _aggregates(customer.pk)
    assert before["interactions"] == 1 and before["messages"] >= 2 and len(before["cases"]) == 1

    # When a supervisor requests the erasure, an administrator approves it and carries it out
    request = privacy_request_create(
        actor=supervisor, customer=customer, kind="erasure", reason="Data subject asked by letter"
    )
    privacy_request_approve(actor=approver, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        privacy_request_carry_out(actor=approver, request=request)

    # Then no identifier is left in any column of any table, nor in Redis
    found = identifiers_found(identifiers)
    assert found == [], "\n".join(found)
    # and the aggregates are what they were
    assert _aggregates(customer.pk) == before
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ERASED
    assert str(customer) == f"Erased customer #{customer.pk}"
    request.refresh_from_db()
    assert request.status == PrivacyRequestStatus.DONE
    assert request.carried_out_by == approver
    assert set(request.result) == {part.name for part in personal_data_parts()}
    assert request.result["records.identities"] == 5  # both emails, phone, national id, account
    assert request.result["records.journey"] == len(before["journey"])
    assert PrivacyRewrite.objects.filter(request=request, target="records_journeyevent").get().rows == len(
        before["journey"]
    )


def test_carrying_out_twice_changes_nothing_the_second_time(supervisor, admin_user):
    customer = CustomerFactory(team=supervisor.teams.first(), given_name="Once")
    request = privacy_request_create(actor=supervisor, customer=customer, kind="erasure", reason="asked")
    privacy_request_approve(actor=admin_user, request=request)
    first = privacy_erasure_carry_out(request_id=request.pk, actor=admin_user)
    rewrites = PrivacyRewrite.objects.count()

    second = privacy_erasure_carry_out(request_id=request.pk, actor=admin_user)

    assert second.done_at == first.done_at
    assert PrivacyRewrite.objects.count() == rewrites


def test_a_legal_hold_refuses_the_erasure_and_nothing_is_written(supervisor, admin_user):
    customer = CustomerFactory(team=supervisor.teams.first(), given_name="Held", email="held@example.org")
    request = privacy_request_create(actor=supervisor, customer=customer, kind="erasure", reason="asked")
    privacy_request_approve(actor=admin_user, request=request)
    LegalHold.objects.create(customer=customer, reason="Litigation", placed_by=admin_user)

    with pytest.raises(Conflict, match="legal hold"):
        privacy_erasure_carry_out(request_id=request.pk, actor=admin_user)

    customer.refresh_from_db()
    request.refresh_from_db()
    assert (customer.status, customer.email) == (CustomerStatus.ACTIVE, "held@example.org")
    assert request.status == PrivacyRequestStatus.APPROVED
    assert "legal hold" in request.last_error
    with pytest.raises(Conflict, match="legal hold"):
        privacy_request_carry_out(actor=admin_user, request=request)


def test_the_journey_log_stays_append_only_outside_an_approved_erasure(supervisor, admin_user):
    customer = CustomerFactory(team=supervisor.teams.first())
    journey_record(customer=customer, kind="case.opened", summary="Case opened")
    request = privacy_request_create(actor=supervisor, customer=customer, kind="erasure", reason="asked")

    # A plain update is refused by the trigger
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        JourneyEvent.objects.filter(customer=customer).update(summary="rewritten")
    # and the privileged function refuses a request that is not approved
    refused = pytest.raises(ProgrammingError, match="not an approved erasure request")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT records_journey_erase(%s, %s)", [request.pk, []])
    assert list(JourneyEvent.objects.filter(customer=customer).values_list("summary", flat=True)) == ["Case opened"]


def test_four_eyes_the_requester_cannot_approve(admin_user, supervisor):
    customer = CustomerFactory(team=supervisor.teams.first())
    request = privacy_request_create(actor=admin_user, customer=customer, kind="erasure", reason="asked")

    with pytest.raises(PermissionDenied, match="Four eyes"):
        privacy_request_approve(actor=admin_user, request=request)
    with pytest.raises(PermissionDenied, match="administrator"):
        privacy_request_approve(actor=supervisor, request=request)
    request.refresh_from_db()
    assert request.status == PrivacyRequestStatus.REQUESTED


def test_the_tombstones_merged_into_the_customer_are_erased_with_them(supervisor, admin_user, team_a):
    survivor = customer_create(
        actor=supervisor, team=team_a, given_name="Ines", family_name="Ortega", email="ines@example.org"
    )
    duplicate = customer_create(
        actor=supervisor, team=team_a, given_name="Inés", family_name="Ortega", city="Pontevedra"
    )
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    request = privacy_request_create(actor=supervisor, customer=survivor, kind="erasure", reason="asked")
    privacy_request_approve(actor=admin_user, request=request)

    privacy_erasure_carry_out(request_id=request.pk, actor=admin_user)

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.given_name, duplicate.city) == ("merged", "Erased customer", "")
    assert identifiers_found(["Ortega", "ines@example.org", "Pontevedra"]) == []


def test_the_task_reports_a_hold_placed_after_approval_and_erases_nothing(supervisor, admin_user):
    customer = CustomerFactory(team=supervisor.teams.first(), given_name="Later", email="later@example.org")
    request = privacy_request_create(actor=supervisor, customer=customer, kind="erasure", reason="asked")
    privacy_request_approve(actor=admin_user, request=request)
    LegalHold.objects.create(customer=customer, reason="Regulator enquiry", placed_by=admin_user)

    outcome = privacy_request_carry_out_task(request.pk, admin_user.pk)

    assert outcome == {
        "refused": f"Customer {customer.pk} is under a legal hold: their data cannot be erased until the hold is "
        "released."
    }
    customer.refresh_from_db()
    assert customer.email == "later@example.org"
