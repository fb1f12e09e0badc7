"""The browser pages of the System of Record: search, the customer 360° page, the case page (htmx)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from records.cases.models import Case, CaseNote
from records.cases.services import case_create, case_transition
from records.customers.services import customer_create, customer_merge, customer_set_consent
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.records.factories import SlaPolicyFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
INLINE_TAGS = {"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "time"}


class _ByTestId(HTMLParser):
    """Collects the attributes and the whitespace-normalised text of every element with a given data-testid."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.found: list[dict] = []
        self._open: list[list] = []  # [depth, parts, attrs] of each matching element still open

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._separate(tag)
        if tag not in VOID_TAGS:
            for element in self._open:
                element[0] += 1
        if attributes.get("data-testid") == self.testid:
            if tag in VOID_TAGS:
                self.found.append({"attrs": attributes, "text": ""})
            else:
                self._open.append([1, [], attributes])

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        self._separate(tag)
        still_open = []
        for element in self._open:
            element[0] -= 1
            if element[0] == 0:
                self.found.append({"attrs": element[2], "text": " ".join("".join(element[1]).split())})
            else:
                still_open.append(element)
        self._open = still_open

    def handle_data(self, data):
        for element in self._open:
            element[1].append(data)

    def _separate(self, tag: str) -> None:
        # Block elements (cells, list items, paragraphs …) read as separate words; inline ones do not.
        if tag not in INLINE_TAGS:
            self.handle_data(" ")


def by_testid(response, testid: str) -> list[dict]:
    parser = _ByTestId(testid)
    parser.feed(response.content.decode())
    parser.close()
    return parser.found


def text_of(response, testid: str) -> str:
    (element,) = by_testid(response, testid)
    return element["text"]


def _customer(actor, team, given_name="Alice", family_name="Smith", **fields):
    return customer_create(actor=actor, given_name=given_name, family_name=family_name, team=team, **fields)


# --- Anonymous ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/customers/", "/customers/1/", "/customers/1/timeline/", "/cases/CS-0000001/"])
def test_anonymous_pages_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.django_db
def test_anonymous_actions_redirect_to_login_and_change_nothing(client, agent, team_a):
    # Given
    customer = _customer(agent, team_a)
    case = case_create(actor=agent, customer=customer, subject="Broken router")
    # When
    transition = client.post(f"/cases/{case.reference}/transition/", {"transition": "open"}, **HTMX)
    create = client.post(f"/customers/{customer.pk}/cases/new/", {"subject": "x", "category": "general"}, **HTMX)
    # Then
    assert transition.status_code == 302
    assert transition["Location"] == f"/accounts/login/?next=/cases/{case.reference}/transition/"
    assert create.status_code == 302
    case.refresh_from_db()
    assert case.status == "new"
    assert Case.objects.count() == 1


# --- Customer search --------------------------------------------------------------------------


@pytest.fixture
def searchable(agent, agent_b, team_a, team_b):
    alice = _customer(
        agent,
        team_a,
        email="alice@example.com",
        phone="07911 123456",
        identities=[{"kind": "account", "value": "acc-0042"}],
    )
    bob = _customer(agent, team_a, given_name="Bob", family_name="Jones", email="bob@example.com")
    # Another team's customer with a similar name, email domain and all.
    alicia = _customer(agent_b, team_b, given_name="Alicia", family_name="Smithers", email="alicia@example.com")
    return alice, bob, alicia


def _found(client, text: str) -> list[int]:
    response = client.get("/customers/", {"q": text})
    assert response.status_code == 200
    return [customer.pk for customer in response.context["page"]]


@pytest.mark.django_db
def test_search_finds_by_name_email_and_identity(client, agent, searchable):
    # Given
    alice, bob, _ = searchable
    client.force_login(agent)
    # When / Then
    assert _found(client, "smi") == [alice.pk]
    assert _found(client, "Alice Smith") == [alice.pk]
    assert _found(client, "BOB@example.com") == [bob.pk]
    assert _found(client, "acc-0042") == [alice.pk]  # an account number, as typed with a dash
    assert _found(client, "+44 7911 123456") == [alice.pk]  # a phone identity
    assert _found(client, "nobody-at-all") == []


