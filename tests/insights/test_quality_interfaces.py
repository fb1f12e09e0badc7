"""Quality assurance through its interfaces: the pages (evaluate beside the transcript, acknowledge,
dispute), the API (roles, teams, token scopes, clear errors) and the console (scorecard validation and
versions)."""

from __future__ import annotations

import pytest
from django.test import Client

from insights.quality.models import Evaluation, EvaluationStatus, SampleItem, Scorecard
from insights.quality.services import evaluation_create
from tests.accounts.factories import UserFactory
from tests.insights.quality_support import full, ids, interaction, scorecard
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db
API = "/api/v1/insights/quality/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def card():
    return scorecard()


@pytest.fixture
def contact(team_a, agent):
    return interaction(team=team_a, agent=agent)


def form_answers(card: Scorecard, *, disclosure: str = "yes") -> dict[str, str]:
    by_text = ids(card)
    chosen = {"Greeting": "yes", "Resolved": "4", "Empathy": "yes", "Disclosure": disclosure}
    return {f"answer_{by_text[text]}": value for text, value in chosen.items()}


# --- Pages ------------------------------------------------------------------------------------


def test_a_supervisor_evaluates_on_the_page_with_the_transcript_beside_the_form(supervisor, contact, card, agent):
    client = signed_in(supervisor)
    # Given the new-evaluation page of the interaction
    page = client.get(f"/insights/quality/evaluations/new?interaction={contact.pk}")
    assert page.status_code == 200 and b"Calls (v1)" in page.content
    # When they start, then open the form
    started = client.post("/insights/quality/evaluations/new", {"interaction": contact.pk, "scorecard": card.pk})
    evaluation = Evaluation.objects.get()
    assert started.url == f"/insights/quality/evaluations/{evaluation.pk}/"
    form = client.get(started.url)
    # Then the transcript is beside the form
    assert b"My parcel never came." in form.content and b'data-testid="qa-form"' in form.content
    # When they submit with one question unanswered, the form says which and keeps the answers
    incomplete = form_answers(card)
    incomplete.pop(f"answer_{ids(card)['Empathy']}")
    refused = client.post(f"/insights/quality/evaluations/{evaluation.pk}/save/", {**incomplete, "action": "submit"})
    assert refused.status_code == 400 and b"Answer this question." in refused.content
    assert b'value="4" checked' in refused.content
    # When they submit every answer
    done = client.post(
        f"/insights/quality/evaluations/{evaluation.pk}/save/",
        {**form_answers(card, disclosure="no"), "comment": "Missed the disclosure.", "action": "submit"},
    )
    assert done.status_code == 302
    shown = client.get(done.url)
    # Then the score shows, failed with the reason
    assert b"0% \xe2\x80\x94 failed" in shown.content and b"Auto-fail: Disclosure" in shown.content
    # And the agent acknowledges on their page
    agent_client = signed_in(agent)
    assert f"#{evaluation.pk}".encode() in agent_client.get("/insights/quality/mine/").content
    agent_client.post(f"/insights/quality/evaluations/{evaluation.pk}/acknowledge/")
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.ACKNOWLEDGED


def test_the_pages_refuse_another_team_and_agents(team_b, supervisor, contact, card, agent):
    done = evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    outsider = signed_in(UserFactory(role="supervisor", teams=[team_b]))
    assert outsider.get(f"/insights/quality/evaluations/new?interaction={contact.pk}").status_code == 403
    assert (
        outsider.post(
            "/insights/quality/evaluations/new", {"interaction": contact.pk, "scorecard": card.pk}
        ).status_code
        == 403
    )
    assert outsider.get(f"/insights/quality/evaluations/{done.pk}/").status_code == 403
    assert signed_in(agent).get(f"/insights/quality/evaluations/new?interaction={contact.pk}").status_code == 403
    assert signed_in(agent).get("/insights/quality/").status_code == 302  # to their own evaluations
    assert outsider.get("/insights/quality/evaluations/new?interaction=999999").status_code == 404


def test_the_agent_disputes_and_the_supervisor_resolves_on_the_pages(supervisor, contact, card, agent):
    done = evaluation_create(
        actor=supervisor,
        interaction_id=contact.pk,
        scorecard_id=card.pk,
        answers=full(card, disclosure="no"),
        submit=True,
    )
    signed_in(agent).post(f"/insights/quality/evaluations/{done.pk}/dispute/", {"reason": "I read the disclosure."})
    home = signed_in(supervisor).get("/insights/quality/")
    assert b"I read the disclosure." in home.content
    # The resolve form posts every answer; only the changed one (disclosure no → yes) amends
    posted = {f"answer_{pk}": given.answer for pk, given in full(card, disclosure="yes").items()}
    signed_in(supervisor).post(
        f"/insights/quality/evaluations/{done.pk}/resolve/", {"outcome": "upheld", "note": "Confirmed.", **posted}
    )
    done.refresh_from_db()
    assert (done.status, done.score, done.original_score) == (EvaluationStatus.DISPUTE_UPHELD, 87.5, 0.0)


