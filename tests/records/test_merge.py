"""Customer merge and duplicate candidates: nothing lost, history kept, tombstones that still resolve."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from records.audit.selectors import audit_trail
from records.cases.models import Case
from records.cases.services import case_create
from records.customers.models import Consent, Customer, CustomerStatus
from records.customers.selectors import customer_duplicate_candidates
from records.customers.services import customer_create, customer_merge, customer_set_consent, customer_update
from records.identities.models import Identity
from records.identities.services import identity_add
from records.interactions.models import Interaction
from records.interactions.services import interaction_record
from records.journey.models import JourneyEvent
from records.journey.selectors import journey_timeline
from tests.records.db_locks import wait_for_lock_waiters
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CONSENT_TIME = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def _table_counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "cases": Case.objects.count(),
        "interactions": Interaction.objects.count(),
        "journey_events": JourneyEvent.objects.count(),
        "consents": Consent.objects.count(),
    }


@pytest.fixture
def survivor(supervisor, team_a):
    customer = customer_create(
        actor=supervisor,
        given_name="Alice",
        family_name="Smith",
        email="alice@example.com",
        team=team_a,
        preferences={"contact_time": "morning", "newsletter": "weekly"},
    )
    case_create(actor=supervisor, customer=customer, subject="Broadband slow")
    customer_set_consent(
        actor=supervisor,
        customer=customer,
        channel="email",
        purpose="marketing",
        granted=False,
        given_at=CONSENT_TIME,
        source="web form",
    )
    return customer


@pytest.fixture
def duplicate(supervisor, team_a):
    """The same person recorded twice: other identifiers, their own cases, conversations and consents."""
    customer = customer_create(
        actor=supervisor,
        given_name="Alice",
        family_name="Smyth",
        phone="07911 123456",
        city="Leeds",
        postcode="LS1 4AP",
        date_of_birth=dt.date(1990, 5, 17),
        segment="retail",
        team=team_a,
        preferences={"contact_time": "evening", "callback": "yes"},
        identities=[{"kind": "account", "value": "ACC-778899"}],
    )
    first = case_create(actor=supervisor, customer=customer, subject="Bill too high", category="billing")
    case_create(actor=supervisor, customer=customer, subject="Move house", category="account")
    now = timezone.now()
    interaction_record(
        actor=supervisor,
        customer=customer,
        channel="voice",
        started_at=now - dt.timedelta(minutes=12),
        ended_at=now - dt.timedelta(minutes=2),
        case=first,
        external_id="call-1",
    )
    interaction_record(
        actor=supervisor,
        customer=customer,
        channel="chat",
        started_at=now - dt.timedelta(minutes=30),
        ended_at=now - dt.timedelta(minutes=25),
        external_id="chat-1",
    )
    # The same channel/purpose as the survivor's: the survivor's own answer must win.
    customer_set_consent(
        actor=supervisor, customer=customer, channel="email", purpose="marketing", granted=True, source="call"
    )
    customer_set_consent(
        actor=supervisor, customer=customer, channel="sms", purpose="service", granted=True, source="call"
    )
    return customer


# --- Merge: what moves --------------------------------------------------------------------


def test_merge_moves_every_row_and_loses_nothing(supervisor, survivor, duplicate):
    # Given
    before = _table_counts()
    identity_ids = _ids(Identity.objects.filter(customer__in=[survivor, duplicate]))
    case_ids = _ids(Case.objects.filter(customer__in=[survivor, duplicate]))
    interaction_ids = _ids(Interaction.objects.filter(customer__in=[survivor, duplicate]))
    event_ids = _ids(JourneyEvent.objects.filter(customer__in=[survivor, duplicate]))
    # When
    result = customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then: one journey event more, one consent fewer (the duplicate's answer on email/marketing), nothing else
    assert result.pk == survivor.pk
    assert _table_counts() == {**before, "journey_events": before["journey_events"] + 1, "consents": 2}
    assert (before["identities"], before["cases"], before["interactions"], before["consents"]) == (3, 3, 2, 3)
    assert _ids(survivor.identities.all()) == identity_ids
    assert _ids(survivor.cases.all()) == case_ids
    assert _ids(survivor.interactions.all()) == interaction_ids
    merged_event = JourneyEvent.objects.get(kind="customer.merged")
    assert _ids(survivor.journey_events.all()) == event_ids | {merged_event.pk}
    for related in (duplicate.identities, duplicate.cases, duplicate.interactions, duplicate.journey_events):
        assert related.count() == 0


def test_merge_moves_identities_as_secondary_so_the_survivor_keeps_its_primaries(supervisor, survivor, duplicate):
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then
    assert sorted(survivor.identities.values_list("kind", "value", "is_primary")) == [
        ("account", "ACC778899", False),
        ("email", "alice@example.com", True),
        ("phone", "+447911123456", False),
    ]


def test_merge_keeps_the_survivors_own_consent_on_the_same_channel_and_purpose(supervisor, survivor, duplicate):
    # Given
    own = Consent.objects.get(customer=survivor, channel="email", purpose="marketing")
    theirs_sms = Consent.objects.get(customer=duplicate, channel="sms", purpose="service")
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then
    assert sorted(survivor.consents.values_list("pk", "channel", "purpose", "granted", "given_at", "source")) == sorted(
        [
            (own.pk, "email", "marketing", False, CONSENT_TIME, "web form"),
            (theirs_sms.pk, "sms", "service", True, theirs_sms.given_at, "call"),
        ]
    )
    assert duplicate.consents.count() == 0


def test_merge_fills_only_the_survivors_blank_fields(supervisor, survivor, duplicate):
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then: the survivor's values stay, its blanks take the duplicate's, dictionaries combine (survivor wins)
    survivor.refresh_from_db()
    assert (survivor.given_name, survivor.family_name, survivor.search_name) == ("Alice", "Smith", "alice smith")
    assert (survivor.email, survivor.phone) == ("alice@example.com", "+447911123456")
    assert (survivor.city, survivor.postcode, survivor.date_of_birth) == ("Leeds", "LS1 4AP", dt.date(1990, 5, 17))
    assert survivor.segment == "retail"
    assert survivor.preferences == {"contact_time": "morning", "newsletter": "weekly", "callback": "yes"}
    assert survivor.status == CustomerStatus.ACTIVE
    assert survivor.merged_into_id is None


def test_merge_leaves_a_tombstone_pointing_to_the_survivor(supervisor, survivor, duplicate):
    # Given
    started = timezone.now()
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then: the duplicate's row still exists, its own data untouched, marked and pointing on
    duplicate.refresh_from_db()
    assert duplicate.status == CustomerStatus.MERGED
    assert duplicate.merged_into_id == survivor.pk
    assert started <= duplicate.merged_at <= timezone.now()
    assert (duplicate.given_name, duplicate.family_name, duplicate.phone) == ("Alice", "Smyth", "+447911123456")
    assert list(survivor.merged_customers.values_list("pk", flat=True)) == [duplicate.pk]


def test_merge_records_a_journey_event_with_the_counts(supervisor, survivor, duplicate):
    # Given
    duplicate_events = duplicate.journey_events.count()
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then
    event = JourneyEvent.objects.get(kind="customer.merged")
    assert event.customer_id == survivor.pk
    assert event.source_system == "records"
    assert event.summary == f"Customer Alice Smyth (id {duplicate.pk}) merged into this one"
    assert event.payload == {
        "merged_id": duplicate.pk,
        "moved": {
            "identities": 2,
            "cases": 2,
            "interactions": 2,
            "journey_events": duplicate_events,
            "consents": 1,
        },
        "filled_fields": ["date_of_birth", "phone", "city", "postcode", "preferences", "segment"],
    }
    # The newest event of the survivor's timeline is the merge; the duplicate's story is in it too.
    timeline = journey_timeline(customer_id=survivor.pk, limit=100)
    assert timeline[0].pk == event.pk
    assert "Customer Alice Smyth created" in [e.summary for e in timeline]
    assert journey_timeline(customer_id=duplicate.pk) == []


def test_merge_re_points_earlier_tombstones_to_the_new_survivor(supervisor, team_a):
    # Given: B was merged into A; now A is merged into C
    first, second, third = (
        customer_create(actor=supervisor, given_name=name, family_name="Jones", team=team_a)
        for name in ("Ann", "Bea", "Cat")
    )
    customer_merge(actor=supervisor, survivor_id=first.pk, merged_id=second.pk)
    # When
    customer_merge(actor=supervisor, survivor_id=third.pk, merged_id=first.pk)
    # Then: every tombstone of the chain points straight at the last survivor
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.status, second.merged_into_id) == (CustomerStatus.MERGED, third.pk)
    assert (first.status, first.merged_into_id) == (CustomerStatus.MERGED, third.pk)
    assert set(third.merged_customers.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Customer.objects.filter(merged_into=first).count() == 0


def test_an_integration_client_may_merge(integration_user, survivor, duplicate):
    # When
    customer_merge(actor=integration_user, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (CustomerStatus.MERGED, survivor.pk)


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_the_same_pair_in_opposite_directions_one_wins(supervisor, admin_user, team_a):
    # Given: two records of one person, held locked so that both merges queue on them together
    first = customer_create(actor=supervisor, given_name="Eve", family_name="Moneypenny", team=team_a)
    second = customer_create(actor=supervisor, given_name="Eve", family_name="Moneypenny", team=team_a)
    outcomes: dict[str, object] = {}

    def merge(name: str, actor, survivor: Customer, merged: Customer) -> None:
        try:
            outcomes[name] = customer_merge(actor=actor, survivor_id=survivor.pk, merged_id=merged.pk).pk
        except Exception as exc:  # the outcome is asserted below
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=("into first", supervisor, first, second)),
        threading.Thread(target=merge, args=("into second", admin_user, second, first)),
    ]
    # When
    try:
        with transaction.atomic():
            list(Customer.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk"))
            for thread in threads:
                thread.start()
            wait_for_lock_waiters(2)
    finally:
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=60)
    # Then: rows locked in id order — no deadlock; the loser finds a tombstone
    assert sorted(outcomes) == ["into first", "into second"]
    won = [name for name, outcome in outcomes.items() if isinstance(outcome, int)]
    lost = [outcome for outcome in outcomes.values() if not isinstance(outcome, int)]
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], Conflict), repr(lost[0])
    survivor_id = outcomes[won[0]]
    assert list(Customer.objects.filter(status=CustomerStatus.ACTIVE).values_list("pk", flat=True)) == [survivor_id]
    assert JourneyEvent.objects.filter(kind="customer.merged").count() == 1
    connection.close()


# --- Merge: history kept ------------------------------------------------------------------


def test_merge_keeps_the_audit_history_of_both_customers_and_of_the_identity_moves(supervisor, survivor, duplicate):
    # Given
    moved_identities = _ids(duplicate.identities.all())
    # When
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then: the tombstone's trail still has its creation and now its merge, by the supervisor
    tombstone_trail = audit_trail(objs=[Customer.objects.get(pk=duplicate.pk)])
    own = [e for e in tombstone_trail if e.model == "records.CustomerEvent"]
    assert [e.label for e in own] == ["update", "insert"]
    assert own[0].object_id == str(duplicate.pk)
    assert own[0].username == "supervisor.a"
    assert set(own[0].changes) == {"status", "merged_into_id", "merged_at"}
    assert own[0].changes["status"] == ["active", "merged"]
    assert own[0].changes["merged_into_id"] == [None, survivor.pk]
    assert own[1].changes["family_name"] == [None, "Smyth"]
    # … and the insert of the identities it had, while they were its own
    inserted_there = {int(e.object_id) for e in tombstone_trail if e.model == "records.IdentityEvent"}
    assert inserted_there == moved_identities
    # The survivor's trail shows each identity moving over, with who did it
    moves = [
        e
        for e in audit_trail(objs=[survivor])
        if e.model == "records.IdentityEvent" and e.label == "update" and "customer_id" in e.changes
    ]
    assert {int(e.object_id) for e in moves} == moved_identities
    for move in moves:
        assert move.changes["customer_id"] == [duplicate.pk, survivor.pk]
        assert move.user_id == supervisor.pk


# --- Merge: what is refused ---------------------------------------------------------------


def test_an_agent_cannot_merge_and_nothing_changes(agent, survivor, duplicate):
    # Given
    before = _table_counts()
    # When
    with pytest.raises(PermissionDenied):
        customer_merge(actor=agent, survivor_id=survivor.pk, merged_id=duplicate.pk)
    # Then
    assert _table_counts() == before
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (CustomerStatus.ACTIVE, None)
    assert duplicate.identities.count() == 2


def test_a_customer_cannot_be_merged_into_itself(supervisor, survivor):
    # When
    with pytest.raises(ValidationFailed) as refused:
        customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=survivor.pk)
    # Then
    assert refused.value.fields == {"merged_id": ["Same as survivor."]}
    survivor.refresh_from_db()
    assert survivor.status == CustomerStatus.ACTIVE


def test_an_already_merged_customer_cannot_be_merged_again_either_way(supervisor, survivor, duplicate, team_a):
    # Given
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    third = customer_create(actor=supervisor, given_name="Carol", family_name="King", team=team_a)
    before = _table_counts()
    # When / Then: the tombstone as the one merged away, and as the survivor
    with pytest.raises(Conflict) as as_merged:
        customer_merge(actor=supervisor, survivor_id=third.pk, merged_id=duplicate.pk)
    with pytest.raises(Conflict) as as_survivor:
        customer_merge(actor=supervisor, survivor_id=duplicate.pk, merged_id=third.pk)
    assert as_merged.value.message == f"Customer {duplicate.pk} is already merged into {survivor.pk}."
    assert as_survivor.value.message == f"Customer {duplicate.pk} is already merged into {survivor.pk}."
    assert _table_counts() == before
    third.refresh_from_db()
    assert third.status == CustomerStatus.ACTIVE


@pytest.mark.parametrize("missing", ["survivor", "merged"])
def test_merging_an_unknown_customer_is_not_found(supervisor, survivor, missing):
    # Given
    unknown = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    ids = {"survivor_id": survivor.pk, "merged_id": survivor.pk}
    ids[f"{missing}_id"] = unknown
    # When
    with pytest.raises(NotFound) as refused:
        customer_merge(actor=supervisor, **ids)
    # Then: the message names the id that does not exist
    assert refused.value.message == f"No customer with id {unknown}."
    survivor.refresh_from_db()
    assert survivor.status == CustomerStatus.ACTIVE


def test_a_tombstone_cannot_be_updated(supervisor, survivor, duplicate):
    # Given
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    duplicate.refresh_from_db()
    # When
    with pytest.raises(Conflict) as refused:
        customer_update(actor=supervisor, customer=duplicate, city="York")
    # Then
    assert refused.value.message == f"Customer {duplicate.pk} was merged into {survivor.pk}; edit that one."
    duplicate.refresh_from_db()
    assert duplicate.city == "Leeds"


def test_no_case_can_be_opened_on_a_tombstone(supervisor, survivor, duplicate):
    # Given
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    duplicate.refresh_from_db()
    cases = Case.objects.count()
    # When
    with pytest.raises(Conflict):
        case_create(actor=supervisor, customer=duplicate, subject="Late")
    # Then
    assert Case.objects.count() == cases


# --- Duplicate candidates -----------------------------------------------------------------


def _candidates(customer: Customer) -> list[tuple[int, float, list[str]]]:
    return [
        (c.customer.pk, c.score, c.reasons)
        for c in customer_duplicate_candidates(customer=customer, within=Customer.objects.all())
    ]


def test_same_contact_email_or_phone_makes_a_candidate():
    # Given: records imported twice with the same contact data (no identities)
    customer = CustomerFactory(given_name="Peter", family_name="Parker", email="pp@example.com", phone="+447700900001")
    same_email = CustomerFactory(given_name="Mary", family_name="Watson", email="pp@example.com")
    same_phone = CustomerFactory(given_name="Ben", family_name="Riley", phone="+447700900001")
    CustomerFactory(given_name="Otto", family_name="Octavius", email="oo@example.com", phone="+447700900002")
    # When
    candidates = _candidates(customer)
    # Then
    assert candidates == [
        (same_email.pk, pytest.approx(0.6), ["same email pp@example.com"]),
        (same_phone.pk, pytest.approx(0.6), ["same phone +447700900001"]),
    ]


def test_a_contact_value_that_is_another_customers_identity_makes_a_candidate(agent):
    # Given: an imported record whose contact data are identities of an existing customer
    existing = CustomerFactory(given_name="Bruce", family_name="Wayne")
    identity_add(actor=agent, customer=existing, kind="email", value="bw@example.com")
    identity_add(actor=agent, customer=existing, kind="phone", value="+447911123457")
    imported = CustomerFactory(given_name="B", family_name="Wayne-Ent", email="bw@example.com", phone="+447911123457")
    # When / Then: seen from the import …
    assert _candidates(imported) == [
        (existing.pk, pytest.approx(1.0), ["contact email is their identity", "contact phone is their identity"])
    ]
    # … and from the existing customer, whose identities are the import's contact data
    assert _candidates(existing) == [
        (imported.pk, pytest.approx(1.0), ["same email bw@example.com", "same phone +447911123457"])
    ]


def test_similar_names_are_strengthened_by_date_of_birth_and_postcode_and_ranked():
    # Given
    birthday = dt.date(1985, 2, 14)
    customer = CustomerFactory(given_name="Alice", family_name="Smith", date_of_birth=birthday, postcode="LS1 4AP")
    name_dob_postcode = CustomerFactory(
        given_name="Alicia", family_name="Smith", date_of_birth=birthday, postcode="ls14ap"
    )
    same_email = CustomerFactory(given_name="Zed", family_name="Quinn", email="alice@example.com")
    customer.email = "alice@example.com"
    customer.save(update_fields=["email"])
    name_dob = CustomerFactory(given_name="Alice", family_name="Smithe", date_of_birth=birthday)
    name_only = CustomerFactory(given_name="Alice", family_name="Smyth", date_of_birth=dt.date(1970, 1, 1))
    CustomerFactory(given_name="Bob", family_name="Jones", date_of_birth=birthday, postcode="LS1 4AP")
    # When
    candidates = _candidates(customer)
    # Then: best first; pg_trgm similarity of the names is 0.667, 0.786 and 0.6
    assert candidates == [
        (
            name_dob_postcode.pk,
            pytest.approx(0.3 * 2 / 3 + 0.3 + 0.2, abs=1e-6),
            ["similar name (0.67), same date of birth, same postcode"],
        ),
        (same_email.pk, pytest.approx(0.6), ["same email alice@example.com"]),
        (name_dob.pk, pytest.approx(0.3 * 11 / 14 + 0.3, abs=1e-6), ["similar name (0.79), same date of birth"]),
        (name_only.pk, pytest.approx(0.3 * 0.6, abs=1e-6), ["similar name (0.60)"]),
    ]


def test_candidates_exclude_the_customer_itself_and_tombstones(supervisor, team_a):
    # Given: two records of the same person, one already merged away
    customer = customer_create(actor=supervisor, given_name="Diana", family_name="Prince", team=team_a)
    kept = customer_create(actor=supervisor, given_name="Diana", family_name="Prince", team=team_a)
    merged = customer_create(actor=supervisor, given_name="Diana", family_name="Prince", team=team_a)
    customer_merge(actor=supervisor, survivor_id=kept.pk, merged_id=merged.pk)
    # When
    candidates = _candidates(customer)
    # Then
    assert candidates == [(kept.pk, pytest.approx(0.3), ["similar name (1.00)"])]


def test_candidates_are_limited_and_look_only_within_the_given_customers(team_a, team_b):
    # Given: five namesakes, three in team A
    customer = CustomerFactory(given_name="John", family_name="Doe", team=team_a)
    in_a = [CustomerFactory(given_name="John", family_name="Doe", team=team_a) for _ in range(3)]
    for _ in range(2):
        CustomerFactory(given_name="John", family_name="Doe", team=team_b)
    # When
    within_a = customer_duplicate_candidates(customer=customer, within=Customer.objects.filter(team=team_a))
    limited = customer_duplicate_candidates(customer=customer, within=Customer.objects.all(), limit=2)
    # Then: equal scores are ranked by id
    assert [c.customer.pk for c in within_a] == [c.pk for c in in_a]
    assert [c.customer.pk for c in limited] == [c.pk for c in in_a[:2]]


def test_a_customer_with_nothing_in_common_has_no_candidates():
    # Given
    customer = CustomerFactory(given_name="Wanda", family_name="Maximoff", email="wm@example.com")
    CustomerFactory(given_name="Tony", family_name="Stark", email="ts@example.com")
    # When / Then
    assert _candidates(customer) == []