@pytest.mark.django_db
def test_search_shows_only_the_customers_of_the_users_teams(client, agent, agent_b, admin_user, searchable):
    # Given
    alice, bob, alicia = searchable
    # When / Then: "smith" matches Alice (team A) and Alicia Smithers (team B)
    client.force_login(agent)
    assert _found(client, "smith") == [alice.pk]
    assert _found(client, "alicia@example.com") == []
    assert _found(client, "") == [bob.pk, alice.pk]  # ordered by family name
    client.force_login(agent_b)
    assert _found(client, "smith") == [alicia.pk]
    client.force_login(admin_user)
    assert _found(client, "smith") == [alice.pk, alicia.pk]


@pytest.mark.django_db
def test_search_results_link_to_the_360_page(client, agent, searchable):
    # Given
    alice, _, _ = searchable
    client.force_login(agent)
    # When
    response = client.get("/customers/", {"q": "alice@example.com"})
    # Then
    page = response.content.decode()
    assert f'href="/customers/{alice.pk}/"' in page
    assert text_of(response, "customer-results") == (
        "Name Email Phone Tier Team Alice Smith alice@example.com +447911123456 Standard Team A"
    )


@pytest.mark.django_db
def test_search_without_a_match_says_so(client, agent, searchable):
    client.force_login(agent)
    response = client.get("/customers/", {"q": "zebra"})
    assert text_of(response, "customer-results") == "Name Email Phone Tier Team No customer matches “zebra”."


# --- Customer 360 -----------------------------------------------------------------------------


@pytest.fixture
def alice_360(agent, team_a):
    alice = _customer(
        agent,
        team_a,
        email="alice@example.com",
        phone="07911 123456",
        identities=[{"kind": "account", "value": "acc-0042"}],
    )
    customer_set_consent(actor=agent, customer=alice, channel="email", purpose="marketing", granted=True)
    customer_set_consent(actor=agent, customer=alice, channel="sms", purpose="service", granted=False)
    open_case = case_create(actor=agent, customer=alice, subject="Router keeps dropping", category="technical")
    done = case_create(actor=agent, customer=alice, subject="Old bill question", category="billing")
    case_transition(actor=agent, case=done, transition="resolve")
    return alice, open_case, done


@pytest.mark.django_db
def test_the_360_page_shows_identities_consents_open_cases_and_timeline(client, agent, alice_360):
    # Given
    alice, open_case, done = alice_360
    client.force_login(agent)
    # When
    response = client.get(f"/customers/{alice.pk}/")
    # Then
    assert response.status_code == 200
    (page,) = by_testid(response, "customer-360")
    assert page["attrs"]["data-customer-id"] == str(alice.pk)
    assert text_of(response, "customer-identities").startswith(
        "Identities Account number ACC0042 Email alice@example.com primary Phone (E.164) +447911123456 primary"
    )
    consents = text_of(response, "customer-consents")
    today = timezone.now().strftime("%Y-%m-%d")
    assert consents == f"Consent Email · Marketing: yes {today} SMS · Service messages: no {today}"
    cases = text_of(response, "customer-cases")
    assert cases.startswith(f"Open cases 2 in all Case Subject Status Priority Due {open_case.reference}")
    assert "Router keeps dropping" in cases
    assert done.reference not in cases  # resolved: not open
    assert "Old bill question" not in cases
    events = [event["attrs"]["data-kind"] for event in by_testid(response, "timeline-event")]
    assert events == [
        "case.resolved",
        "case.created",
        "case.created",
        "consent.changed",
        "consent.changed",
        "identity.added",
        "identity.added",
        "identity.added",
        "customer.created",
    ]
    assert by_testid(response, "timeline-more") == []
    assert len(by_testid(response, "new-case-form")) == 1


@pytest.mark.django_db
def test_a_tombstone_redirects_to_the_survivor(client, supervisor, agent, team_a):
    # Given
    survivor = _customer(agent, team_a)
    merged = _customer(agent, team_a, family_name="Smyth")
    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=merged.pk)
    client.force_login(agent)
    # When
    response = client.get(f"/customers/{merged.pk}/")
    # Then
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{survivor.pk}/"


@pytest.mark.django_db
def test_another_teams_customer_is_refused_with_the_403_page(client, agent, agent_b, team_b):
    # Given
    theirs = _customer(agent_b, team_b)
    client.force_login(agent)
    # When
    response = client.get(f"/customers/{theirs.pk}/")
    # Then
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.content.decode()
    assert text_of(response, "error") == "This customer belongs to a team you are not in."