def test_the_queue_page_samples_on_demand_and_links_to_evaluate(supervisor, team_a, agent):
    contact = interaction(team=team_a, agent=agent, satisfaction=1)
    client = signed_in(supervisor)
    client.post("/insights/quality/sampling/generate/")
    assert SampleItem.objects.filter(interaction=contact, reason="low_satisfaction").exists()
    page = client.get("/insights/quality/")
    assert f"/insights/quality/evaluations/new?interaction={contact.pk}".encode() in page.content
    assert b"CSAT 1/5" in page.content
    assert signed_in(agent).post("/insights/quality/sampling/generate/").status_code == 403


def test_the_reports_page_rejects_a_bad_grouping(supervisor):
    client = signed_in(supervisor)
    assert client.get("/insights/quality/reports/?group_by=agent").status_code == 200
    assert client.get("/insights/quality/reports/?group_by=nope").status_code == 400
    assert client.get("/insights/quality/reports/?from=yesterday").status_code == 400


# --- API ----------------------------------------------------------------------------------------


def test_the_api_creates_and_submits_an_evaluation(supervisor, contact, card):
    body = {
        "interaction": contact.pk,
        "scorecard": card.pk,
        "answers": [{"question": pk, "answer": value.answer} for pk, value in full(card).items()],
        "comment": "Fine",
        "submit": True,
    }
    response = session_client(supervisor).post(f"{API}evaluations/", body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["score"], response.json()["status"]) == (87.5, "submitted")


def test_the_api_says_which_answer_is_wrong_and_writes_nothing(supervisor, contact, card):
    greeting = ids(card)["Greeting"]
    body = {"interaction": contact.pk, "scorecard": card.pk, "answers": [{"question": greeting, "answer": "maybe"}]}
    error = assert_error(session_client(supervisor).post(f"{API}evaluations/", body, format="json"), 400)
    assert error["fields"] == {f"q{greeting}": ["Answer yes, no or N/A."]}
    assert Evaluation.objects.count() == 0


def test_the_api_checks_teams_roles_and_scopes(team_b, supervisor, contact, card, agent, integration_user):
    done = evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    outsider = UserFactory(role="supervisor", teams=[team_b])
    assert session_client(outsider).get(f"{API}evaluations/").json() == []
    assert_error(session_client(outsider).get(f"{API}evaluations/{done.pk}/"), 403)
    body = {"interaction": contact.pk, "scorecard": card.pk}
    assert_error(session_client(outsider).post(f"{API}evaluations/", body, format="json"), 403)
    assert [row["id"] for row in session_client(agent).get(f"{API}evaluations/").json()] == [done.pk]
    assert_error(session_client(agent).post(f"{API}sampling/", {}, format="json"), 403)
    reader = token_client(integration_user, scopes=["insights:read"])
    assert [row["id"] for row in reader.get(f"{API}evaluations/").json()] == [done.pk]
    assert_error(token_client(integration_user, scopes=["customers:read"]).get(f"{API}evaluations/"), 403)
    assert_error(reader.post(f"{API}evaluations/", body, format="json"), 403)
    assert_error(session_client(outsider).get(f"{API}reports/?group_by=nope"), 400)
    assert_error(session_client(agent).get(f"{API}evaluations/?status=x%00"), 400)
    assert_error(session_client(agent).get(f"{API}evaluations/?interaction=%C2%B2"), 400)
    assert [row["id"] for row in session_client(agent).get(f"{API}evaluations/?status=submitted").json()] == [done.pk]
    assert session_client(outsider).get(f"{API}reports/").json() == []
    assert session_client(agent).get(f"{API}reports/").json()[0]["evaluations"] == 1


def test_the_agent_acknowledges_or_disputes_through_the_api(supervisor, contact, card, agent):
    done = evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    client = session_client(agent)
    assert_error(client.post(f"{API}evaluations/{done.pk}/dispute/", {"reason": ""}, format="json"), 400)
    disputed = client.post(f"{API}evaluations/{done.pk}/dispute/", {"reason": "Unfair"}, format="json")
    assert disputed.json()["status"] == "disputed"
    assert_error(client.post(f"{API}evaluations/{done.pk}/acknowledge/"), 409)
    resolved = session_client(supervisor).post(
        f"{API}evaluations/{done.pk}/resolve/", {"outcome": "rejected", "note": "Stands"}, format="json"
    )
    assert (resolved.json()["status"], resolved.json()["resolution_note"]) == ("dispute_rejected", "Stands")


