"""The sentiment report (page and API) by queue, agent, team, channel and day, scoped by role and team; the
settings in the console (administrators only); sentiment on the desk and the supervisors' live page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cea.common.channels import Channel, Direction
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import conversation_start, message_add
from insights.sentiment.models import NegativeTurn
from records.interactions.models import Interaction
from tests.support import session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]

API = "/api/v1/insights/sentiment/"
PAGE = "/insights/sentiment/"


def contact(*, team, agent, sentiment, queue="billing", channel=Channel.CHAT, days_ago=1) -> Interaction:
    started = timezone.now() - dt.timedelta(days=days_ago)
    return Interaction.objects.create(
        channel=channel,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=2),
        queue=queue,
        team=team,
        agent=agent,
        sentiment=sentiment,
    )


@pytest.fixture
def contacts(team_a, team_b, agent, agent_b):
    contact(team=team_a, agent=agent, sentiment=-0.8)
    contact(team=team_a, agent=agent, sentiment=0.6, queue="sales")
    contact(team=team_a, agent=agent, sentiment=None)  # not scored
    contact(team=team_a, agent=None, sentiment=0.0)
    contact(team=team_b, agent=agent_b, sentiment=0.9)


def test_a_supervisor_gets_their_teams_distribution_and_average_by_queue(contacts, supervisor):
    body = session_client(supervisor).get(API, {"group_by": "queue"}).json()
    assert body["total"] == {
        "key": "",
        "label": "All",
        "interactions": 4,
        "scored": 3,
        "not_scored": 1,
        "average": round((-0.8 + 0.6 + 0.0) / 3, 4),
        "positive": 1,
        "neutral": 1,
        "negative": 1,
    }
    assert [(row["label"], row["interactions"], row["average"]) for row in body["rows"]] == [
        ("billing", 3, -0.4),
        ("sales", 1, 0.6),
    ]


def test_an_agent_gets_their_own_contacts_and_an_admin_every_team(contacts, agent, admin_user):
    own = session_client(agent).get(API, {"group_by": "agent"}).json()
    everyone = token_client(admin_user, scopes=("insights:read",)).get(API, {"group_by": "team"}).json()
    assert [(row["label"], row["interactions"]) for row in own["rows"]] == [("agent.a", 3)]
    assert [(row["label"], row["interactions"], row["average"]) for row in everyone["rows"]] == [
        ("Team A", 4, round((-0.8 + 0.6 + 0.0) / 3, 4)),
        ("Team B", 1, 0.9),
    ]


def test_by_day_and_channel_and_a_bad_query_is_refused(contacts, admin_user):
    client = session_client(admin_user)
    days = client.get(API, {"group_by": "day"}).json()["rows"]
    channels = client.get(API, {"group_by": "channel"}).json()["rows"]
    bad = client.get(API, {"group_by": "mood"})
    assert [row["interactions"] for row in days] == [5]
    assert [(row["label"], row["scored"]) for row in channels] == [("chat", 4)]
    assert bad.status_code == 400 and "group_by" in bad.json()["error"]["fields"]


def test_negative_turns_are_listed_to_their_team_only(contacts, supervisor, team_a, team_b):
    NegativeTurn.objects.create(message_id=1, conversation_id=11, team=team_a, score=-0.8, threshold=-0.6)
    NegativeTurn.objects.create(message_id=2, conversation_id=22, team=team_b, score=-0.9, threshold=-0.6)
    body = session_client(supervisor).get(API).json()
    assert [turn["conversation"] for turn in body["negative_turns"]] == [11]
    client = Client()
    client.force_login(supervisor)
    html = client.get(PAGE).content.decode()
    assert "#11<" in html and "#22<" not in html


def test_the_page_says_which_language_is_scored(contacts, agent):
    client = Client()
    client.force_login(agent)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "English only" in page.content.decode()
    assert client.get(PAGE, {"start": "nope"}).status_code == 400


def test_only_an_admin_changes_what_a_negative_turn_does(supervisor, admin_user):
    for user in (supervisor, admin_user):
        user.is_staff = True
        user.save()
    client = Client()
    client.force_login(supervisor)
    assert client.get("/admin/insights/sentimentsettings/").status_code == 200
    assert client.get("/admin/insights/sentimentsettings/add/").status_code == 403
    client.force_login(admin_user)
    response = client.post(
        "/admin/insights/sentimentsettings/add/",
        {"negative_threshold": "-0.5", "priority_points": "10", "raise_priority": "on"},
    )
    assert response.status_code == 302
    from insights.sentiment.models import SentimentSettings

    saved = SentimentSettings.objects.get()
    assert (saved.pk, saved.negative_threshold, saved.priority_points, saved.alert_supervisor) == (1, -0.5, 10, False)


def test_the_desk_panel_shows_each_message_s_sentiment_and_the_running_figure(
    django_capture_on_commit_callbacks, agent, routing_defaults
):
    # Given a conversation with the agent
    from engagement.conversations.models import Conversation

    conversation, _ = conversation_start(channel=Channel.CHAT, visitor="v-5", queue="general")
    with django_capture_on_commit_callbacks(execute=True):
        message_add(
            conversation=conversation,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            body="This is terrible, I am furious!",
        )
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="active")
    client = Client()
    client.force_login(agent)
    # When
    html = client.get(f"/desk/conversations/{conversation.pk}/").content.decode()
    # Then
    assert 'data-testid="message-sentiment"' in html
    assert 'data-testid="conversation-sentiment-value">-0.' in html
    assert "(English messages only)" in html


def test_the_360_page_shows_the_customer_s_sentiment_trend(supervisor, team_a):
    from records.customers.services import customer_set_scores
    from tests.support import make_customer

    customer = make_customer(team_a)
    customer_set_scores(
        actor=None, customer=customer, scores={"sentiment_trend": -0.3412, "sentiment": -0.3412, "sentiment_trend_n": 4}
    )
    client = Client()
    client.force_login(supervisor)
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="score-sentiment-trend"' in html
    assert "-0.34" in html and "over 4 contacts" in html
