"""The audit trail (django-pghistory triggers): who, when, before and after — bulk updates and deletes too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.audit.context import audited
from records.audit.selectors import audit_trail
from records.cases.models import Case
from records.cases.services import case_add_note, case_create, case_mark_breaches, case_transition
from records.customers.models import Customer
from records.customers.services import customer_create, customer_update
from records.identities.services import identity_add, identity_remove
from records.interactions.services import interaction_record, interaction_set_sentiment
from tests.records.factories import CustomerFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db


def _of(trail, model: str, label: str | None = None):
    return [e for e in trail if e.model == f"records.{model}" and (label is None or e.label == label)]


def test_the_trail_names_the_acting_user(agent, team_a):
    # When
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    # Then
    [created] = _of(audit_trail(objs=[customer]), "CustomerEvent")
    assert (created.label, created.object_id, created.user_id, created.username) == (
        "insert",
        str(customer.pk),
        agent.pk,
        "agent.a",
    )
    assert created.changes["given_name"] == [None, "Alice"]
    assert created.changes["team_id"] == [None, team_a.pk]
    assert "updated_at" not in created.changes


def test_the_trail_keeps_the_before_and_after_of_a_changed_field(agent, supervisor, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", city="Leeds", team=team_a)
    # When
    customer_update(actor=supervisor, customer=customer, city="York")
    # Then
    updated, created = _of(audit_trail(objs=[customer]), "CustomerEvent")
    assert (updated.label, updated.user_id, updated.username) == ("update", supervisor.pk, "supervisor.a")
    assert updated.changes == {"city": ["Leeds", "York"]}
    assert created.label == "insert"
    assert created.user_id == agent.pk


def test_a_name_change_shows_the_derived_search_name_too(agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    # When
    customer_update(actor=agent, customer=customer, family_name="Jones")
    # Then
    updated = _of(audit_trail(objs=[customer]), "CustomerEvent", "update")
    assert [e.changes for e in updated] == [
        {"family_name": ["Smith", "Jones"], "search_name": ["alice smith", "alice jones"]}
    ]


def test_a_bulk_queryset_update_is_caught_row_by_row_with_its_actor(supervisor):
    # Given
    customers = [CustomerFactory(segment="") for _ in range(3)]
    untouched = CustomerFactory(segment="")
    # When: one set-based UPDATE, no save() and no Python per row
    with audited(supervisor):
        changed = Customer.objects.filter(pk__in=[c.pk for c in customers]).update(segment="vip")
    # Then
    assert changed == 3
    trail = audit_trail(objs=[*customers, untouched])
    updates = _of(trail, "CustomerEvent", "update")
    assert sorted(int(e.object_id) for e in updates) == sorted(c.pk for c in customers)
    for entry in updates:
        assert entry.changes == {"segment": ["", "vip"]}
        assert (entry.user_id, entry.username) == (supervisor.pk, "supervisor.a")


def test_a_bulk_update_outside_any_service_is_still_caught_as_the_system():
    # Given
    customer = CustomerFactory(value_tier="standard")
    # When: a raw bulk update with no actor at all (a migration, a shell)
    Customer.objects.filter(pk=customer.pk).update(value_tier="gold")
    # Then
    [updated] = _of(audit_trail(objs=[customer]), "CustomerEvent", "update")
    assert updated.changes == {"value_tier": ["standard", "gold"]}
    assert (updated.user_id, updated.username) == (None, None)


def test_the_sla_sweep_is_audited_as_a_system_job(agent, team_a):
    # Given
    SlaPolicyFactory(priority="urgent", first_response_minutes=10, resolution_minutes=30)
    case = case_create(actor=agent, customer=CustomerFactory(team=team_a), subject="Down", priority="urgent")
    # When
    case_mark_breaches(now=timezone.now() + dt.timedelta(hours=1))
    # Then: the two set-based UPDATEs of the sweep are two audit rows, by nobody
    updates = _of(audit_trail(objs=[case]), "CaseEvent", "update")
    assert [e.changes for e in updates] == [
        {"resolution_breached": [False, True]},
        {"first_response_breached": [False, True]},
    ]
    assert {e.user_id for e in updates} == {None}


def test_a_deleted_identity_stays_in_the_customers_trail(agent, supervisor, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    identity = identity_add(actor=agent, customer=customer, kind="account", value="ACC-1234")
    identity_pk = identity.pk
    # When
    identity_remove(actor=supervisor, identity=identity)
    # Then: the delete names who removed it and what was removed
    removed, added = _of(audit_trail(objs=[customer]), "IdentityEvent")
    assert (removed.label, removed.object_id, removed.user_id) == ("delete", str(identity_pk), supervisor.pk)
    assert removed.changes["value"] == ["ACC1234", None]
    assert removed.changes["customer_id"] == [customer.pk, None]
    assert (added.label, added.object_id, added.user_id) == ("insert", str(identity_pk), agent.pk)
    assert added.changes["value"] == [None, "ACC1234"]


def test_a_customers_trail_includes_the_rows_that_reference_it(agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    identity = identity_add(actor=agent, customer=customer, kind="email", value="alice@example.com")
    case = case_create(actor=agent, customer=customer, subject="Router")
    now = timezone.now()
    interaction = interaction_record(
        actor=agent, customer=customer, channel="chat", started_at=now - dt.timedelta(minutes=5), ended_at=now
    )
    interaction_set_sentiment(actor=agent, interaction=interaction, score=0.5)
    someone_else = customer_create(actor=agent, given_name="Bob", family_name="Jones", team=team_a)
    # When
    trail = audit_trail(objs=[customer])
    # Then: its own row and every row pointing at it, and nothing of another customer's
    assert sorted((e.model, e.label, e.object_id) for e in trail) == sorted(
        [
            ("records.CustomerEvent", "insert", str(customer.pk)),
            ("records.IdentityEvent", "insert", str(identity.pk)),
            ("records.CaseEvent", "insert", str(case.pk)),
            ("records.InteractionEvent", "insert", str(interaction.pk)),
            ("records.InteractionEvent", "update", str(interaction.pk)),
        ]
    )
    assert str(someone_else.pk) not in {e.object_id for e in _of(trail, "CustomerEvent")}
    assert {e.user_id for e in trail} == {agent.pk}


def test_a_cases_trail_has_its_transitions_and_notes(agent, supervisor, team_a):
    # Given
    case = case_create(actor=agent, customer=CustomerFactory(team=team_a), subject="Router")
    # When
    case_transition(actor=agent, case=case, transition="open")
    note = case_add_note(actor=supervisor, case=case, body="Escalated to field team.")
    # Then
    trail = audit_trail(objs=[Case.objects.get(pk=case.pk)])
    case_updates = _of(trail, "CaseEvent", "update")
    assert len(case_updates) == 1
    assert case_updates[0].changes["status"] == ["new", "open"]
    assert case_updates[0].user_id == agent.pk
    [note_added] = _of(trail, "CaseNoteEvent")
    assert (note_added.label, note_added.object_id, note_added.user_id) == ("insert", str(note.pk), supervisor.pk)
    assert note_added.changes["body"] == [None, "Escalated to field team."]


def test_the_trail_is_newest_first_and_limited(agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    for city in ("Leeds", "York", "Hull"):
        customer_update(actor=agent, customer=customer, city=city)
    # When
    trail = audit_trail(objs=[customer], limit=3)
    # Then
    assert [e.changes for e in trail] == [
        {"city": ["York", "Hull"]},
        {"city": ["Leeds", "York"]},
        {"city": ["", "Leeds"]},
    ]