def test_the_calibration_api_hides_results_until_one_s_own_is_submitted(team_a, supervisor, contact, card):
    second = UserFactory(role="supervisor", teams=[team_a])
    created = session_client(supervisor).post(
        f"{API}calibrations/",
        {"interaction": contact.pk, "scorecard": card.pk, "evaluators": [supervisor.pk, second.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    session = created.json()["id"]
    assert session_client(second).get(f"{API}calibrations/{session}/").json()["results"] is None
    mine = Evaluation.objects.get(calibration_id=session, evaluator=second)
    answers = [{"question": pk, "answer": value.answer} for pk, value in full(card).items()]
    session_client(second).patch(f"{API}evaluations/{mine.pk}/", {"answers": answers, "submit": True}, format="json")
    results = session_client(second).get(f"{API}calibrations/{session}/").json()["results"]
    assert [row["score"] for row in results["scores"]] == [None, 87.5]
    assert (results["mean"], results["std_dev"]) == (87.5, 0.0)


def test_the_scorecards_and_schema_are_published(supervisor, card):
    cards = session_client(supervisor).get(f"{API}scorecards/").json()
    calls = next(row for row in cards if row["name"] == "Calls")
    assert [(q["text"], q["weight"], q["auto_fail"]) for q in calls["questions"]] == [
        ("Greeting", 1, False),
        ("Resolved", 2, False),
        ("Empathy", 1, False),
        ("Disclosure", 1, True),
    ]
    schema = Client().get("/api/schema/").content
    assert b"/api/v1/insights/quality/evaluations/" in schema


# --- Console ------------------------------------------------------------------------------------


def console_post(card: Scorecard, rows: list[dict[str, str]], *, initial: int) -> dict[str, str]:
    data = {
        "name": card.name,
        "description": "",
        "is_active": "on",
        "questions-TOTAL_FORMS": str(len(rows)),
        "questions-INITIAL_FORMS": str(initial),
    }
    for index, row in enumerate(rows):
        data.update({f"questions-{index}-{key}": value for key, value in row.items()})
    return data


def existing_rows(card: Scorecard, **changes: str) -> list[dict[str, str]]:
    rows = []
    for question in card.questions.all():
        row = {
            "id": str(question.pk),
            "scorecard": str(card.pk),
            "section": question.section,
            "order": str(question.order),
            "text": question.text,
            "weight": str(question.weight),
            "answer_type": question.answer_type,
            "scale_max": str(question.scale_max),
        }
        if question.allows_na:
            row["allows_na"] = "on"
        if question.auto_fail:
            row["auto_fail"] = "on"
        rows.append(row)
    rows[0].update(changes)
    return rows


def test_the_console_refuses_a_zero_weight_and_a_scale_auto_fail(admin_user, card):
    client = signed_in(admin_user)
    url = f"/admin/insights/scorecard/{card.pk}/change/"
    response = client.post(url, console_post(card, existing_rows(card, weight="0"), initial=4))
    assert response.status_code == 200
    assert "The weight must be a whole number greater than 0." in response.content.decode()
    rows = existing_rows(card)
    rows[1]["auto_fail"] = "on"  # Resolved is a scale
    response = client.post(url, console_post(card, rows, initial=4))
    assert "Only a yes/no question can be an auto-fail item." in response.content.decode()
    assert list(card.questions.values_list("weight", flat=True)) == [1, 2, 1, 1]


def test_the_console_refuses_a_scorecard_without_questions(admin_user):
    client = signed_in(admin_user)
    response = client.post("/admin/insights/scorecard/add/", console_post(Scorecard(name="Empty"), [], initial=0))
    assert response.status_code == 200
    assert "A scorecard needs at least one question." in response.content.decode()
    assert not Scorecard.objects.filter(name="Empty").exists()


def test_editing_a_used_scorecard_in_the_console_raises_its_version(admin_user, supervisor, contact, card):
    evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    client = signed_in(admin_user)
    response = client.post(
        f"/admin/insights/scorecard/{card.pk}/change/", console_post(card, existing_rows(card, weight="3"), initial=4)
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.version == 2
    assert Evaluation.objects.get().scorecard_version == 1


def test_supervisors_read_scorecards_in_the_console_but_do_not_edit(supervisor, card):
    client = signed_in(supervisor)
    assert client.get(f"/admin/insights/scorecard/{card.pk}/change/").status_code == 200
    client.post(
        f"/admin/insights/scorecard/{card.pk}/change/", console_post(card, existing_rows(card, weight="9"), initial=4)
    )
    assert card.questions.get(text="Greeting").weight == 1


def test_a_used_scorecard_cannot_be_deleted_in_the_console(admin_user, supervisor, contact, card):
    evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card), submit=True
    )
    client = signed_in(admin_user)
    assert client.post(f"/admin/insights/scorecard/{card.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Scorecard.objects.filter(pk=card.pk).exists()
