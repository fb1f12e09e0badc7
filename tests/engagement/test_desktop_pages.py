"""The agent desktop's pages at /desk/: who may use it, what it lists, and its forms (htmx)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from cea.common.channels import Channel
from engagement.conversations.models import AuthorKind, ConversationStatus, Message
from engagement.conversations.services import message_add
from engagement.idv.models import VerificationChallenge
from engagement.orchestration import conversation_end
from engagement.routing.models import (
    AgentProfile,
    OfferStatus,
    Presence,
    ReasonCode,
    WorkItem,
    WorkStatus,
)
from engagement.routing.presence import presence_set
from records.cases.models import Case
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import customer_says, ids, offered, on_desk, parse
from tests.engagement.factories import ConversationFactory, QueueFactory
from tests.records.factories import CaseFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

HTMX = {"HTTP_HX_REQUEST": "true"}
DESK = "/desk/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"engagement:{name}", args=args)


@pytest.fixture
def customer(team_a):
    return CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", phone="+447700900123")


# --- Who may use the desk -----------------------------------------------------------------------


def test_the_desk_is_mounted_at_desk():
    assert url("desktop") == DESK


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_agents_and_supervisors_get_the_desk_offline_with_every_presence_choice(request, who):
    user = request.getfixturevalue(who)
    # When
    response = signed_in(user).get(DESK)
    # Then
    assert response.status_code == 200
    page = parse(response)
    select = page.find("select", id="presence")
    choices = [(option.attrs["value"], "selected" in option.attrs) for option in select.find_all("option")]
    reasons = list(ReasonCode.objects.filter(system=False, is_active=True).values_list("code", flat=True))
    assert reasons == ["break", "coaching", "lunch", "meeting", "training"]  # ordered by label
    assert choices == [
        ("available", False),
        ("busy", False),
        ("after_contact", False),
        *((f"away:{code}", False) for code in reasons),
        ("offline", True),
    ]
    assert page.find(id="presence-state").text == "Offline"
    assert page.find(id="desk-connection").attrs["data-state"] == "connecting"
    assert AgentProfile.objects.get(user=user).presence == Presence.OFFLINE


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    # When
    response = client.get(DESK)
    # Then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/desk/"


@pytest.mark.parametrize("who", ["integration_user", "admin_user"])
def test_integration_clients_and_admins_are_refused_the_desk(request, who):
    user = request.getfixturevalue(who)
    # When
    response = signed_in(user).get(DESK)
    # Then
    assert response.status_code == 403
    assert "The desktop is for agents and supervisors." in response.content.decode()
    assert not AgentProfile.objects.filter(user=user).exists()


def test_an_integration_client_cannot_reply_from_the_desk(integration_user, customer):
    conversation = ConversationFactory(customer=customer)
    # When
    response = signed_in(integration_user).post(url("desk-reply", conversation.pk), {"body": "Hi"}, **HTMX)
    # Then
    assert response.status_code == 403
    assert Message.objects.count() == 0


# --- What the desk lists ------------------------------------------------------------------------


def test_the_desk_lists_the_agents_offers_and_conversations_only(agent, team_a, customer):
    # Given another agent of the same team with a conversation of their own, now busy
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    theirs = on_desk(colleague, customer=customer)
    presence_set(actor=colleague, agent_user=colleague, presence="busy")
    # and the agent's: one active, one the customer ended (waiting for its wrap-up), one offered
    active = on_desk(agent, customer=customer, subject="Order")
    ended = on_desk(agent, channel=Channel.SMS, contact_kind="phone", contact_value="+447700900999")
    conversation_end(actor=None, conversation=ended)
    offer = offered(agent, channel=Channel.EMAIL, contact_kind="email", contact_value="x@example.com")
    # When
    page = parse(signed_in(agent).get(DESK))
    # Then
    tabs = page.find(id="conversation-tabs").find_all(cls="conversation-tab")
    panels = page.find_all("section", cls="conversation-panel")
    assert ids(tabs, "data-conversation-id") == [active.pk, ended.pk]
    assert ids(panels, "data-conversation-id") == [active.pk, ended.pk]
    assert theirs.pk not in ids(panels, "data-conversation-id")
    offers = page.find(id="offers").find_all(cls="offer")
    assert ids(offers, "data-offer-id") == [offer.pk]
    assert offers[0].find(cls="offer-countdown").text == "20"
    assert len(offers[0].find_all("button", cls="offer-accept")) == 1
    assert len(offers[0].find_all("button", cls="offer-reject")) == 1
    # The ended conversation's wrap-up is open and its reply form closed.
    wrap_up = panels[1]
    assert "in-wrap-up" in wrap_up.classes
    assert "hidden" not in wrap_up.find(cls="wrap-up").attrs
    assert "disabled" in wrap_up.find("form", cls="reply-form").find("textarea").attrs
    assert "hidden" in panels[0].find(cls="wrap-up").attrs


def test_a_panel_follows_the_dom_contract(agent, customer):
    conversation = on_desk(agent, customer=customer)
    customer_says(conversation, "Where is my parcel?")
    # When
    panel = parse(signed_in(agent).get(DESK)).find("section", cls="conversation-panel")
    # Then
    messages = panel.find("ol", cls="messages").find_all("li", cls="message")
    assert [(m.attrs["data-author-kind"], m.find(cls="message-body").text) for m in messages] == [
        ("system", f"{agent.first_name} has joined the conversation."),
        ("customer", "Where is my parcel?"),
    ]
    reply = panel.find("form", cls="reply-form")
    assert reply.attrs["hx-post"] == url("desk-reply", conversation.pk)
    assert len(reply.find_all("textarea", name="body")) == len(reply.find_all("button", type="submit")) == 1
    assert len(panel.find_all("button", cls="wrap-up-open")) == 1
    wrap_up = panel.find("form", cls="wrap-up-form")
    codes = [option.attrs["value"] for option in wrap_up.find("select", name="wrap_up_code").find_all("option")]
    assert codes == ["", "case_opened", "complaint", "follow_up", "no_action", "resolved", "transferred"]
    assert wrap_up.find("input", name="disposition") and wrap_up.find("textarea", name="notes")
    assert wrap_up.find("input", name="after_contact").attrs["type"] == "checkbox"
    transfer = panel.find("form", cls="transfer-form")
    queues = [option.attrs["value"] for option in transfer.find("select", name="to_queue").find_all("option")]
    assert queues == ["", "general"]
    assert transfer.find("select", name="to_agent") and transfer.find("textarea", name="note")
    side = panel.find("aside", cls="customer-panel")
    assert side.find(cls="verification-level").text == "Identified"
    assert side.find(cls="live-context").find(cls="context", data_scope="conversation").attrs["data-id"] == str(
        conversation.pk
    )
    # The holdings come from the back-ends, loaded by htmx once the panel is on the page.
    assert side.find(cls="holdings").attrs["hx-get"] == url("desk-holdings", customer.pk)
    card = side.find(cls="next-best-action")
    assert (card.attrs["hx-get"], card.text) == (
        url("desk-next-best-action", customer.pk),
        "Next best action Nothing to recommend for this customer now.",
    )


def test_a_voice_conversation_shows_its_call_events(agent, customer):
    call = on_desk(agent, channel=Channel.VOICE, external_id="call-7", customer=customer)
    for event, body in [("ringing", "Ringing"), ("answered", "Answered")]:
        message_add(
            conversation=call,
            direction="inbound",
            author_kind=AuthorKind.SYSTEM,
            body=body,
            payload={"event": event, "recording_url": "https://recordings.example/7", "transcript_url": "javascript:x"},
        )
    # When
    panel = parse(signed_in(agent).get(url("desk-conversation", call.pk)))
    # Then
    events = panel.find_all("li", cls="message", data_event=True)
    assert [(e.attrs["data-event"], e.find(cls="message-body").text) for e in events] == [
        ("agent_joined", f"{agent.first_name} has joined the conversation."),
        ("ringing", "Ringing"),
        ("answered", "Answered"),
    ]
    links = [a.attrs["href"] for a in events[1].find_all("a")]
    assert links == ["https://recordings.example/7"]  # never a javascript: link
    assert "disabled" in panel.find("form", cls="reply-form").find("textarea").attrs


def test_the_360_panel_shows_only_the_cases_the_agent_may_see(agent, team_b, customer):
    visible = CaseFactory(customer=customer, subject="Broken router")
    CaseFactory(customer=customer, team=team_b, subject="Other team's case")
    conversation = on_desk(agent, customer=customer)
    # When
    panel = parse(signed_in(agent).get(url("desk-conversation", conversation.pk)))
    # Then
    cases = panel.find(cls="desk-cases").find_all("li", cls="case")
    assert [case.attrs["data-case"] for case in cases] == [visible.reference]


def test_a_conversation_of_another_team_is_refused_and_an_unknown_one_not_found(agent, agent_b, team_b):
    theirs = on_desk(agent_b, customer=CustomerFactory(team=team_b))
    client = signed_in(agent)
    # When
    refused = client.get(url("desk-conversation", theirs.pk), **HTMX)
    unknown = client.get(url("desk-conversation", 999999), **HTMX)
    # Then
    assert (refused.status_code, unknown.status_code) == (403, 404)


def test_an_agent_offered_another_teams_conversation_sees_it_but_not_the_customers_record(agent, team_b):
    stranger = CustomerFactory(team=team_b, given_name="Secret", family_name="Person")
    # A queue without a team offers team B's customer to an agent of team A.
    offer = offered(agent, customer=stranger)
    # When
    panel = parse(signed_in(agent).get(url("desk-conversation", offer.work_item.conversation_id)))
    # Then
    side = panel.find("aside", cls="customer-panel")
    assert "Customer of another team" in side.text
    assert "Secret" not in side.text
    assert side.find_all(cls="desk-cases") == []


# --- Replying -----------------------------------------------------------------------------------


def test_a_reply_is_sent_and_answered_with_the_message(agent, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(
        url("desk-reply", conversation.pk), {"body": "On its way!", "client_message_id": "c-1"}, **HTMX
    )
    # Then
    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation, author_kind=AuthorKind.AGENT)
    assert (message.body, message.author_id, message.payload) == ("On its way!", agent.pk, {"delivery": "live"})
    item = parse(response).find("li", cls="message")
    assert (item.attrs["data-message-id"], item.attrs["data-author-kind"]) == (str(message.pk), "agent")
    assert item.find(cls="message-body").text == "On its way!"


def test_a_retried_reply_is_stored_once(agent, customer):
    conversation = on_desk(agent, customer=customer)
    client = signed_in(agent)
    # When
    for _ in range(2):
        client.post(url("desk-reply", conversation.pk), {"body": "Once", "client_message_id": "c-9"}, **HTMX)
    # Then
    assert Message.objects.filter(conversation=conversation, author_kind=AuthorKind.AGENT).count() == 1


def test_an_email_reply_goes_by_email(agent, customer):
    conversation = on_desk(
        agent, channel=Channel.EMAIL, customer=customer, contact_kind="email", contact_value="ada@example.com"
    )
    # When
    response = signed_in(agent).post(url("desk-reply", conversation.pk), {"body": "Dear Ada"}, **HTMX)
    # Then
    assert response.status_code == 200
    message = Message.objects.get(conversation=conversation, author_kind=AuthorKind.AGENT)
    assert (message.payload["delivery"], message.payload["to"]) == ("queued", "ada@example.com")


@pytest.mark.parametrize(
    ("body", "channel", "status", "text"),
    [
        ("   ", Channel.CHAT, 400, "A reply needs some text."),
        # (The form takes a blank body, for a reply of files only: the service says what is missing.)
        ("", Channel.CHAT, 400, "A reply needs some text."),
        ("Hello?", Channel.VOICE, 409, "replies are spoken"),
    ],
)
def test_a_refused_reply_answers_with_the_reason_and_sends_nothing(agent, customer, body, channel, status, text):
    conversation = on_desk(agent, channel=channel, customer=customer, external_id="x-1")
    # When
    response = signed_in(agent).post(url("desk-reply", conversation.pk), {"body": body}, **HTMX)
    # Then
    assert response.status_code == status
    assert text in parse(response).find(cls="error").text
    assert not Message.objects.filter(conversation=conversation, author_kind=AuthorKind.AGENT).exists()


def test_replying_in_another_teams_conversation_is_refused(agent, agent_b, team_b):
    theirs = on_desk(agent_b, customer=CustomerFactory(team=team_b))
    # When
    response = signed_in(agent).post(url("desk-reply", theirs.pk), {"body": "Hi"}, **HTMX)
    # Then
    assert response.status_code == 403
    assert not Message.objects.filter(conversation=theirs, author_kind=AuthorKind.AGENT).exists()


# --- Wrap-up ------------------------------------------------------------------------------------


def test_a_wrap_up_ends_the_conversation_frees_the_agent_and_closes_the_tab(agent, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(
        url("desk-wrap-up", conversation.pk),
        {"wrap_up_code": "resolved", "disposition": "refunded", "notes": "Refund agreed.", "after_contact": "on"},
        **HTMX,
    )
    # Then
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {
        "desk:closed": {"conversation": conversation.pk, "reason": "wrapped_up"}
    }
    conversation.refresh_from_db()
    interaction = conversation.interaction
    assert conversation.status == ConversationStatus.ENDED
    assert (interaction.wrap_up_code, interaction.disposition, interaction.wrap_up_notes) == (
        "resolved",
        "refunded",
        "Refund agreed.",
    )
    assert WorkItem.objects.get(conversation=conversation).status == WorkStatus.DONE
    profile = AgentProfile.objects.get(user=agent)
    assert (profile.presence, profile.load_units) == (Presence.AFTER_CONTACT, 0)
    assert profile.after_contact_until is not None


def test_a_wrap_up_after_the_customer_left_records_the_outcome(agent, customer):
    conversation = on_desk(agent, customer=customer)
    conversation_end(actor=None, conversation=conversation)
    # When
    response = signed_in(agent).post(url("desk-wrap-up", conversation.pk), {"wrap_up_code": "follow_up"}, **HTMX)
    # Then
    assert response.status_code == 204
    conversation.refresh_from_db()
    assert conversation.interaction.wrap_up_code == "follow_up"
    assert WorkItem.objects.get(conversation=conversation).status == WorkStatus.DONE
    assert AgentProfile.objects.get(user=agent).presence == Presence.AVAILABLE  # no after-contact work asked


def test_a_wrap_up_without_a_code_is_refused_and_the_conversation_goes_on(agent, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(url("desk-wrap-up", conversation.pk), {"notes": "?"}, **HTMX)
    # Then
    assert response.status_code == 400
    assert parse(response).find(cls="error").find("p").text == "Choose a wrap-up code."
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE


def test_only_the_handling_agent_wraps_up(agent, team_a, customer):
    conversation = on_desk(agent, customer=customer)
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    # When
    response = signed_in(colleague).post(url("desk-wrap-up", conversation.pk), {"wrap_up_code": "resolved"}, **HTMX)
    # Then
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE


def test_a_plain_form_wrap_up_goes_back_to_the_desk(agent, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(url("desk-wrap-up", conversation.pk), {"wrap_up_code": "resolved"})
    # Then
    assert (response.status_code, response["Location"]) == (302, DESK)


# --- Transfer -----------------------------------------------------------------------------------


def test_a_transfer_to_a_queue_puts_the_conversation_back_in_line_with_the_note(agent, customer):
    billing = QueueFactory(name="billing", label="Billing")
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(
        url("desk-transfer", conversation.pk), {"to_queue": "billing", "note": "Needs a refund"}, **HTMX
    )
    # Then
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["desk:closed"] == {
        "conversation": conversation.pk,
        "reason": "transferred",
    }
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent_id, conversation.queue) == (
        ConversationStatus.QUEUED,
        None,
        "billing",
    )
    items = list(WorkItem.objects.filter(conversation=conversation).order_by("pk"))
    assert [(item.status, item.queue_id) for item in items] == [
        (WorkStatus.TRANSFERRED, items[0].queue_id),
        (WorkStatus.WAITING, billing.pk),
    ]
    assert (items[1].note, items[1].transferred_from_id) == ("Needs a refund", items[0].pk)
    assert AgentProfile.objects.get(user=agent).load_units == 0


def test_a_transfer_to_an_agent_is_for_them_only(agent, supervisor, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(url("desk-transfer", conversation.pk), {"to_agent": str(supervisor.pk)}, **HTMX)
    # Then
    assert response.status_code == 204
    waiting = WorkItem.objects.get(conversation=conversation, status=WorkStatus.WAITING)
    assert waiting.target_agent.user_id == supervisor.pk


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "to"), ({"to_queue": "general", "to_agent": "agent.a"}, "to"), ({"to_queue": "nowhere"}, "to_queue")],
)
def test_a_transfer_needs_one_known_target(agent, customer, form, field):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(url("desk-transfer", conversation.pk), form, **HTMX)
    # Then
    assert response.status_code == 400
    assert field in parse(response).find(cls="error").find("strong").text
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.ACTIVE


def test_transferring_another_teams_conversation_is_refused(agent, agent_b, team_b):
    theirs = on_desk(agent_b, customer=CustomerFactory(team=team_b))
    # When
    response = signed_in(agent).post(url("desk-transfer", theirs.pk), {"to_queue": "general"}, **HTMX)
    # Then
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert (theirs.status, theirs.agent_id) == (ConversationStatus.ACTIVE, agent_b.pk)


# --- Search, customers, cases, verification -----------------------------------------------------


def test_the_search_finds_only_customers_the_agent_may_see(agent, team_a, team_b):
    mine = CustomerFactory(team=team_a, given_name="Grace", family_name="Hopper")
    CustomerFactory(team=team_b, given_name="Grace", family_name="Kelly")
    # When
    response = signed_in(agent).get(url("desk-customer-search"), {"q": "grace"}, **HTMX)
    # Then
    rows = parse(response).find_all("tr", data_customer_id=True)
    assert ids(rows, "data-customer-id") == [mine.pk]


def test_a_customer_opens_in_a_tab_of_their_own_and_another_teams_is_refused(agent, team_b, customer):
    stranger = CustomerFactory(team=team_b)
    client = signed_in(agent)
    # When
    mine = client.get(url("desk-customer", customer.pk), **HTMX)
    theirs = client.get(url("desk-customer", stranger.pk), **HTMX)
    # Then
    assert (mine.status_code, theirs.status_code) == (200, 403)
    page = parse(mine)
    assert page.find(cls="customer-tab").attrs["data-customer-id"] == str(customer.pk)
    assert page.find("section", cls="customer-only-panel").find(cls="customer-panel").find(cls="live-context")


def test_a_case_is_opened_in_place_from_a_conversation(agent, customer):
    conversation = on_desk(agent, customer=customer)
    # When
    response = signed_in(agent).post(
        url("desk-case-create", customer.pk),
        {"subject": "Refund", "category": "billing", "priority": "high", "conversation": str(conversation.pk)},
        **HTMX,
    )
    # Then
    assert response.status_code == 200
    case = Case.objects.get(customer=customer)
    assert (case.subject, case.priority, case.team_id) == ("Refund", "high", customer.team_id)
    section = parse(response).find("section", cls="desk-cases")
    assert f"Case {case.reference} opened." in section.text
    assert [li.attrs["data-case"] for li in section.find_all("li", cls="case")] == [case.reference]


def test_a_case_is_moved_on_in_place_and_an_invalid_move_is_refused(agent, customer):
    case = CaseFactory(customer=customer)
    client = signed_in(agent)
    # When
    moved = client.post(url("desk-case-transition", case.reference), {"transition": "open", "note": "On it"}, **HTMX)
    refused = client.post(url("desk-case-transition", case.reference), {"transition": "close"}, **HTMX)
    # Then
    assert (moved.status_code, refused.status_code) == (200, 409)
    case.refresh_from_db()
    assert case.status == "open"
    assert list(case.notes.values_list("body", flat=True)) == ["On it"]
    assert "cannot close" in parse(refused).find(cls="error").text


def test_another_teams_case_cannot_be_changed_from_the_desk(agent, team_b):
    theirs = CaseFactory(customer=CustomerFactory(team=team_b))
    # When
    response = signed_in(agent).post(url("desk-case-transition", theirs.reference), {"transition": "open"}, **HTMX)
    # Then
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_verification_starts_from_the_desk_and_a_wrong_code_is_refused(agent, customer):
    conversation = on_desk(agent, customer=customer)
    client = signed_in(agent)
    # When
    started = client.post(url("desk-verification-start", conversation.pk), {"method": "sms"}, **HTMX)
    checked = client.post(url("desk-verification-check", conversation.pk), {"code": "000000"}, **HTMX)
    # Then
    assert started.status_code == 200
    assert "a code has been sent by SMS" in parse(started).find(cls="verification").text
    assert VerificationChallenge.objects.filter(conversation=conversation, method="sms").count() == 1
    assert checked.status_code == 400
    section = parse(checked).find(cls="verification")
    assert section.find(cls="verification-level").text == "Identified"
    assert section.find(cls="error")


def test_an_offer_listed_on_the_desk_is_the_agents_own(agent, team_a):
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    theirs = offered(colleague)
    presence_set(actor=colleague, agent_user=colleague, presence="busy")
    # When
    page = parse(signed_in(agent).get(DESK))
    # Then
    assert theirs.status == OfferStatus.PENDING
    assert page.find(id="offers").find_all(cls="offer") == []
