"""Cases: the state machine, timestamps, SLA targets and breaches, notes, updates, concurrency, references."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from records.cases.models import TRANSITIONS, Case, CaseNote, CaseStatus, CaseTransition
from records.cases.services import case_add_note, case_create, case_mark_breaches, case_transition, case_update
from records.journey.models import JourneyEvent
from records.tasks import mark_sla_breaches
from tests.accounts.factories import UserFactory
from tests.records.db_locks import wait_for_lock_waiters
from tests.records.factories import CustomerFactory, SlaPolicyFactory

# The state machine as the issue describes it: new → open → pending → resolved → closed, and reopen.
EXPECTED_TRANSITIONS = {
    ("new", "open"): "open",
    ("pending", "open"): "open",
    ("open", "pend"): "pending",
    ("new", "resolve"): "resolved",
    ("open", "resolve"): "resolved",
    ("pending", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "open",
    ("closed", "reopen"): "open",
}
# How a case reaches each status through the services.
PATH_TO = {
    "new": [],
    "open": ["open"],
    "pending": ["open", "pend"],
    "resolved": ["resolve"],
    "closed": ["resolve", "close"],
}
ALL_PAIRS = [(status, transition) for status in CaseStatus.values for transition in CaseTransition.values]
ALLOWED_PAIRS = [(status, transition, target) for (status, transition), target in EXPECTED_TRANSITIONS.items()]
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED_TRANSITIONS]


@pytest.fixture
def customer(team_a):
    return CustomerFactory(given_name="Alice", family_name="Smith", team=team_a)


def _case_in(status: str, *, actor, customer, **fields) -> Case:
    case = case_create(actor=actor, customer=customer, subject="Router keeps dropping", **fields)
    for transition in PATH_TO[status]:
        case = case_transition(actor=actor, case=case, transition=transition)
    assert case.status == status
    return case


def _row(case: Case) -> dict:
    return Case.objects.filter(pk=case.pk).values().get()


# --- The state machine --------------------------------------------------------------------


def test_the_models_state_machine_is_the_one_the_tests_cover():
    # Given / When
    table = {
        (source, transition.value): target.value
        for transition, (sources, target) in TRANSITIONS.items()
        for source in sources
    }
    # Then
    assert table == EXPECTED_TRANSITIONS
    # … and the two parametrized tests below cover every pair between them.
    assert (len(ALL_PAIRS), len(ALLOWED_PAIRS), len(REFUSED_PAIRS)) == (25, 9, 16)


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "transition", "target"), ALLOWED_PAIRS)
def test_an_allowed_transition_lands_in_its_status(agent, customer, status, transition, target):
    # Given
    case = _case_in(status, actor=agent, customer=customer)
    # When
    result = case_transition(actor=agent, case=case, transition=transition)
    # Then: it lands where the machine says, and the journey says so
    assert result.status == target
    assert _row(case)["status"] == target
    event = JourneyEvent.objects.filter(customer=customer).order_by("-id").first()
    assert event.kind == f"case.{target}"
    assert event.summary == f"Case {case.reference} {status} → {target}"
    assert event.payload == {"case_id": case.pk, "reference": case.reference, "from": status, "to": target}


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "transition"), REFUSED_PAIRS)
def test_a_disallowed_transition_is_a_conflict_and_changes_nothing(agent, customer, status, transition):
    # Given
    case = _case_in(status, actor=agent, customer=customer)
    before = _row(case)
    events = JourneyEvent.objects.filter(customer=customer).count()
    # When
    with pytest.raises(Conflict) as refused:
        case_transition(actor=agent, case=case, transition=transition)
    # Then: refused with a clear code, and nothing written
    assert refused.value.code == "invalid_transition"
    assert refused.value.status_code == 409
    assert f"is {status}: it cannot {transition}." in refused.value.message
    assert _row(case) == before
    assert JourneyEvent.objects.filter(customer=customer).count() == events


@pytest.mark.django_db
def test_a_refused_transition_says_which_ones_are_allowed(agent, customer):
    # Given
    case = _case_in("new", actor=agent, customer=customer)
    # When
    with pytest.raises(Conflict) as refused:
        case_transition(actor=agent, case=case, transition="close")
    # Then
    assert refused.value.message == f"Case {case.reference} is new: it cannot close. Allowed from new: open, resolve."


@pytest.mark.django_db
def test_an_unknown_transition_is_invalid_input(agent, customer):
    # Given
    case = _case_in("open", actor=agent, customer=customer)
    before = _row(case)
    # When
    with pytest.raises(ValidationFailed) as refused:
        case_transition(actor=agent, case=case, transition="escalate")
    # Then
    assert refused.value.fields == {"transition": ["Choose one of open, pend, resolve, close, reopen."]}
    assert _row(case) == before


@pytest.mark.django_db
def test_a_transition_with_a_note_adds_an_internal_note_by_the_actor(agent, customer):
    # Given
    case = _case_in("open", actor=agent, customer=customer)
    # When
    case_transition(actor=agent, case=case, transition="pend", note="  Waiting for the customer's photo. ")
    # Then
    assert list(case.notes.values_list("body", "visibility", "author_id")) == [
        ("Waiting for the customer's photo.", "internal", agent.pk)
    ]


# --- Timestamps ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_timestamps_follow_the_lifecycle_and_reopen_clears_them(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="No dial tone")
    assert (case.first_responded_at, case.resolved_at, case.closed_at) == (None, None, None)

    # When: opened
    t0 = timezone.now()
    case = case_transition(actor=agent, case=case, transition="open")
    t1 = timezone.now()
    # Then: opening is the first response
    first_response = case.first_responded_at
    assert t0 <= first_response <= t1
    assert (case.resolved_at, case.closed_at) == (None, None)

    # When: resolved, then closed
    case = case_transition(actor=agent, case=case, transition="resolve")
    t2 = timezone.now()
    resolved_at = case.resolved_at
    assert t1 <= resolved_at <= t2
    case = case_transition(actor=agent, case=case, transition="close")
    t3 = timezone.now()
    # Then
    assert t2 <= case.closed_at <= t3
    assert (case.first_responded_at, case.resolved_at) == (first_response, resolved_at)

    # When: reopened
    case = case_transition(actor=agent, case=case, transition="reopen")
    # Then: resolution and closure are cleared; the first response stays
    case.refresh_from_db()
    assert (case.status, case.first_responded_at, case.resolved_at, case.closed_at) == (
        "open",
        first_response,
        None,
        None,
    )

    # When: resolved again
    case = case_transition(actor=agent, case=case, transition="resolve")
    # Then
    assert case.resolved_at >= t3
    assert case.first_responded_at == first_response


@pytest.mark.django_db
def test_resolving_a_new_case_is_also_its_first_response(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Wrong name on bill")
    # When
    case = case_transition(actor=agent, case=case, transition="resolve")
    # Then
    case.refresh_from_db()
    assert case.first_responded_at is not None
    assert case.first_responded_at == case.resolved_at


# --- SLA targets --------------------------------------------------------------------------


@pytest.mark.django_db
def test_sla_due_times_come_from_the_priority_default_policy(agent, customer):
    # Given
    normal = SlaPolicyFactory(priority="normal", first_response_minutes=60, resolution_minutes=24 * 60)
    SlaPolicyFactory(priority="high", first_response_minutes=30, resolution_minutes=4 * 60)
    # When
    before = timezone.now()
    case = case_create(actor=agent, customer=customer, subject="Slow broadband")
    after = timezone.now()
    # Then
    case.refresh_from_db()
    assert case.sla_policy_id == normal.pk
    assert before <= case.first_response_due_at - dt.timedelta(minutes=60) <= after
    assert case.resolution_due_at - case.first_response_due_at == dt.timedelta(minutes=24 * 60 - 60)
    assert (case.first_response_breached, case.resolution_breached) == (False, False)


@pytest.mark.django_db
def test_an_explicit_sla_policy_wins_over_the_default(agent, customer):
    # Given
    SlaPolicyFactory(priority="normal", first_response_minutes=60, resolution_minutes=24 * 60)
    vip = SlaPolicyFactory(
        name="VIP", priority="normal", first_response_minutes=15, resolution_minutes=120, is_default_for_priority=False
    )
    # When
    before = timezone.now()
    case = case_create(actor=agent, customer=customer, subject="Slow broadband", sla_policy=vip)
    after = timezone.now()
    # Then
    case.refresh_from_db()
    assert case.sla_policy_id == vip.pk
    assert before <= case.first_response_due_at - dt.timedelta(minutes=15) <= after
    assert case.resolution_due_at - case.first_response_due_at == dt.timedelta(minutes=105)


@pytest.mark.django_db
def test_a_priority_without_an_active_default_policy_has_no_due_times(agent, customer):
    # Given: the only low-priority policy is switched off
    SlaPolicyFactory(priority="low", first_response_minutes=240, resolution_minutes=7 * 24 * 60, is_active=False)
    # When
    case = case_create(actor=agent, customer=customer, subject="Brochure please", priority="low")
    # Then
    case.refresh_from_db()
    assert (case.sla_policy_id, case.first_response_due_at, case.resolution_due_at) == (None, None, None)


@pytest.mark.django_db
def test_changing_priority_retargets_the_due_times_from_the_creation_time(agent, customer):
    # Given
    SlaPolicyFactory(priority="normal", first_response_minutes=60, resolution_minutes=24 * 60)
    high = SlaPolicyFactory(priority="high", first_response_minutes=30, resolution_minutes=4 * 60)
    case = case_create(actor=agent, customer=customer, subject="Outage")
    # When
    case_update(actor=agent, case=case, priority="high")
    # Then: counted from when the case was opened, not restarted now
    case.refresh_from_db()
    assert case.sla_policy_id == high.pk
    assert case.first_response_due_at == case.created_at + dt.timedelta(minutes=30)
    assert case.resolution_due_at == case.created_at + dt.timedelta(minutes=4 * 60)
    event = JourneyEvent.objects.filter(kind="case.updated").get()
    assert event.payload == {"case_id": case.pk, "reference": case.reference, "fields": ["priority"]}


@pytest.mark.django_db
def test_choosing_a_policy_on_update_retargets_the_due_times(agent, customer):
    # Given
    SlaPolicyFactory(priority="normal", first_response_minutes=60, resolution_minutes=24 * 60)
    vip = SlaPolicyFactory(
        name="VIP", priority="normal", first_response_minutes=15, resolution_minutes=120, is_default_for_priority=False
    )
    case = case_create(actor=agent, customer=customer, subject="Outage")
    # When
    case_update(actor=agent, case=case, sla_policy=vip)
    # Then
    case.refresh_from_db()
    assert case.sla_policy_id == vip.pk
    assert case.first_response_due_at == case.created_at + dt.timedelta(minutes=15)
    assert case.resolution_due_at == case.created_at + dt.timedelta(minutes=120)


# --- SLA breaches -------------------------------------------------------------------------


def _cases_for_the_sweep(actor, customer) -> dict[str, Case]:
    """Urgent cases are due in 10/30 minutes, normal ones in 60 minutes/1 day, low ones never."""
    SlaPolicyFactory(priority="urgent", first_response_minutes=10, resolution_minutes=30)
    SlaPolicyFactory(priority="normal", first_response_minutes=60, resolution_minutes=24 * 60)
    return {
        "urgent new": _case_in("new", actor=actor, customer=customer, priority="urgent"),
        "urgent open": _case_in("open", actor=actor, customer=customer, priority="urgent"),
        "urgent pending": _case_in("pending", actor=actor, customer=customer, priority="urgent"),
        "urgent resolved": _case_in("resolved", actor=actor, customer=customer, priority="urgent"),
        "urgent closed": _case_in("closed", actor=actor, customer=customer, priority="urgent"),
        "normal new": _case_in("new", actor=actor, customer=customer, priority="normal"),
        "low new": _case_in("new", actor=actor, customer=customer, priority="low"),
    }


# (first response breached, resolution breached) 45 minutes after the cases were opened
EXPECTED_BREACHES = {
    "urgent new": (True, True),
    "urgent open": (False, True),  # opening was the first response, in time
    "urgent pending": (False, True),
    "urgent resolved": (False, False),
    "urgent closed": (False, False),
    "normal new": (False, False),
    "low new": (False, False),
}


def _breaches(cases: dict[str, Case]) -> dict[str, tuple[bool, bool]]:
    flags = {
        pk: (first_response, resolution)
        for pk, first_response, resolution in Case.objects.values_list(
            "pk", "first_response_breached", "resolution_breached"
        )
    }
    return {name: flags[case.pk] for name, case in cases.items()}


@pytest.mark.django_db
def test_mark_breaches_flags_exactly_the_overdue_open_cases_and_is_idempotent(agent, customer):
    # Given
    cases = _cases_for_the_sweep(agent, customer)
    later = timezone.now() + dt.timedelta(minutes=45)
    # When
    flagged = case_mark_breaches(now=later)
    # Then: one flag on each of three cases and both flags on the fourth
    assert flagged == 4
    assert _breaches(cases) == EXPECTED_BREACHES
    # When: run again
    assert case_mark_breaches(now=later) == 0
    # Then: nothing changes
    assert _breaches(cases) == EXPECTED_BREACHES


@pytest.mark.django_db
def test_nothing_is_flagged_before_the_due_times(agent, customer):
    # Given
    cases = _cases_for_the_sweep(agent, customer)
    # When
    flagged = case_mark_breaches(now=timezone.now() + dt.timedelta(minutes=5))
    # Then
    assert flagged == 0
    assert set(_breaches(cases).values()) == {(False, False)}


def _run_service() -> int:
    return case_mark_breaches()


def _run_celery_task() -> int:
    result = mark_sla_breaches.apply()
    assert result.successful()
    return result.get()


@pytest.mark.django_db
@pytest.mark.parametrize("sweep", [_run_service, _run_celery_task], ids=["service", "celery-task"])
def test_the_periodic_sweep_flags_cases_opened_45_minutes_ago(agent, customer, sweep):
    # Given: the cases were opened 45 minutes ago
    cases = _cases_for_the_sweep(agent, customer)
    shift = dt.timedelta(minutes=45)
    Case.objects.update(
        created_at=F("created_at") - shift,
        first_response_due_at=F("first_response_due_at") - shift,
        resolution_due_at=F("resolution_due_at") - shift,
    )
    # When
    flagged = sweep()
    # Then
    assert flagged == 4
    assert _breaches(cases) == EXPECTED_BREACHES
    assert sweep() == 0
    assert _breaches(cases) == EXPECTED_BREACHES


@pytest.mark.django_db
def test_a_late_first_response_and_a_late_resolution_are_flagged_when_they_happen(agent, customer):
    # Given: an urgent case (due in 10 and 30 minutes) opened 45 minutes ago, never answered
    SlaPolicyFactory(priority="urgent", first_response_minutes=10, resolution_minutes=30)
    case = case_create(actor=agent, customer=customer, subject="Down", priority="urgent")
    shift = dt.timedelta(minutes=45)
    Case.objects.filter(pk=case.pk).update(
        created_at=F("created_at") - shift,
        first_response_due_at=F("first_response_due_at") - shift,
        resolution_due_at=F("resolution_due_at") - shift,
    )
    # When: answered now
    case_transition(actor=agent, case=case, transition="open")
    # Then: both targets are already missed
    case.refresh_from_db()
    assert (case.first_response_breached, case.resolution_breached) == (True, True)


@pytest.mark.django_db
def test_a_case_handled_in_time_is_never_flagged(agent, customer):
    # Given
    SlaPolicyFactory(priority="urgent", first_response_minutes=10, resolution_minutes=30)
    case = _case_in("resolved", actor=agent, customer=customer, priority="urgent")
    # When: the sweep runs long after the due times
    flagged = case_mark_breaches(now=timezone.now() + dt.timedelta(days=1))
    # Then
    assert flagged == 0
    case.refresh_from_db()
    assert (case.first_response_breached, case.resolution_breached) == (False, False)


# --- Notes --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_external_note_is_the_first_response_and_an_internal_one_is_not(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Parcel missing")
    # When: an internal note
    case_add_note(actor=agent, case=case, body="Checked the courier portal.")
    # Then
    case.refresh_from_db()
    assert case.first_responded_at is None
    # When: a note to the customer, then another
    reply = case_add_note(actor=agent, case=case, body="We are on it.", visibility="external")
    case_add_note(actor=agent, case=case, body="Found it.", visibility="external")
    # Then: the first external note is the first response; the status does not change
    case.refresh_from_db()
    assert case.first_responded_at == reply.created_at
    assert case.status == "new"
    assert list(case.notes.values_list("body", "visibility", "author_id")) == [
        ("Checked the courier portal.", "internal", agent.pk),
        ("We are on it.", "external", agent.pk),
        ("Found it.", "external", agent.pk),
    ]
    assert list(
        JourneyEvent.objects.filter(kind="case.note_added").order_by("id").values_list("summary", flat=True)
    ) == [
        f"Internal note on {case.reference}",
        f"External note on {case.reference}",
        f"External note on {case.reference}",
    ]


@pytest.mark.django_db
def test_notes_on_a_closed_case_are_refused(agent, customer):
    # Given
    case = _case_in("closed", actor=agent, customer=customer)
    # When
    with pytest.raises(Conflict) as refused:
        case_add_note(actor=agent, case=case, body="One more thing")
    # Then
    assert refused.value.message == f"Case {case.reference} is closed; reopen it to add notes."
    assert CaseNote.objects.count() == 0


@pytest.mark.django_db
def test_a_note_needs_text_and_a_known_visibility(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Parcel missing")
    # When
    with pytest.raises(ValidationFailed) as refused:
        case_add_note(actor=agent, case=case, body="   ", visibility="public")
    # Then
    assert refused.value.fields == {
        "body": ["A note needs text."],
        "visibility": ["Choose one of internal, external."],
    }
    assert CaseNote.objects.count() == 0


# --- Updates ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_changes_the_details_and_records_what_changed(agent, supervisor, customer, team_a):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Outage")
    # When
    case_update(actor=supervisor, case=case, subject="Outage in LS1", category="technical", assignee=agent)
    # Then
    case.refresh_from_db()
    assert (case.subject, case.category, case.assignee_id, case.team_id) == (
        "Outage in LS1",
        "technical",
        agent.pk,
        team_a.pk,
    )
    event = JourneyEvent.objects.filter(kind="case.updated").get()
    assert event.payload["fields"] == ["subject", "category", "assignee"]


@pytest.mark.django_db
def test_update_trims_the_subject_as_create_does(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="  Outage  ")
    # When
    case_update(actor=agent, case=case, subject="  Outage in LS1 \n")
    # Then
    case.refresh_from_db()
    assert case.subject == "Outage in LS1"


@pytest.mark.django_db
def test_update_refuses_unknown_fields(agent, customer):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Outage")
    before = _row(case)
    # When
    with pytest.raises(ValidationFailed) as refused:
        case_update(actor=agent, case=case, status="closed", reference="CS-9999999")
    # Then
    assert refused.value.message == "Unknown case fields: reference, status."
    assert _row(case) == before


@pytest.mark.django_db
def test_update_refuses_an_assignee_outside_the_team(supervisor, agent_b, customer):
    # Given
    case = case_create(actor=supervisor, customer=customer, subject="Outage")
    before = _row(case)
    # When
    with pytest.raises(ValidationFailed) as refused:
        case_update(actor=supervisor, case=case, assignee=agent_b)
    # Then
    assert refused.value.fields == {"assignee": [f"{agent_b} is not in the team Team A."]}
    assert _row(case) == before


@pytest.mark.django_db
def test_an_agent_cannot_move_a_case_to_a_team_they_are_not_in(agent, customer, team_b):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Outage")
    before = _row(case)
    # When
    with pytest.raises(PermissionDenied):
        case_update(actor=agent, case=case, team=team_b)
    # Then
    assert _row(case) == before


@pytest.mark.django_db
def test_an_administrator_may_move_a_case_to_any_team(admin_user, agent, customer, team_b):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Outage")
    # When
    case_update(actor=admin_user, case=case, team=team_b)
    # Then
    case.refresh_from_db()
    assert case.team_id == team_b.pk


@pytest.mark.django_db
def test_a_closed_case_cannot_be_updated(agent, customer):
    # Given
    case = _case_in("closed", actor=agent, customer=customer)
    before = _row(case)
    # When
    with pytest.raises(Conflict):
        case_update(actor=agent, case=case, subject="Changed")
    # Then
    assert _row(case) == before


@pytest.mark.django_db
def test_create_refuses_bad_fields_and_writes_nothing(agent, customer, agent_b):
    # When
    with pytest.raises(ValidationFailed) as refused:
        case_create(
            actor=agent,
            customer=customer,
            subject="  ",
            category="gossip",
            priority="asap",
            team=customer.team,
            assignee=agent_b,
        )
    # Then
    assert set(refused.value.fields) == {"subject", "category", "priority", "assignee"}
    assert Case.objects.count() == 0
    assert JourneyEvent.objects.count() == 0


# --- Concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_one_wins_the_other_is_refused(agent, supervisor, team_a):
    # Given: an open case, and its row held locked so that both agents queue on it together
    customer = CustomerFactory(team=team_a)
    case = _case_in("open", actor=agent, customer=customer)
    outcomes: list[object] = []
    outcomes_lock = threading.Lock()

    def resolve(actor) -> None:
        try:
            stale = Case.objects.get(pk=case.pk)  # both read "open" before either writes
            try:
                result = case_transition(actor=actor, case=stale, transition="resolve")
                outcome: object = result.status
            except Exception as exc:  # the outcome is asserted below
                outcome = exc
            with outcomes_lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=resolve, args=(actor,)) for actor in (agent, supervisor)]
    # When: both start while the row is locked; leaving the block commits and lets them race
    try:
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=case.pk)
            for thread in threads:
                thread.start()
            wait_for_lock_waiters(2)
    finally:
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=60)
    # Then
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == 2
    succeeded = [o for o in outcomes if o == "resolved"]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(succeeded), len(refused)) == (1, 1), outcomes
    assert refused[0].code == "invalid_transition"
    assert Case.objects.get(pk=case.pk).status == "resolved"
    assert JourneyEvent.objects.filter(customer=customer, kind="case.resolved").count() == 1
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_case_references_are_unique_when_created_at_once(team_a):
    # Given: four integration clients creating cases at the same time
    customer = CustomerFactory(team=team_a)
    clients = [UserFactory(role="integration") for _ in range(4)]
    start = threading.Barrier(len(clients))
    errors: list[BaseException] = []

    def create_cases(actor) -> None:
        try:
            start.wait(timeout=30)
            for number in range(5):
                case_create(actor=actor, customer=customer, subject=f"Case {number} from {actor.username}")
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_cases, args=(client,)) for client in clients]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then
    assert errors == []
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == 20
    assert len(set(references)) == 20
    assert all(re.fullmatch(r"CS-\d{7}", reference) for reference in references)
    connection.close()


@pytest.mark.django_db
def test_case_references_follow_one_another(agent, customer):
    # When
    cases = [case_create(actor=agent, customer=customer, subject=f"Case {n}") for n in range(3)]
    # Then
    numbers = [int(case.reference.removeprefix("CS-")) for case in cases]
    assert all(re.fullmatch(r"CS-\d{7}", case.reference) for case in cases)
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
