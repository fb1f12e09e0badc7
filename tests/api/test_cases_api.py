"""REST API for cases: list, open, read, update, transitions, notes, linked interactions, SLA policies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.cases.models import Case, CaseNote
from records.cases.services import case_mark_breaches, case_transition
from records.customers.services import customer_merge
from records.journey.models import JourneyEvent
from tests.api.conftest import assert_error, fill, make_case, make_customer
from tests.records.factories import CaseFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/cases/{case_b}/", None),
    ("patch", "/api/v1/cases/{case_b}/", {"subject": "Changed"}),
    ("post", "/api/v1/cases/{case_b}/transitions/", {"transition": "open"}),
    ("get", "/api/v1/cases/{case_b}/notes/", None),
    ("post", "/api/v1/cases/{case_b}/notes/", {"body": "Called back"}),
    ("post", "/api/v1/cases/{case_b}/interactions/", {"interaction_id": "{interaction_b}"}),
]


def filled_body(body, world):
    if body is None:
        return None
    return {key: fill(value, world) if isinstance(value, str) else value for key, value in body.items()}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- Who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/cases/"), ("post", "/api/v1/cases/"), ("get", "/api/v1/sla-policies/")]
    + [e[:2] for e in ENDPOINTS],
)
def test_anonymous_requests_are_refused_with_401(anonymous, method, path):
    # When
    response = getattr(anonymous, method)(path.format(case_b="CS-0000001"), {}, format="json")
    # Then
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_agent_of_another_team_is_refused_with_403(client_for, agent, world, method, path, body):
    # When
    response = getattr(client_for(agent), method)(fill(path, world), filled_body(body, world), format="json")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This case belongs to a team you are not in."
    world.case_b.refresh_from_db()
    assert (world.case_b.subject, world.case_b.status, world.case_b.notes.count()) == (
        "Router keeps dropping",
        "new",
        0,
    )
    world.interaction_b.refresh_from_db()
    assert world.interaction_b.case_id is None


@pytest.mark.parametrize("case_key", ["987654", "CS-9999999"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_case_is_404(client_for, admin_user, world, method, path, body, case_key):
    # When
    response = getattr(client_for(admin_user), method)(
        path.format(case_b=case_key), filled_body(body, world), format="json"
    )
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == f"No case {case_key}."


@pytest.mark.parametrize("case_key", ["%C2%B2", "CS%00"])  # "²" is a digit to str.isdigit; NUL is refused by PostgreSQL
def test_a_case_key_that_is_no_id_nor_reference_is_404(client_for, admin_user, case_key):
    # When
    response = client_for(admin_user).get(f"/api/v1/cases/{case_key}/")
    # Then
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ["agent_b", "admin_user"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_the_agent_of_the_team_and_an_admin_are_served(client_for, request, world, method, path, body, role):
    # When: agent_b is in team B, the case's team
    client = client_for(request.getfixturevalue(role))
    response = getattr(client, method)(fill(path, world), filled_body(body, world), format="json")
    # Then
    assert response.status_code == (201 if path.endswith("notes/") and method == "post" else 200), response.content


def test_a_case_is_found_by_reference_in_any_case(client_for, agent, world):
    # When
    response = client_for(agent).get(f"/api/v1/cases/{world.case_a.reference.lower()}/")
    # Then
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["reference"]) == (world.case_a.pk, world.case_a.reference)


def test_the_assignee_sees_a_case_of_another_team(client_for, agent_b, world):
    # Given: a team A case assigned to agent_b
    case = CaseFactory(customer=world.customer_a, assignee=agent_b)
    # When
    response = client_for(agent_b).get(f"/api/v1/cases/{case.reference}/")
    listed = client_for(agent_b).get("/api/v1/cases/").json()
    # Then
    assert response.status_code == 200
    assert sorted(c["id"] for c in listed["results"]) == sorted([world.case_b.pk, case.pk])


# --- Create --------------------------------------------------------------------------------------


def test_an_agent_opens_a_case_with_the_sla_of_its_priority(client_for, agent, world):
    # Given
    SlaPolicyFactory(name="High", priority="high", first_response_minutes=30, resolution_minutes=240)
    # When
    response = client_for(agent).post(
        "/api/v1/cases/",
        {
            "customer": world.customer_a.pk,
            "subject": " No dial tone ",
            "description": "Since Monday",
            "category": "technical",
            "priority": "high",
            "assignee": agent.pk,
        },
        format="json",
    )
    # Then
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["reference"] == case.reference
    assert body["reference"].startswith("CS-")
    assert (body["subject"], body["category"], body["priority"], body["status"]) == (
        "No dial tone",
        "technical",
        "high",
        "new",
    )
    assert (body["customer"], body["customer_name"], body["team"], body["team_name"]) == (
        world.customer_a.pk,
        "Alice Smith",
        world.customer_a.team_id,
        "Team A",
    )
    assert (body["assignee"], body["assignee_username"]) == (agent.pk, "agent.a")
    assert body["allowed_transitions"] == ["open", "resolve"]
    assert body["interaction_ids"] == []
    # Due times count from creation (the row's created_at is stamped a moment after the service's clock read).
    created = at(body["created_at"])
    assert at(body["first_response_due_at"]) - created == pytest.approx(
        dt.timedelta(minutes=30), abs=dt.timedelta(seconds=1)
    )
    assert at(body["resolution_due_at"]) - created == pytest.approx(
        dt.timedelta(minutes=240), abs=dt.timedelta(seconds=1)
    )
    assert (body["first_response_breached"], body["resolution_breached"]) == (False, False)
    assert case.created_by == agent
    event = JourneyEvent.objects.filter(customer=world.customer_a, kind="case.created").latest("id")
    assert event.payload == {
        "case_id": case.pk,
        "reference": case.reference,
        "category": "technical",
        "priority": "high",
    }


def test_an_agent_cannot_open_a_case_for_another_teams_customer(client_for, agent, world):
    # When
    response = client_for(agent).post(
        "/api/v1/cases/", {"customer": world.customer_b.pk, "subject": "Hello"}, format="json"
    )
    # Then
    assert_error(response, 403, "forbidden")
    assert Case.objects.count() == 2


def test_an_agent_cannot_open_a_case_in_another_team(client_for, agent, world, team_b):
    # When
    response = client_for(agent).post(
        "/api/v1/cases/", {"customer": world.customer_a.pk, "subject": "Hello", "team": team_b.pk}, format="json"
    )
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "You cannot assign records to the team 'Team B': you are not in it."
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"customer", "subject"}),
        ({"customer": 987654, "subject": "Hello"}, {"customer"}),
        ({"customer": "{customer_a}", "subject": "   "}, {"subject"}),
        ({"customer": "{customer_a}", "subject": "s" * 201}, {"subject"}),
        ({"customer": "{customer_a}", "subject": "Hello", "priority": "asap"}, {"priority"}),
        ({"customer": "{customer_a}", "subject": "Hello", "category": "gossip"}, {"category"}),
        ({"customer": "{customer_a}", "subject": "Hello", "assignee": 987654}, {"assignee"}),
        ({"customer": "{customer_a}", "subject": "Hello", "sla_policy": 987654}, {"sla_policy"}),
        ({"customer": "{customer_a}", "subject": "Hello", "assignee": "{agent_b}"}, {"assignee"}),
    ],
)
def test_a_malformed_case_is_400_with_the_fields_and_nothing_is_written(
    client_for, agent, agent_b, world, body, fields
):
    # Given
    world.agent_b = agent_b
    # When
    response = client_for(agent).post("/api/v1/cases/", filled_body(body, world), format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert Case.objects.count() == 2


def test_a_case_for_a_merged_customer_is_a_409_conflict(client_for, admin_user, world, team_a):
    # Given
    survivor = make_customer(team_a, given_name="Alice", family_name="Smyth")
    customer_merge(actor=None, survivor_id=survivor.pk, merged_id=world.customer_a.pk)
    # When
    response = client_for(admin_user).post(
        "/api/v1/cases/", {"customer": world.customer_a.pk, "subject": "Hello"}, format="json"
    )
    # Then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == f"Customer {world.customer_a.pk} was merged into {survivor.pk}; open the case there."


# --- Update --------------------------------------------------------------------------------------


def test_changing_the_priority_retargets_the_sla_from_creation(client_for, agent, team_a):
    # Given
    SlaPolicyFactory(name="Normal", priority="normal", first_response_minutes=60, resolution_minutes=1440)
    SlaPolicyFactory(name="Urgent", priority="urgent", first_response_minutes=15, resolution_minutes=120)
    case = make_case(make_customer(team_a))
    # When
    response = client_for(agent).patch(
        f"/api/v1/cases/{case.pk}/", {"priority": "urgent", "description": "Customer is a hospital"}, format="json"
    )
    # Then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["priority"], body["description"]) == ("urgent", "Customer is a hospital")
    assert at(body["resolution_due_at"]) - at(body["created_at"]) == pytest.approx(
        dt.timedelta(minutes=120), abs=dt.timedelta(seconds=1)
    )
    event = JourneyEvent.objects.filter(kind="case.updated").get()
    assert sorted(event.payload["fields"]) == ["description", "priority"]


def test_an_agent_assigns_a_case_to_a_teammate(client_for, agent, supervisor, world):
    # When
    response = client_for(agent).patch(f"/api/v1/cases/{world.case_a.pk}/", {"assignee": supervisor.pk}, format="json")
    # Then
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["assignee_username"]) == (supervisor.pk, "supervisor.a")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"subject": ""}, {"subject"}),
        ({"priority": "asap"}, {"priority"}),
        ({"assignee": "{agent_b}"}, {"assignee"}),  # not in the case's team
        ({"team": "blue"}, {"team"}),
        ({"sla_policy": 987654}, {"sla_policy"}),
    ],
)
def test_a_malformed_update_is_400_and_changes_nothing(client_for, agent, agent_b, world, body, fields):
    # Given
    world.agent_b = agent_b
    # When
    response = client_for(agent).patch(f"/api/v1/cases/{world.case_a.pk}/", filled_body(body, world), format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    world.case_a.refresh_from_db()
    assert (world.case_a.subject, world.case_a.priority, world.case_a.assignee_id) == (
        "Router keeps dropping",
        "normal",
        None,
    )


def test_an_agent_cannot_move_a_case_to_another_team(client_for, agent, world, team_b):
    # When
    response = client_for(agent).patch(f"/api/v1/cases/{world.case_a.pk}/", {"team": team_b.pk}, format="json")
    # Then
    assert_error(response, 403, "forbidden")
    world.case_a.refresh_from_db()
    assert world.case_a.team.name == "Team A"


def test_a_closed_case_cannot_be_updated(client_for, agent, world):
    # Given
    case_transition(actor=None, case=world.case_a, transition="resolve")
    case_transition(actor=None, case=world.case_a, transition="close")
    # When
    response = client_for(agent).patch(f"/api/v1/cases/{world.case_a.pk}/", {"subject": "Later"}, format="json")
    # Then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == f"Case {world.case_a.reference} is closed; reopen it first."


# --- Transitions ---------------------------------------------------------------------------------


def test_a_case_walks_its_state_machine(client_for, agent, world):
    # Given
    client = client_for(agent)
    url = f"/api/v1/cases/{world.case_a.reference}/transitions/"
    walked = []
    # When
    for transition in ["open", "pend", "open", "resolve", "close", "reopen"]:
        response = client.post(url, {"transition": transition}, format="json")
        assert response.status_code == 200, response.content
        walked.append((response.json()["status"], response.json()["allowed_transitions"]))
    # Then
    assert walked == [
        ("open", ["pend", "resolve"]),
        ("pending", ["open", "resolve"]),
        ("open", ["pend", "resolve"]),
        ("resolved", ["close", "reopen"]),
        ("closed", ["reopen"]),
        ("open", ["pend", "resolve"]),
    ]
    world.case_a.refresh_from_db()
    assert (world.case_a.resolved_at, world.case_a.closed_at) == (None, None)
    assert world.case_a.first_responded_at is not None
    kinds = JourneyEvent.objects.filter(customer=world.customer_a, kind__startswith="case.").order_by("id")
    assert list(kinds.values_list("kind", flat=True)) == [
        "case.created",
        "case.open",
        "case.pending",
        "case.open",
        "case.resolved",
        "case.closed",
        "case.open",
    ]


def test_a_transition_with_a_note_adds_an_internal_note(client_for, agent, world):
    # When
    response = client_for(agent).post(
        f"/api/v1/cases/{world.case_a.pk}/transitions/",
        {"transition": "resolve", "note": "Replaced the router"},
        format="json",
    )
    # Then
    assert response.status_code == 200
    note = CaseNote.objects.get()
    assert (note.case_id, note.body, note.visibility, note.author) == (
        world.case_a.pk,
        "Replaced the router",
        "internal",
        agent,
    )


@pytest.mark.parametrize(
    ("done", "transition", "status", "allowed"),
    [
        ([], "close", "new", "open, resolve"),
        ([], "pend", "new", "open, resolve"),
        (["resolve"], "pend", "resolved", "close, reopen"),
        (["resolve", "close"], "resolve", "closed", "reopen"),
        (["open"], "reopen", "open", "pend, resolve"),
    ],
)
def test_an_invalid_transition_is_a_409_naming_the_allowed_ones(
    client_for, agent, world, done, transition, status, allowed
):
    # Given
    for step in done:
        case_transition(actor=None, case=world.case_a, transition=step)
    # When
    response = client_for(agent).post(
        f"/api/v1/cases/{world.case_a.pk}/transitions/", {"transition": transition}, format="json"
    )
    # Then
    error = assert_error(response, 409, "invalid_transition")
    assert error["message"] == (
        f"Case {world.case_a.reference} is {status}: it cannot {transition}. Allowed from {status}: {allowed}."
    )
    world.case_a.refresh_from_db()
    assert world.case_a.status == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "transition"),
        ({"transition": "fly"}, "transition"),
        ({"transition": ""}, "transition"),
        ({"transition": "open", "note": {"text": "hi"}}, "note"),
    ],
)
def test_a_malformed_transition_is_400(client_for, agent, world, body, field):
    # When
    response = client_for(agent).post(f"/api/v1/cases/{world.case_a.pk}/transitions/", body, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]
    world.case_a.refresh_from_db()
    assert world.case_a.status == "new"


# --- Notes ---------------------------------------------------------------------------------------


def test_notes_are_added_and_listed_in_order(client_for, agent, world):
    # Given
    SlaPolicyFactory(name="Normal", priority="normal", first_response_minutes=60, resolution_minutes=1440)
    case = make_case(world.customer_a)
    client = client_for(agent)
    url = f"/api/v1/cases/{case.reference}/notes/"
    # When
    internal = client.post(url, {"body": "  Checked the line  "}, format="json")
    external = client.post(url, {"body": "We are sending an engineer", "visibility": "external"}, format="json")
    listed = client.get(url)
    # Then
    assert internal.status_code == external.status_code == 201
    assert {k: internal.json()[k] for k in ("body", "visibility", "author", "author_username")} == {
        "body": "Checked the line",
        "visibility": "internal",
        "author": agent.pk,
        "author_username": "agent.a",
    }
    assert [(n["body"], n["visibility"]) for n in listed.json()] == [
        ("Checked the line", "internal"),
        ("We are sending an engineer", "external"),
    ]
    case.refresh_from_db()
    # An external note is the first response to the customer.
    assert case.first_responded_at == CaseNote.objects.get(visibility="external").created_at
    assert JourneyEvent.objects.filter(customer=world.customer_a, kind="case.note_added").count() == 2


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body"}),
        ({"body": ""}, {"body"}),
        ({"body": "Hi", "visibility": "public"}, {"visibility"}),
        ({"body": "Hi\x00"}, {"body"}),
    ],
)
def test_a_malformed_note_is_400(client_for, agent, world, body, fields):
    # When
    response = client_for(agent).post(f"/api/v1/cases/{world.case_a.pk}/notes/", body, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert CaseNote.objects.count() == 0


def test_a_closed_case_takes_no_notes(client_for, agent, world):
    # Given
    case_transition(actor=None, case=world.case_a, transition="resolve")
    case_transition(actor=None, case=world.case_a, transition="close")
    # When
    response = client_for(agent).post(f"/api/v1/cases/{world.case_a.pk}/notes/", {"body": "Late"}, format="json")
    # Then
    error = assert_error(response, 409, "conflict")
    assert error["message"] == f"Case {world.case_a.reference} is closed; reopen it to add notes."
    assert CaseNote.objects.count() == 0


# --- Linking interactions ------------------------------------------------------------------------


def test_an_interaction_is_linked_to_a_case(client_for, agent, world):
    # When
    response = client_for(agent).post(
        f"/api/v1/cases/{world.case_a.pk}/interactions/", {"interaction_id": world.interaction_a.pk}, format="json"
    )
    # Then
    assert response.status_code == 200
    assert response.json()["interaction_ids"] == [world.interaction_a.pk]
    world.interaction_a.refresh_from_db()
    assert world.interaction_a.case_id == world.case_a.pk
    event = JourneyEvent.objects.filter(kind="case.interaction_linked").get()
    assert event.payload == {"interaction_id": world.interaction_a.pk, "case_id": world.case_a.pk}


def test_an_interaction_of_another_customer_cannot_be_linked(client_for, admin_user, world):
    # When
    response = client_for(admin_user).post(
        f"/api/v1/cases/{world.case_a.pk}/interactions/", {"interaction_id": world.interaction_b.pk}, format="json"
    )
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"case": ["Another customer's case."]}
    world.interaction_b.refresh_from_db()
    assert world.interaction_b.case_id is None


def test_an_interaction_the_agent_may_not_see_cannot_be_linked(client_for, agent, world):
    # When
    response = client_for(agent).post(
        f"/api/v1/cases/{world.case_a.pk}/interactions/", {"interaction_id": world.interaction_b.pk}, format="json"
    )
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This interaction belongs to a team you are not in."


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({}, 400, {"interaction_id"}),
        ({"interaction_id": "first"}, 400, {"interaction_id"}),
        ({"interaction_id": 987654}, 404, None),
    ],
)
def test_a_malformed_or_unknown_interaction_is_refused(client_for, agent, world, body, status, fields):
    # When
    response = client_for(agent).post(f"/api/v1/cases/{world.case_a.pk}/interactions/", body, format="json")
    # Then
    error = assert_error(response, status)
    assert (set(error["fields"]) if "fields" in error else None) == fields


# --- List: filters, ordering, search, pagination -------------------------------------------------


@pytest.fixture
def cases(team_a):
    """Four team A cases made in this order: low/new, high/open, urgent/resolved, normal/pending+breached."""
    SlaPolicyFactory(name="Normal", priority="normal", first_response_minutes=60, resolution_minutes=1440)
    alice = make_customer(team_a, given_name="Alice", family_name="Smith")
    bob = make_customer(team_a, given_name="Bob", family_name="Brown")
    low = make_case(alice, subject="Leaflet request", priority="low", category="general")
    high = make_case(alice, subject="Broadband outage", priority="high", category="technical")
    urgent = make_case(bob, subject="Double charged", priority="urgent", category="billing")
    normal = make_case(bob, subject="Broadband slow", priority="normal", category="technical")
    case_transition(actor=None, case=high, transition="open")
    case_transition(actor=None, case=urgent, transition="resolve")
    case_transition(actor=None, case=normal, transition="open")
    case_transition(actor=None, case=normal, transition="pend")
    # Only the normal case has an SLA; two days on, it is breached.
    assert case_mark_breaches(now=timezone.now() + dt.timedelta(days=2)) == 1
    return {"low": low, "high": high, "urgent": urgent, "normal": normal, "alice": alice, "bob": bob}


def listed(client, **params) -> list[str]:
    response = client.get("/api/v1/cases/", params)
    assert response.status_code == 200, response.content
    return [case["subject"] for case in response.json()["results"]]


def test_the_list_is_newest_first_and_only_visible_cases(client_for, agent, world, cases):
    # When
    body = client_for(agent).get("/api/v1/cases/").json()
    # Then: team B's case is not there
    assert body["count"] == 5
    assert [c["subject"] for c in body["results"]] == [
        "Broadband slow",
        "Double charged",
        "Broadband outage",
        "Leaflet request",
        "Router keeps dropping",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "pending"}, ["Broadband slow"]),
        ({"status": ["new", "resolved"]}, ["Double charged", "Leaflet request"]),
        ({"priority": "high"}, ["Broadband outage"]),
        ({"priority": ["low", "urgent"]}, ["Double charged", "Leaflet request"]),
        ({"category": "technical"}, ["Broadband slow", "Broadband outage"]),
        ({"breached": "true"}, ["Broadband slow"]),
        ({"breached": "false"}, ["Double charged", "Broadband outage", "Leaflet request"]),
        ({"status": "open", "priority": "normal"}, []),
    ],
)
def test_filters_narrow_the_list(client_for, agent, cases, params, expected):
    assert listed(client_for(agent), **params) == expected


def test_filters_by_customer_team_and_assignee(client_for, admin_user, agent, world, cases):
    # Given
    CaseFactory(customer=world.customer_a, subject="Assigned", assignee=agent)
    client = client_for(admin_user)
    # Then
    assert listed(client, customer=cases["bob"].pk) == ["Broadband slow", "Double charged"]
    assert listed(client, team=world.customer_b.team_id) == ["Router keeps dropping"]
    assert listed(client, assignee=agent.pk) == ["Assigned"]
    assert len(listed(client, created_after=(timezone.now() + dt.timedelta(minutes=5)).isoformat())) == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"priority": "asap"}, "priority"),
        ({"customer": "alice"}, "customer"),
        ({"created_before": "soon"}, "created_before"),
        ({"breached": "maybe"}, "breached"),
    ],
)
def test_a_malformed_filter_is_400_with_the_field(client_for, agent, params, field):
    # When
    response = client_for(agent).get("/api/v1/cases/", params)
    # Then
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("reference", ["Leaflet request", "Broadband outage", "Double charged", "Broadband slow"]),
        ("-reference", ["Broadband slow", "Double charged", "Broadband outage", "Leaflet request"]),
        ("created_at", ["Leaflet request", "Broadband outage", "Double charged", "Broadband slow"]),
        # By urgency, not alphabetically (high, low, normal, urgent)
        ("-priority", ["Double charged", "Broadband outage", "Broadband slow", "Leaflet request"]),
        ("priority", ["Leaflet request", "Broadband slow", "Broadband outage", "Double charged"]),
    ],
)
def test_the_list_is_ordered_as_asked(client_for, agent, cases, ordering, expected):
    assert listed(client_for(agent), ordering=ordering) == expected


@pytest.mark.parametrize("ordering", ["no_such_field", "reference,-nope", "-", "priority_rank"])
def test_an_unknown_ordering_is_400_naming_the_fields(client_for, agent, cases, ordering):
    # When a client orders by a field the list has not (or by the rank behind an alias)
    response = client_for(agent).get("/api/v1/cases/", {"ordering": ordering})
    # Then it is refused, not ignored, and told what it may order by
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["ordering"]
    assert "order by one of created_at, updated_at, priority" in error["fields"]["ordering"][0]


def test_search_matches_subject_and_reference(client_for, agent, world, cases):
    # Given
    client = client_for(agent)
    # Then
    assert listed(client, search="broadband") == ["Broadband slow", "Broadband outage"]
    assert listed(client, search=cases["urgent"].reference.lower()) == ["Double charged"]
    assert listed(client, search=world.case_b.reference) == []  # another team's


def test_the_list_is_paginated(client_for, agent, cases):
    # When
    client = client_for(agent)
    first = client.get("/api/v1/cases/", {"page_size": 3}).json()
    second = client.get("/api/v1/cases/", {"page_size": 3, "page": 2}).json()
    # Then
    assert (first["count"], len(first["results"])) == (4, 3)
    assert first["next"] == "http://testserver/api/v1/cases/?page=2&page_size=3"
    assert ([c["subject"] for c in second["results"]], second["next"]) == (["Leaflet request"], None)


# --- SLA policies --------------------------------------------------------------------------------


def test_sla_policies_lists_the_active_ones(client_for, agent):
    # Given
    SlaPolicyFactory(name="Normal", priority="normal", first_response_minutes=60, resolution_minutes=1440)
    SlaPolicyFactory(name="Urgent", priority="urgent", first_response_minutes=15, resolution_minutes=120)
    SlaPolicyFactory(name="Old", priority="low", is_default_for_priority=False, is_active=False)
    # When
    response = client_for(agent).get("/api/v1/sla-policies/")
    # Then
    assert response.status_code == 200
    assert [
        (p["name"], p["priority"], p["first_response_minutes"], p["resolution_minutes"]) for p in response.json()
    ] == [
        ("Normal", "normal", 60, 1440),
        ("Urgent", "urgent", 15, 120),
    ]


def test_an_agent_cannot_leave_a_case_without_a_team(client_for, agent, world):
    # When: a case without a team would be hidden from every team
    response = client_for(agent).patch(f"/api/v1/cases/{world.case_a.pk}/", {"team": None}, format="json")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "Only an administrator can leave a record without a team."
    world.case_a.refresh_from_db()
    assert world.case_a.team.name == "Team A"
