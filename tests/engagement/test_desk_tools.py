"""The desk's tools: the knowledge base beside the conversation, conversation search (page and API),
the public article page and the agent's own canned responses page — across roles and teams."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cea.common.channels import Channel, Direction
from engagement.canned.models import CannedResponse
from engagement.canned.services import canned_create
from engagement.conversations.models import AuthorKind, Conversation
from engagement.conversations.services import conversation_start, message_add
from engagement.selfservice.services import knowledge_article_save
from tests.engagement.desktop_support import customer_says, ids, on_desk, parse
from tests.records.factories import CustomerFactory
from tests.support import session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

SEARCH_API = "/api/v1/engagement/conversations/search/"


def url(name: str, *args) -> str:
    return reverse(f"engagement:{name}", args=args)


@pytest.fixture
def articles(db):
    return {
        "parking": knowledge_article_save(
            title="Parking at our stores", body="Every store has free parking for two hours.", keywords="car park"
        ),
        "returns": knowledge_article_save(
            title="Returning an order", body="Return any order within 30 days for a refund.", keywords="refund"
        ),
        "draft": knowledge_article_save(
            title="Parking fines (draft)", body="Unpublished parking text.", is_published=False
        ),
    }


@pytest.fixture
def ada(team_a):
    return CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", email="ada@example.com")


@pytest.fixture
def bob(team_b):
    return CustomerFactory(team=team_b, given_name="Bob", family_name="Byron", email="bob@example.com")


def _conversation(customer, *, channel=Channel.CHAT, said: str = "", internal_note: str = "") -> Conversation:
    conversation, _ = conversation_start(channel=channel, customer=customer)
    if said:
        message_add(conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body=said)
    if internal_note:
        message_add(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.AGENT,
            body=internal_note,
            internal=True,
        )
    return conversation


# --- The knowledge base beside the conversation ---------------------------------------------------


def test_the_panel_suggests_published_articles_from_the_customers_last_message(agent, ada, articles):
    # Given a conversation on the agent's desk whose customer last asked about parking
    conversation = on_desk(agent, customer=ada)
    customer_says(conversation, "How do I return my order?")
    customer_says(conversation, "Actually, is there parking near the store please")
    # When the desk loads the knowledge panel without a query
    response = session_client(agent).get(url("desk-knowledge", conversation.pk))
    # Then the published parking article is suggested, not the draft, and the source says why
    page = parse(response)
    assert response.status_code == 200
    assert ids(page.find_all(data_testid="knowledge-article"), "data-article-id") == [articles["parking"].pk]
    assert page.find(cls="knowledge-source").attrs["data-source"] == "customer"


def test_the_agents_query_searches_published_articles_with_text_and_link(agent, ada, articles):
    conversation = on_desk(agent, customer=ada)
    # When the agent types "refund"
    response = session_client(agent).get(url("desk-knowledge", conversation.pk), {"q": "refund"})
    # Then the returns article is listed with its text to insert and its public link
    page = parse(response)
    assert ids(page.find_all(data_testid="knowledge-article"), "data-article-id") == [articles["returns"].pk]
    link = page.find(data_testid="knowledge-insert-link").attrs["data-link"]
    assert link.endswith(f"/help/articles/{articles['returns'].pk}/")
    assert page.find("template", cls="knowledge-text").text == "Return any order within 30 days for a refund."


def test_the_knowledge_panel_of_another_teams_conversation_is_refused(agent, agent_b, bob, articles):
    conversation = on_desk(agent_b, customer=bob)
    response = session_client(agent).get(url("desk-knowledge", conversation.pk))
    assert response.status_code == 403


def test_a_published_article_is_public_and_a_draft_is_not(articles):
    client = Client()
    published = client.get(url("help-article", articles["parking"].pk))
    draft = client.get(url("help-article", articles["draft"].pk))
    assert published.status_code == 200
    assert parse(published).find("h1").text == "Parking at our stores"
    assert draft.status_code == 404


# --- Conversation search --------------------------------------------------------------------------


def test_the_api_finds_conversations_by_message_text_within_the_agents_teams(agent, ada, bob):
    # Given a conversation of each team where the customer mentions a broken kettle
    mine = _conversation(ada, said="My kettle arrived broken")
    _conversation(bob, said="The kettle is broken too")
    _conversation(ada, said="Where is my parcel?")
    # When agent A searches for "kettle"
    response = session_client(agent).get(SEARCH_API, {"q": "KETTLE"})
    # Then only team A's conversation is found, with the matching excerpt
    body = response.json()
    assert response.status_code == 200
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["excerpt"] == "My kettle arrived broken"


def test_the_api_filters_by_customer_channel_agent_and_date(agent, ada, team_a):
    other = CustomerFactory(team=team_a, given_name="Grace", family_name="Hopper")
    email = _conversation(ada, channel=Channel.EMAIL)
    _conversation(ada, channel=Channel.CHAT)
    _conversation(other, channel=Channel.EMAIL)
    handled = on_desk(agent, customer=other)
    old = _conversation(ada, channel=Channel.EMAIL)
    Conversation.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    client = session_client(agent)
    today = timezone.localdate().isoformat()
    # When the agent asks for Ada's email conversations from today
    by_customer = client.get(SEARCH_API, {"customer": "lovelace", "channel": "email", "date_from": today})
    # and for the conversations they handle
    by_agent = client.get(SEARCH_API, {"agent": agent.pk})
    # Then each finds exactly those
    assert [row["id"] for row in by_customer.json()["results"]] == [email.pk]
    assert [row["id"] for row in by_agent.json()["results"]] == [handled.pk]


def test_a_customer_of_another_team_is_not_searchable_by_name(agent, bob):
    _conversation(bob, said="hello")
    response = session_client(agent).get(SEARCH_API, {"customer": "Byron"})
    assert response.json()["results"] == []


def test_integration_clients_do_not_match_internal_notes(admin_user, integration_user, ada):
    # Given a conversation where only an internal note says "escalate"
    noted = _conversation(ada, said="hello", internal_note="escalate to billing")
    # When an admin and an integration client search for it
    admin = session_client(admin_user).get(SEARCH_API, {"q": "escalate"})
    client = token_client(integration_user, scopes=("conversations:read",)).get(SEARCH_API, {"q": "escalate"})
    # Then the admin finds it and the client does not
    assert [row["id"] for row in admin.json()["results"]] == [noted.pk]
    assert client.json()["results"] == []


def test_an_end_date_before_the_start_is_refused(agent):
    response = session_client(agent).get(SEARCH_API, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 400
    assert "date_to" in response.json()["error"]["fields"]


def test_the_search_needs_signing_in():
    assert Client().get(SEARCH_API, {"q": "x"}).status_code in (401, 403)


def test_the_search_page_lists_the_agents_teams_conversations_only(agent, ada, bob):
    mine = _conversation(ada, said="refund please")
    _conversation(bob, said="refund please")
    response = session_client(agent).get(url("desk-conversation-search"), {"q": "refund"})
    page = parse(response)
    assert response.status_code == 200
    assert ids(page.find_all(data_testid="conversation-result"), "data-conversation-id") == [mine.pk]


def test_the_transcript_of_another_teams_conversation_is_refused(agent, ada, bob):
    theirs = _conversation(bob, said="secret")
    mine = _conversation(ada, said="hello there")
    client = session_client(agent)
    assert client.get(url("desk-conversation-transcript", theirs.pk)).status_code == 403
    response = client.get(url("desk-conversation-transcript", mine.pk))
    assert response.status_code == 200
    assert "hello there" in parse(response).find(data_testid="transcript").text


def test_the_search_page_is_for_desk_users(admin_user):
    assert session_client(admin_user).get(url("desk-conversation-search")).status_code == 403


# --- The agent's own canned responses on the desk -------------------------------------------------


def test_an_agent_adds_a_personal_text_on_the_desk_page(agent):
    # When the agent posts the form
    response = session_client(agent).post(
        url("desk-canned"),
        {"title": "Thanks", "shortcut": "thx", "body": "Thanks {{customer.first_name}}!", "is_active": "on"},
    )
    # Then it is saved as theirs and the page lists it
    assert response.status_code == 302
    saved = CannedResponse.objects.get(shortcut="thx")
    assert (saved.owner, saved.team, saved.is_active) == (agent, None, True)
    page = parse(session_client(agent).get(url("desk-canned")))
    assert [row.attrs["data-shortcut"] for row in page.find_all(data_testid="canned-row")] == ["thx"]


def test_the_desk_page_shows_an_unknown_variable_as_a_form_error(agent):
    response = session_client(agent).post(url("desk-canned"), {"title": "T", "shortcut": "t", "body": "{{nope}}"})
    assert response.status_code == 400
    assert "Unknown variable(s): {{nope}}." in response.content.decode()
    assert not CannedResponse.objects.exists()


def test_an_agent_cannot_delete_a_colleagues_personal_text(agent, agent_b):
    theirs = canned_create(actor=agent_b, title="B", shortcut="b", body="B")
    response = session_client(agent).post(url("desk-canned-delete", theirs.pk))
    assert response.status_code == 403
    assert CannedResponse.objects.filter(pk=theirs.pk).exists()


def test_the_conversation_panel_has_the_desk_tools(agent, ada):
    conversation = on_desk(agent, customer=ada)
    page = parse(session_client(agent).get(url("desk-conversation", conversation.pk)))
    tools = page.find(data_testid="desk-tools")
    assert tools.attrs["data-apply-url"] == "/api/v1/engagement/canned-responses/0/apply/"
    assert tools.find("form", cls="knowledge-form").attrs["hx-get"] == url("desk-knowledge", conversation.pk)