@pytest.mark.django_db
def test_an_unknown_customer_is_a_404_page(client, agent):
    client.force_login(agent)
    response = client.get("/customers/987654/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()
    assert text_of(response, "error") == "No customer with id 987654."


@pytest.mark.django_db
def test_an_htmx_request_for_another_teams_customer_gets_the_error_fragment(client, agent, agent_b, team_b):
    theirs = _customer(agent_b, team_b)
    client.force_login(agent)
    response = client.get(f"/customers/{theirs.pk}/timeline/", **HTMX)
    assert response.status_code == 403
    assert "<html" not in response.content.decode()
    assert text_of(response, "error") == "This customer belongs to a team you are not in."


# --- Timeline pagination ----------------------------------------------------------------------


@pytest.mark.django_db
def test_older_events_come_page_by_page(client, agent, team_a):
    # Given: 25 events — the creation and 24 older calls, one an hour
    customer = _customer(agent, team_a)
    now = timezone.now()
    for hour in range(1, 25):
        journey_record(
            customer=customer,
            kind="interaction.recorded",
            summary=f"Call {hour} hours ago",
            channel="voice",
            occurred_at=now - timedelta(hours=hour),
        )
    client.force_login(agent)
    # When: the 360 page
    response = client.get(f"/customers/{customer.pk}/")
    # Then: the newest 20, and a button for the rest
    first_page = by_testid(response, "timeline-event")
    assert len(first_page) == 20
    assert first_page[0]["attrs"]["data-kind"] == "customer.created"
    assert first_page[-1]["text"].endswith("Call 19 hours ago")
    (more,) = by_testid(response, "timeline-more")
    next_url = more["attrs"]["hx-get"]
    assert next_url.startswith(f"/customers/{customer.pk}/timeline/?cursor=")
    # When: "Older events"
    older = client.get(next_url, **HTMX)
    # Then: the last five, oldest last, and no further button
    assert older.status_code == 200
    assert [event["text"].split(" voice ")[-1] for event in by_testid(older, "timeline-event")] == [
        "Call 20 hours ago",
        "Call 21 hours ago",
        "Call 22 hours ago",
        "Call 23 hours ago",
        "Call 24 hours ago",
    ]
    assert by_testid(older, "timeline-more") == []


@pytest.mark.django_db
def test_a_forged_timeline_cursor_is_a_400_fragment(client, agent, team_a):
    customer = _customer(agent, team_a)
    client.force_login(agent)
    response = client.get(f"/customers/{customer.pk}/timeline/", {"cursor": "not-a-cursor"}, **HTMX)
    assert response.status_code == 400
    assert text_of(response, "error") == "The cursor is not one this API gave out. cursor: Invalid cursor."


# --- Creating a case from the 360 page ----------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_case_from_the_360_page_redirects_htmx_to_it(client, agent, team_a):
    # Given
    SlaPolicyFactory(priority="high", name="High", first_response_minutes=30, resolution_minutes=240)
    customer = _customer(agent, team_a)
    client.force_login(agent)
    # When
    response = client.post(
        f"/customers/{customer.pk}/cases/new/",
        {"subject": " Cannot log in ", "description": "Since Monday", "category": "account", "priority": "high"},
        **HTMX,
    )
    # Then
    case = Case.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/cases/{case.reference}/"
    assert response.content.decode().strip() == f'<p class="ok">Case {case.reference} opened.</p>'
    assert (case.subject, case.description, case.category, case.priority, case.status) == (
        "Cannot log in",
        "Since Monday",
        "account",
        "high",
        "new",
    )
    assert (case.customer_id, case.team_id, case.created_by_id) == (customer.pk, team_a.pk, agent.pk)
    assert case.sla_policy.name == "High"
    assert case.resolution_due_at - case.first_response_due_at == timedelta(minutes=210)
    event = JourneyEvent.objects.get(customer=customer, kind="case.created")
    assert event.summary == f"Case {case.reference} opened: Cannot log in"


@pytest.mark.django_db
def test_creating_a_case_without_htmx_redirects(client, agent, team_a):
    customer = _customer(agent, team_a)
    client.force_login(agent)
    response = client.post(
        f"/customers/{customer.pk}/cases/new/", {"subject": "Refund", "category": "billing", "priority": "normal"}
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/"


@pytest.mark.django_db
def test_an_invalid_case_form_is_a_400_fragment_and_writes_nothing(client, agent, team_a):
    # Given
    customer = _customer(agent, team_a)
    events_before = JourneyEvent.objects.count()
    client.force_login(agent)
    # When
    response = client.post(
        f"/customers/{customer.pk}/cases/new/", {"subject": "", "category": "lottery", "priority": "high"}, **HTMX
    )
    # Then
    assert response.status_code == 400
    assert "HX-Redirect" not in response
    assert text_of(response, "error") == (
        "Please correct the highlighted fields. subject: This field is required. "
        "category: Select a valid choice. lottery is not one of the available choices."
    )
    assert Case.objects.count() == 0
    assert JourneyEvent.objects.count() == events_before


@pytest.mark.django_db
def test_a_case_cannot_be_created_for_another_teams_customer(client, agent, agent_b, team_b):
    theirs = _customer(agent_b, team_b)
    client.force_login(agent)
    response = client.post(f"/customers/{theirs.pk}/cases/new/", {"subject": "x", "category": "general"}, **HTMX)
    assert response.status_code == 403
    assert Case.objects.count() == 0


# --- The case page --------------------------------------------------------------------------


@pytest.fixture
def case(agent, team_a):
    customer = _customer(agent, team_a)
    return case_create(actor=agent, customer=customer, subject="Router keeps dropping", category="technical")


@pytest.mark.django_db
def test_the_case_page_shows_status_and_the_allowed_transitions(client, agent, case):
    # Given
    client.force_login(agent)
    # When: the reference is read whatever its case
    response = client.get(f"/cases/{case.reference.lower()}/")
    # Then
    assert response.status_code == 200
    (page,) = by_testid(response, "case-page")
    assert page["attrs"]["data-case"] == case.reference
    assert text_of(response, "case-status") == "New"
    assert [button["text"] for button in by_testid(response, "case-transitions")] == ["Open Resolve"]
    assert len(by_testid(response, "transition-open")) == 1
    assert len(by_testid(response, "transition-resolve")) == 1
    assert len(by_testid(response, "note-form")) == 1
    assert len(by_testid(response, "case-edit-form")) == 1


@pytest.mark.django_db
def test_an_unknown_case_is_a_404_and_another_teams_case_a_403(client, agent, agent_b, team_b):
    theirs = case_create(actor=agent_b, customer=_customer(agent_b, team_b), subject="Theirs")
    client.force_login(agent)
    assert client.get("/cases/CS-9999999/").status_code == 404
    response = client.get(f"/cases/{theirs.reference}/")
    assert response.status_code == 403
    assert text_of(response, "error") == "This case belongs to a team you are not in."


@pytest.mark.django_db
def test_a_transition_updates_the_status_in_place(client, agent, case):
    # Given
    client.force_login(agent)
    # When
    response = client.post(f"/cases/{case.reference}/transition/", {"transition": "open"}, **HTMX)
    # Then: the summary fragment, with the next transitions
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert text_of(response, "case-status") == "Open"
    assert [button["text"] for button in by_testid(response, "case-transitions")] == ["Set pending Resolve"]
    case.refresh_from_db()
    assert case.status == "open"
    assert case.first_responded_at is not None
    event = JourneyEvent.objects.get(kind="case.open")
    assert event.summary == f"Case {case.reference} new → open"


@pytest.mark.django_db
def test_the_whole_lifecycle_through_the_page(client, agent, case):
    client.force_login(agent)
    statuses = []
    for transition in ["open", "pend", "open", "resolve", "close", "reopen"]:
        response = client.post(f"/cases/{case.reference}/transition/", {"transition": transition}, **HTMX)
        assert response.status_code == 200
        statuses.append(text_of(response, "case-status"))
    assert statuses == ["Open", "Pending customer", "Open", "Resolved", "Closed", "Open"]


@pytest.mark.django_db
def test_an_invalid_transition_is_a_409_fragment(client, agent, case):
    # Given
    client.force_login(agent)
    # When: a new case cannot be closed
    response = client.post(f"/cases/{case.reference}/transition/", {"transition": "close"}, **HTMX)
    # Then
    assert response.status_code == 409
    assert text_of(response, "error") == (
        f"Case {case.reference} is new: it cannot close. Allowed from new: open, resolve."
    )
    case.refresh_from_db()
    assert case.status == "new"
    assert not JourneyEvent.objects.filter(kind__in=["case.closed", "case.open"]).exists()


@pytest.mark.django_db
def test_an_unknown_transition_is_a_400_fragment(client, agent, case):
    client.force_login(agent)
    response = client.post(f"/cases/{case.reference}/transition/", {"transition": "explode"}, **HTMX)
    assert response.status_code == 400
    assert text_of(response, "error") == (
        "Unknown transition 'explode'. transition: Choose one of open, pend, resolve, close, reopen."
    )
    case.refresh_from_db()
    assert case.status == "new"


@pytest.mark.django_db
def test_adding_a_note_shows_it_in_place(client, agent, case):
    # Given
    client.force_login(agent)
    # When
    response = client.post(
        f"/cases/{case.reference}/notes/", {"body": "Called back, line test booked.", "visibility": "external"}, **HTMX
    )
    # Then
    assert response.status_code == 200
    notes = text_of(response, "case-notes")
    assert "Called back, line test booked." in notes
    assert "External (shared with the customer)" in notes
    note = CaseNote.objects.get()
    assert (note.case_id, note.author_id, note.visibility) == (case.pk, agent.pk, "external")
    case.refresh_from_db()
    assert case.first_responded_at == note.created_at  # an external note is the first response


@pytest.mark.django_db
def test_an_empty_note_is_a_400_fragment(client, agent, case):
    client.force_login(agent)
    response = client.post(f"/cases/{case.reference}/notes/", {"body": "", "visibility": "internal"}, **HTMX)
    assert response.status_code == 400
    assert text_of(response, "error") == "Please correct the highlighted fields. body: This field is required."
    assert CaseNote.objects.count() == 0


@pytest.mark.django_db
def test_editing_the_details_updates_the_summary(client, agent, team_a, case):
    # Given
    client.force_login(agent)
    # When
    response = client.post(
        f"/cases/{case.reference}/edit/",
        {
            "subject": "Router drops every evening",
            "description": "Between 7 and 9 pm",
            "category": "technical",
            "priority": "urgent",
            "team": team_a.pk,
            "assignee": agent.pk,
        },
        **HTMX,
    )
    # Then
    assert response.status_code == 200
    summary = text_of(response, "case-summary")
    assert summary.startswith(f"{case.reference} · Router drops every evening New Urgent priority")
    assert f"Team Team A · Assignee {agent}" in summary
    case.refresh_from_db()
    assert (case.subject, case.description, case.priority, case.assignee_id) == (
        "Router drops every evening",
        "Between 7 and 9 pm",
        "urgent",
        agent.pk,
    )
    event = JourneyEvent.objects.get(kind="case.updated")
    assert event.payload["fields"] == ["subject", "description", "priority", "assignee"]


@pytest.mark.django_db
def test_editing_a_case_into_another_team_is_refused(client, agent, team_b, case):
    client.force_login(agent)
    response = client.post(
        f"/cases/{case.reference}/edit/",
        {"subject": "Moved", "category": "technical", "priority": "normal", "team": team_b.pk},
        **HTMX,
    )
    assert response.status_code == 403
    assert text_of(response, "error") == "You cannot assign records to the team 'Team B': you are not in it."
    case.refresh_from_db()
    assert (case.subject, case.team.name) == ("Router keeps dropping", "Team A")


@pytest.mark.django_db
def test_an_agent_sees_no_audit_panel_and_a_supervisor_does(client, agent, supervisor, case):
    # Given: the agent opened the case
    client.force_login(agent)
    client.post(f"/cases/{case.reference}/transition/", {"transition": "open"}, **HTMX)
    # When / Then
    assert by_testid(client.get(f"/cases/{case.reference}/"), "case-audit") == []
    client.force_login(supervisor)
    audit = text_of(client.get(f"/cases/{case.reference}/"), "case-audit")
    assert audit.startswith("Audit trail")
    assert "agent.a · records.CaseEvent update: status new → open" in audit
    assert "agent.a · records.CaseEvent insert" in audit
