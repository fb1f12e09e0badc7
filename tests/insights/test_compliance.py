"""Automatic compliance checks: required and forbidden phrases per queue, said by the agent, checked when a
conversation is recorded and by the backfill; the report page and API, scoped by team."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cea.common.channels import Channel, Direction
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import conversation_start, message_add
from engagement.orchestration import conversation_end
from insights.compliance.models import ComplianceCheck, ComplianceRule
from insights.compliance.rules import agent_turns, evaluate, normalise, rule_errors
from insights.compliance.services import compliance_backfill, compliance_evaluate_interaction
from records.interactions.models import Interaction
from tests.support import make_customer, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]

API = "/api/v1/insights/compliance/"
PAGE = "/insights/compliance/"
DISCLOSURE = "this call may be recorded"


def rule(key: str, kind: str, phrase: str, *, queue: str = "sales", is_regex: bool = False) -> ComplianceRule:
    return ComplianceRule.objects.create(key=key, name=key, queue=queue, kind=kind, phrase=phrase, is_regex=is_regex)


def contact(*, queue: str = "sales", team=None, agent=None, lines=(), days_ago: float = 1) -> Interaction:
    started = timezone.now() - dt.timedelta(days=days_ago)
    return Interaction.objects.create(
        channel=Channel.VOICE,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=3),
        queue=queue,
        team=team,
        agent=agent,
        transcript=[{"at": started.isoformat(), "author": author, "body": body} for author, body in lines],
    )


# --- Matching ---------------------------------------------------------------------------------------


def test_matching_ignores_case_and_runs_of_whitespace_and_counts_only_the_agent():
    # Given
    required = ComplianceRule(kind="required", phrase="This call  may be RECORDED")
    forbidden = ComplianceRule(kind="forbidden", phrase="calm down")
    turns = agent_turns(
        [
            {"author": "customer", "body": "Calm down? you calm down"},
            {"author": "agent", "body": "Hello,\nthis   call may be\trecorded for training."},
            {"author": "agent", "body": "whisper: calm down", "internal": True},
        ]
    )
    # When
    said, clean = evaluate(required, turns), evaluate(forbidden, turns)
    # Then
    assert normalise("  A\n\tB  ") == "a b"
    assert (said.passed, said.entry_index) == (True, 1)
    assert (clean.passed, clean.entry_index) == (True, None)


def test_a_forbidden_phrase_fails_with_where_and_the_words_around_it_and_regex_rules_work():
    turns = agent_turns([{"author": "agent", "body": "Honestly, that is your own fault, sir."}])
    verdict = evaluate(ComplianceRule(kind="forbidden", phrase=r"\byour (own )?fault\b", is_regex=True), turns)
    missing = evaluate(ComplianceRule(kind="required", phrase=DISCLOSURE), turns)
    assert (verdict.passed, verdict.entry_index, verdict.excerpt) == (
        False,
        0,
        "honestly, that is your own fault, sir.",
    )
    assert (missing.passed, missing.entry_index) == (False, None)


def test_a_bad_expression_or_phrase_is_refused_with_the_reason():
    assert rule_errors(phrase="(unclosed", is_regex=True, kind="required")["phrase"].startswith(
        "Not a valid regular expression"
    )
    assert rule_errors(phrase="a*", is_regex=True, kind="forbidden") == {
        "phrase": "This expression matches empty text, so it would match every transcript."
    }
    assert rule_errors(phrase="  ", is_regex=False, kind="maybe") == {
        "kind": "Choose required or forbidden.",
        "phrase": "A phrase is needed.",
    }
    assert rule_errors(phrase=DISCLOSURE, is_regex=False, kind="required") == {}


# --- Evaluation -------------------------------------------------------------------------------------


def test_a_recorded_conversation_is_checked_against_its_queue_s_rules(django_capture_on_commit_callbacks, team_a):
    # Given: a rule for sales, one for every queue, one for another queue
    rule("disclosure", "required", DISCLOSURE)
    rule("no-guarantee", "forbidden", "guaranteed returns", queue="")
    rule("other-queue", "required", "hello", queue="support")
    conversation, _ = conversation_start(channel=Channel.CHAT, visitor="v-9", queue="sales", team=team_a)
    message_add(conversation=conversation, direction=Direction.INBOUND, author_kind=AuthorKind.CUSTOMER, body="Hi")
    message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        body="This fund has Guaranteed   returns!",
    )
    # When
    with django_capture_on_commit_callbacks(execute=True):
        interaction = conversation_end(actor=None, conversation=conversation)
    # Then
    verdicts = dict(ComplianceCheck.objects.filter(interaction=interaction).values_list("rule__key", "passed"))
    assert verdicts == {"disclosure": False, "no-guarantee": False}
    flagged = ComplianceCheck.objects.get(interaction=interaction, rule__key="no-guarantee")
    assert (flagged.entry_index, flagged.excerpt, flagged.team_id) == (
        1,
        "this fund has guaranteed returns!",
        team_a.pk,
    )


def test_a_contact_where_no_agent_spoke_is_not_judged_and_the_backfill_is_idempotent():
    rule("disclosure", "required", DISCLOSURE)
    contained = contact(lines=[("customer", "hi"), ("bot", "hello")])
    handled = contact(lines=[("agent", "Hi, this call may be recorded.")])
    first = compliance_backfill()
    again = compliance_backfill()
    assert compliance_evaluate_interaction(interaction=contained) == []
    assert list(ComplianceCheck.objects.values_list("interaction_id", "passed")) == [(handled.pk, True)]
    assert first == again == {"interactions": 2, "verdicts": 1}


# --- Report, API and console, by team ----------------------------------------------------------------


@pytest.fixture
def two_teams(team_a, team_b, agent, agent_b):
    rule("disclosure", "required", DISCLOSURE)
    ours = contact(team=team_a, agent=agent, lines=[("agent", "Hello!")])
    theirs = contact(team=team_b, agent=agent_b, lines=[("agent", "Hi!")])
    passed = contact(team=team_a, agent=agent, lines=[("agent", "Hi, this call may be recorded.")])
    compliance_backfill()
    return ours, theirs, passed


def test_a_supervisor_sees_their_teams_verdicts_and_an_admin_all(two_teams, supervisor, admin_user):
    ours, theirs, _ = two_teams
    mine = session_client(supervisor).get(API).json()
    everyone = token_client(admin_user, scopes=("insights:read",)).get(API).json()
    assert (mine["total"]["checks"], mine["total"]["failed"], mine["total"]["pass_rate"]) == (2, 1, 0.5)
    assert [flag["interaction"] for flag in mine["flagged"]] == [ours.pk]
    assert mine["by_agent"] == [
        {"key": str(ours.agent_id), "label": "agent.a", "checks": 2, "failed": 1, "pass_rate": 0.5}
    ]
    assert sorted(flag["interaction"] for flag in everyone["flagged"]) == sorted([ours.pk, theirs.pk])
    assert everyone["by_queue"] == [{"key": "sales", "label": "sales", "checks": 3, "failed": 2, "pass_rate": 0.3333}]


def test_agents_are_refused_and_another_team_s_interaction_is_forbidden(two_teams, agent, supervisor):
    ours, theirs, _ = two_teams
    assert session_client(agent).get(API).status_code == 403
    client = session_client(supervisor)
    own = client.get(f"{API}interactions/{ours.pk}/")
    assert (own.status_code, [c["rule_key"] for c in own.json()], own.json()[0]["passed"]) == (
        200,
        ["disclosure"],
        False,
    )
    assert client.get(f"{API}interactions/{theirs.pk}/").status_code == 403


def test_a_bad_period_is_a_400_with_the_reason(supervisor):
    response = session_client(supervisor).get(API, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["end"] == ["The last day must not be before the first."]


def test_only_an_admin_creates_a_rule_and_a_bad_expression_writes_nothing(supervisor, admin_user):
    body = {"key": "no-blame", "name": "No blame", "kind": "forbidden", "phrase": "your fault"}
    assert session_client(supervisor).post(f"{API}rules/", body, format="json").status_code == 403
    admin = session_client(admin_user)
    bad = admin.post(f"{API}rules/", {**body, "phrase": "(oops", "is_regex": True}, format="json")
    assert (bad.status_code, ComplianceRule.objects.count()) == (400, 0)
    created = admin.post(f"{API}rules/", body, format="json")
    assert (created.status_code, created.json()["key"], ComplianceRule.objects.count()) == (201, "no-blame", 1)


def test_the_page_lists_the_supervisor_s_flags_only(two_teams, supervisor, agent):
    ours, theirs, _ = two_teams
    client = Client()
    client.force_login(supervisor)
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert f"interaction #{ours.pk}<" in html and f"interaction #{theirs.pk}<" not in html
    client.force_login(agent)
    assert client.get(PAGE).status_code == 403


def test_supervisors_read_rules_in_the_console_and_only_admins_change_them(supervisor, admin_user):
    supervisor.is_staff = True
    supervisor.save()
    admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(supervisor)
    assert client.get("/admin/insights/compliancerule/").status_code == 200
    assert client.get("/admin/insights/compliancerule/add/").status_code == 403
    client.force_login(admin_user)
    response = client.post(
        "/admin/insights/compliancerule/add/",
        {"key": "bad", "name": "Bad", "queue": "", "kind": "required", "phrase": "[", "is_regex": "on", "active": "on"},
    )
    assert (response.status_code, ComplianceRule.objects.count()) == (200, 0)  # the form again, with the error
    assert "Not a valid regular expression" in response.content.decode()


def test_personal_data_export_and_erasure_blank_the_excerpts(team_a):
    from insights.compliance.personal_data import erase_for_customer, export_for_customer

    customer = make_customer(team_a)
    rule("no-blame", "forbidden", "your fault", queue="")
    interaction = contact(lines=[("agent", "Mrs Smith, it is your fault.")])
    Interaction.objects.filter(pk=interaction.pk).update(customer=customer)
    interaction.refresh_from_db()
    compliance_evaluate_interaction(interaction=interaction)
    assert [row["excerpt"] for row in export_for_customer(customer.pk)] == ["mrs smith, it is your fault."]
    assert (erase_for_customer(customer.pk), erase_for_customer(customer.pk)) == (1, 0)
    assert [(row["excerpt"], row["passed"]) for row in export_for_customer(customer.pk)] == [("", False)]


def test_the_hourly_sweeps_read_the_interactions_recorded_in_the_last_two_days(eager_tasks):
    from insights.sentiment.tasks import compliance_sweep_task, sentiment_backfill_task

    rule("disclosure", "required", DISCLOSURE)
    recent = contact(lines=[("customer", "This is awful, I hate it!"), ("agent", "Sorry, this call may be recorded.")])
    old = contact(lines=[("customer", "Thanks, great service!"), ("agent", "Bye.")])
    Interaction.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    checked = compliance_sweep_task.delay().get()
    scored = sentiment_backfill_task.delay().get()
    assert checked == {"interactions": 1, "verdicts": 1}
    assert scored["interactions"] == 1
    assert list(ComplianceCheck.objects.values_list("interaction_id", "passed")) == [(recent.pk, True)]
    assert Interaction.objects.get(pk=old.pk).sentiment is None
    assert Interaction.objects.get(pk=recent.pk).sentiment_label == "negative"
