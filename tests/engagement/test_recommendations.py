"""Recommended actions (the desk's Next best action): offering, ranking, deciding by role and team,
outcomes per source, expiry, the REST API, the console and the desk's card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import current_app
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engagement.recommendations.models import RecommendedAction
from engagement.recommendations.selectors import recommendation_outcomes, recommendations_open_for
from engagement.recommendations.services import recommendation_decide, recommendation_offer, recommendations_expire
from engagement.recommendations.tasks import expire_recommendations
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import on_desk, parse
from tests.records.factories import CustomerFactory
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def customer(team_a):
    return CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace")


def offer(customer, source_key="strategy:retention", *, score=0.5, actor=None, **fields):
    values = {
        "title": "Offer a loyalty discount",
        "detail": "Say: we value you.",
        "reasons": ["churn risk 0.8", "tenure 6 years"],
        **fields,
    }
    return recommendation_offer(actor=actor, customer=customer, source_key=source_key, score=score, **values)


# --- Offering -------------------------------------------------------------------------------------


def test_offering_the_same_source_again_updates_the_open_action_instead_of_duplicating(customer, team_a):
    # Given an action offered by a strategy
    first = offer(customer, score=0.4, reasons=["churn risk 0.6"])
    # When the strategy offers it again with a new score and reasons
    again = offer(customer, score=0.7, reasons=["churn risk 0.9"], title="Call about renewal")
    # Then there is still one action, with the new values and the customer's team
    assert again.pk == first.pk
    assert list(RecommendedAction.objects.values_list("source_key", "title", "score", "reasons", "team_id")) == [
        ("strategy:retention", "Call about renewal", 0.7, ["churn risk 0.9"], team_a.pk)
    ]


def test_an_open_action_past_its_expiry_is_expired_and_a_new_one_offered(customer):
    # Given an action whose expiry has passed
    old = offer(customer, expires_at=timezone.now() + timedelta(hours=1))
    RecommendedAction.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    # When the source offers it again
    new = offer(customer)
    # Then the old one is expired and the new one is open
    old.refresh_from_db()
    assert (old.status, new.status, new.pk != old.pk) == ("expired", "offered", True)


def test_a_decided_action_does_not_stop_the_source_offering_again(customer, agent):
    first = offer(customer)
    recommendation_decide(actor=agent, recommendation_id=first.pk, accepted=False)
    second = offer(customer)
    assert second.pk != first.pk
    assert sorted(RecommendedAction.objects.values_list("status", flat=True)) == ["dismissed", "offered"]


@pytest.mark.parametrize(
    "fields",
    [
        {"source_key": ""},
        {"title": ""},
        {"reasons": "not a list"},
        {"reasons": ["x" * 301]},
        {"score": float("nan")},
        {"expires_at": "past"},
    ],
)
def test_invalid_offers_are_refused_by_field_and_write_nothing(customer, fields):
    if fields.get("expires_at") == "past":
        fields = {"expires_at": timezone.now() - timedelta(seconds=1)}
    field = next(iter(fields))
    with pytest.raises(ValidationFailed) as refused:
        offer(customer, **fields)
    assert list(refused.value.fields) == [field]
    assert RecommendedAction.objects.count() == 0


def test_only_the_system_admins_clients_and_the_customers_supervisors_offer(
    customer, agent, supervisor, admin_user, integration_user, team_b
):
    supervisor_b = UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
    for refused in (agent, supervisor_b):
        with pytest.raises(PermissionDenied):
            offer(customer, actor=refused)
    for allowed, key in ((supervisor, "a"), (admin_user, "b"), (integration_user, "c"), (None, "d")):
        offer(customer, f"strategy:{key}", actor=allowed)
    assert RecommendedAction.objects.count() == 4


# --- Ranking --------------------------------------------------------------------------------------


def test_open_actions_are_ranked_by_score_without_the_decided_or_expired(customer, agent):
    # Given four actions of different sources, one decided and one expired
    offer(customer, "strategy:low", score=0.2, title="Low")
    offer(customer, "strategy:high", score=0.9, title="High")
    offer(customer, "strategy:mid", score=0.5, title="Mid")
    decided = offer(customer, "strategy:top", score=0.99, title="Decided")
    recommendation_decide(actor=agent, recommendation_id=decided.pk, accepted=True)
    lapsed = offer(customer, "strategy:lapsed", score=0.95, title="Lapsed", expires_at=timezone.now() + timedelta(1))
    RecommendedAction.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now())
    # When the card reads the best two
    best = recommendations_open_for(customer_id=customer.pk, limit=2)
    # Then
    assert [action.title for action in best] == ["High", "Mid"]
    assert [a.title for a in recommendations_open_for(customer_id=customer.pk, limit=10)] == ["High", "Mid", "Low"]


# --- Deciding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "supervisor", "admin_user"])
def test_the_customers_team_and_admins_decide_and_the_journey_records_it(request, customer, who):
    user = request.getfixturevalue(who)
    action = offer(customer)
    # When
    decided = recommendation_decide(actor=user, recommendation_id=action.pk, accepted=True, note="took it")
    # Then
    assert (decided.status, decided.decided_by, decided.note, decided.conversation) == (
        "accepted",
        user,
        "took it",
        None,
    )
    event = JourneyEvent.objects.get(customer=customer, kind="recommendation.accepted")
    assert event.payload["source_key"] == "strategy:retention"
    assert event.payload["recommendation_id"] == action.pk


@pytest.mark.parametrize("who", ["agent_b", "supervisor_b"])
def test_team_b_cannot_decide_for_a_customer_of_team_a(request, customer, team_b, who):
    user = (
        UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
        if who == "supervisor_b"
        else request.getfixturevalue(who)
    )
    action = offer(customer)
    with pytest.raises(PermissionDenied):
        recommendation_decide(actor=user, recommendation_id=action.pk, accepted=True)
    action.refresh_from_db()
    assert action.status == "offered"
    assert not JourneyEvent.objects.filter(kind__startswith="recommendation.").exists()


def test_an_agent_of_another_team_handling_a_conversation_with_the_customer_decides(customer, agent_b):
    # Given an agent of team B with a chat with team A's customer on their desk
    conversation = on_desk(agent_b, customer=customer)
    action = offer(customer)
    # When they dismiss the action
    decided = recommendation_decide(actor=agent_b, recommendation_id=action.pk, accepted=False)
    # Then the decision names the conversation, and the journey event its channel
    assert (decided.status, decided.conversation) == ("dismissed", conversation)
    event = JourneyEvent.objects.get(kind="recommendation.dismissed")
    assert (event.channel, event.payload["conversation_id"]) == (Channel.CHAT, conversation.pk)


def test_deciding_twice_is_a_conflict(customer, agent, supervisor):
    action = offer(customer)
    recommendation_decide(actor=agent, recommendation_id=action.pk, accepted=True)
    with pytest.raises(Conflict) as twice:
        recommendation_decide(actor=supervisor, recommendation_id=action.pk, accepted=False)
    assert twice.value.code == "already_decided"
    assert "already accepted by" in twice.value.message
    action.refresh_from_db()
    assert (action.status, action.decided_by) == ("accepted", agent)
    assert JourneyEvent.objects.filter(kind__startswith="recommendation.").count() == 1


def test_an_expired_action_cannot_be_decided(customer, agent):
    action = offer(customer, expires_at=timezone.now() + timedelta(minutes=5))
    RecommendedAction.objects.filter(pk=action.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as refused:
        recommendation_decide(actor=agent, recommendation_id=action.pk, accepted=True)
    assert refused.value.code == "recommendation_expired"


def test_an_unknown_action_is_not_found(agent):
    with pytest.raises(NotFound):
        recommendation_decide(actor=agent, recommendation_id=999999, accepted=True)


# --- Outcomes and expiry --------------------------------------------------------------------------


def test_outcomes_count_what_became_of_each_sources_actions(team_a, agent):
    customers = [CustomerFactory(team=team_a) for _ in range(5)]
    actions = [offer(c, "strategy:a") for c in customers]
    offer(customers[0], "strategy:b")
    recommendation_decide(actor=agent, recommendation_id=actions[0].pk, accepted=True)
    recommendation_decide(actor=agent, recommendation_id=actions[1].pk, accepted=True)
    recommendation_decide(actor=agent, recommendation_id=actions[2].pk, accepted=False)
    # One expired by the sweep, one past its expiry but not swept yet: both count as expired.
    RecommendedAction.objects.filter(pk__in=[actions[3].pk, actions[4].pk]).update(expires_at=timezone.now())
    assert recommendations_expire(now=timezone.now()) == 2
    # When
    outcomes = recommendation_outcomes(source_keys=["strategy:a", "strategy:b", "strategy:none"])
    # Then
    assert outcomes == {
        "strategy:a": {"offered": 5, "accepted": 2, "dismissed": 1, "expired": 2},
        "strategy:b": {"offered": 1, "accepted": 0, "dismissed": 0, "expired": 0},
        "strategy:none": {"offered": 0, "accepted": 0, "dismissed": 0, "expired": 0},
    }
    later = timezone.now() + timedelta(seconds=1)
    assert recommendation_outcomes(source_keys=["strategy:a"], since=later) == {
        "strategy:a": {"offered": 0, "accepted": 0, "dismissed": 0, "expired": 0}
    }


def test_outcomes_of_some_teams_count_only_their_customers_actions(team_a, team_b, agent):
    ours, theirs = CustomerFactory(team=team_a), CustomerFactory(team=team_b)
    accepted = offer(ours, "strategy:a")
    offer(theirs, "strategy:a")
    recommendation_decide(actor=agent, recommendation_id=accepted.pk, accepted=True)
    assert recommendation_outcomes(source_keys=["strategy:a"], team_ids=[team_a.pk]) == {
        "strategy:a": {"offered": 1, "accepted": 1, "dismissed": 0, "expired": 0}
    }
    assert recommendation_outcomes(source_keys=["strategy:a"], team_ids=[team_b.pk])["strategy:a"]["offered"] == 1
    assert recommendation_outcomes(source_keys=["strategy:a"], team_ids=[])["strategy:a"]["offered"] == 0


def test_acceptances_are_the_times_each_customer_accepted_the_source_s_actions(team_a, agent):
    from engagement.recommendations.selectors import recommendation_acceptances

    ada, bob, cleo = (CustomerFactory(team=team_a) for _ in range(3))
    first = offer(ada, "strategy:a")
    recommendation_decide(actor=agent, recommendation_id=first.pk, accepted=True)
    second = offer(ada, "strategy:a")
    recommendation_decide(actor=agent, recommendation_id=second.pk, accepted=True)
    recommendation_decide(actor=agent, recommendation_id=offer(bob, "strategy:a").pk, accepted=False)
    offer(cleo, "strategy:b")
    accepted = recommendation_acceptances(source_key="strategy:a", customer_ids=[ada.pk, bob.pk, cleo.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    assert accepted == {ada.pk: [first.decided_at, second.decided_at]}
    assert recommendation_acceptances(source_key="strategy:a", customer_ids=[]) == {}


def test_customers_in_a_conversation_are_those_whose_conversation_has_not_ended(team_a):
    from engagement.conversations.models import Conversation
    from engagement.conversations.selectors import customers_in_conversation
    from engagement.conversations.services import conversation_start

    talking, done, silent = (CustomerFactory(team=team_a) for _ in range(3))
    conversation_start(channel=Channel.CHAT, customer=talking)
    ended, _ = conversation_start(channel=Channel.CHAT, customer=done)
    Conversation.objects.filter(pk=ended.pk).update(status="ended")
    assert customers_in_conversation(customer_ids=[talking.pk, done.pk, silent.pk]) == {talking.pk}
    assert customers_in_conversation(customer_ids=[]) == set()


# --- REST API -------------------------------------------------------------------------------------

LIST = "/api/v1/engagement/recommendations/"


def decide_url(action, decision):
    return f"/api/v1/engagement/recommendations/{action.pk}/{decision}/"


def test_the_api_lists_a_customers_open_actions_best_first(customer, agent):
    offer(customer, "strategy:a", score=0.3, title="A")
    offer(customer, "strategy:b", score=0.8, title="B")
    response = session_client(agent).get(LIST, {"customer": customer.pk})
    assert response.status_code == 200
    assert [(row["title"], row["score"], row["status"]) for row in response.json()] == [
        ("B", 0.8, "offered"),
        ("A", 0.3, "offered"),
    ]
    assert response.json()[0]["reasons"] == ["churn risk 0.8", "tenure 6 years"]


def test_the_api_lists_decided_actions_by_status(customer, agent):
    action = offer(customer)
    recommendation_decide(actor=agent, recommendation_id=action.pk, accepted=True)
    response = session_client(agent).get(LIST, {"customer": customer.pk, "status": "accepted"})
    assert [row["id"] for row in response.json()] == [action.pk]
    assert session_client(agent).get(LIST, {"customer": customer.pk}).json() == []


def test_the_api_refuses_another_teams_customer_and_an_unknown_one(customer, agent_b):
    offer(customer)
    assert_error(session_client(agent_b).get(LIST, {"customer": customer.pk}), 403)
    assert_error(session_client(agent_b).get(LIST, {"customer": 999999}), 404)
    assert_error(session_client(agent_b).get(LIST), 400)


def test_accepting_and_dismissing_through_the_api(customer, agent, supervisor):
    first, second = offer(customer, "strategy:a"), offer(customer, "strategy:b")
    accepted = session_client(agent).post(decide_url(first, "accept"), {"note": "customer agreed"}, format="json")
    dismissed = session_client(supervisor).post(decide_url(second, "dismiss"), {}, format="json")
    assert (accepted.status_code, accepted.json()["status"], accepted.json()["note"]) == (
        200,
        "accepted",
        "customer agreed",
    )
    assert (dismissed.status_code, dismissed.json()["status"]) == (200, "dismissed")
    assert_error(session_client(agent).post(decide_url(first, "dismiss"), {}, format="json"), 409, "already_decided")


def test_the_api_refuses_team_b_deciding(customer, agent_b):
    action = offer(customer)
    assert_error(session_client(agent_b).post(decide_url(action, "accept"), {}, format="json"), 403)
    action.refresh_from_db()
    assert action.status == "offered"


def test_api_tokens_need_the_customers_scopes(customer, integration_user):
    action = offer(customer)
    reader = token_client(integration_user, scopes=("customers:read",))
    assert reader.get(LIST, {"customer": customer.pk}).status_code == 200
    assert_error(reader.post(decide_url(action, "accept"), {}, format="json"), 403)
    assert_error(token_client(integration_user).get(LIST, {"customer": customer.pk}), 403)
    writer = token_client(integration_user, scopes=("customers:read", "customers:write"))
    assert writer.post(decide_url(action, "accept"), {}, format="json").json()["status"] == "accepted"


# --- The console ----------------------------------------------------------------------------------


def test_the_console_shows_a_supervisor_their_teams_actions_only(customer, supervisor, team_b):
    supervisor.is_staff = True
    supervisor.save()
    offer(customer, title="Team A's action")
    offer(CustomerFactory(team=team_b), title="Team B's action")
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/engagement/recommendedaction/")
    assert page.status_code == 200
    assert b"Team A&#x27;s action" in page.content and b"Team B" not in page.content
    assert client.get("/admin/engagement/recommendedaction/add/").status_code == 403


# --- The desk's card ------------------------------------------------------------------------------


def test_the_desks_card_shows_the_ranked_actions_with_reasons_and_score(customer, agent):
    conversation = on_desk(agent, customer=customer)
    offer(customer, "strategy:a", score=0.25, title="Upgrade the plan", reasons=["propensity 0.25"])
    offer(customer, "strategy:b", score=0.75, title="Offer a discount", reasons=["churn risk 0.75", "complained"])
    client = Client()
    client.force_login(agent)
    page = parse(client.get(f"/desk/conversations/{conversation.pk}/"))
    card = page.find(cls="next-best-action")
    items = card.find_all(cls="recommendation")
    assert [item.find(cls="recommendation-title").text for item in items] == ["Offer a discount", "Upgrade the plan"]
    assert [item.find(cls="score").text for item in items] == ["0.75", "0.25"]
    assert [li.text for li in items[0].find(cls="reasons").find_all("li")] == ["churn risk 0.75", "complained"]
    accept = items[0].find("button", data_testid="recommendation-accept")
    assert accept.attrs["hx-post"] == reverse(
        "engagement:desk-recommendation-decide", args=[items[0].attrs["data-recommendation-id"], "accept"]
    )


def test_accepting_on_the_desk_answers_with_the_card_without_it(customer, agent):
    conversation = on_desk(agent, customer=customer)
    action = offer(customer, title="Offer a discount")
    client = Client()
    client.force_login(agent)
    # When the agent clicks Accept (htmx posts it)
    response = client.post(reverse("engagement:desk-recommendation-decide", args=[action.pk, "accept"]), **HTMX)
    # Then the card comes back without the action, saying what happened, and the decision names the conversation
    assert response.status_code == 200
    card = parse(response).find(cls="next-best-action")
    assert card.find(cls="ok").text == "Accepted: Offer a discount."
    assert card.find_all(cls="recommendation") == []
    action.refresh_from_db()
    assert (action.status, action.decided_by, action.conversation) == ("accepted", agent, conversation)


def test_deciding_twice_on_the_desk_shows_why_in_the_card(customer, agent):
    action = offer(customer)
    recommendation_decide(actor=agent, recommendation_id=action.pk, accepted=False)
    client = Client()
    client.force_login(agent)
    response = client.post(reverse("engagement:desk-recommendation-decide", args=[action.pk, "accept"]), **HTMX)
    assert response.status_code == 409
    assert "already dismissed" in parse(response).find(cls="next-best-action").text


def test_another_teams_agent_cannot_read_or_decide_on_the_desk(customer, agent_b):
    action = offer(customer)
    client = Client()
    client.force_login(agent_b)
    assert client.get(reverse("engagement:desk-next-best-action", args=[customer.pk])).status_code == 403
    assert client.post(reverse("engagement:desk-recommendation-decide", args=[action.pk, "accept"])).status_code == 403
    action.refresh_from_db()
    assert action.status == "offered"


def test_the_beat_runs_the_expiry_sweep_and_the_callback_sweep(settings, customer):
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("engagement.recommendations.expire", "engagement.outbound.queue_due_callbacks"):
        assert name in beat and name in current_app.tasks
    lapsed = offer(customer, expires_at=timezone.now() + timedelta(minutes=1))
    RecommendedAction.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_recommendations() == 1
    lapsed.refresh_from_db()
    assert lapsed.status == "expired"
