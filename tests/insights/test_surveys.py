"""Surveys: configuration, sending and skipping, the one-time link, SMS replies, figures, eNPS, the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cea.common.errors import Conflict, ValidationFailed
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_close, conversation_start
from engagement.idv import senders
from insights.access import figures_scope
from insights.surveys import personal_data
from insights.surveys.models import PulseAnswer, PulseParticipation, Survey, SurveyConfig
from insights.surveys.selectors import pulse_figures, survey_report, surveys_in_scope
from insights.surveys.services import (
    SurveyClosed,
    pulse_answer,
    pulse_period,
    survey_answer,
    survey_config_errors,
    survey_config_save,
    survey_dispatch,
)
from tests.accounts.factories import UserFactory
from tests.engagement.adapter_support import isolate_redis, signed_post
from tests.engagement.factories import WebhookSourceFactory
from tests.insights.survey_support import consenting_customer, ended_interaction, survey_config
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks", "outboxes")]


@pytest.fixture
def outboxes(settings):
    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CEA_PUBLIC_URL = "https://cea.example"
    senders.outbox.clear()
    yield from isolate_redis(settings)


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """``survey_dispatch`` as its task runs it: the invitation goes out when the transaction commits."""

    def run(interaction_id: int):
        with django_capture_on_commit_callbacks(execute=True):
            return survey_dispatch(interaction_id=interaction_id)

    return run


def token_of(text: str) -> str:
    found = re.search(r"https://cea\.example/s/([A-Za-z0-9_-]+)/", text)
    assert found is not None, text
    return found.group(1)


# --- Configuration ------------------------------------------------------------------------------


def test_a_configuration_with_bad_values_says_what_is_wrong_and_saves_nothing(admin_user):
    # Given a configuration on voice with a share of 120 % and a cap of 400 days
    config = SurveyConfig(channel="voice", kind="csat", sample_percent=120, cap_days=400, valid_hours=0)
    # When an administrator saves it
    with pytest.raises(ValidationFailed) as refused:
        survey_config_save(actor=admin_user, config=config)
    # Then each field says what is wrong, and nothing is saved
    assert set(refused.value.fields) == {"channel", "sample_percent", "cap_days", "valid_hours"}
    assert "chat widget, by email or by SMS" in refused.value.fields["channel"][0]
    assert SurveyConfig.objects.count() == 0


def test_a_second_configuration_of_the_same_queue_and_channel_is_refused(admin_user, supervisor):
    survey_config(channel="email", queue="Billing")
    # When another one for the same queue and channel is checked
    problems = survey_config_errors(SurveyConfig(channel="email", queue="Billing", kind="nps"))
    # Then the queue field says there is one already
    assert problems == {"queue": "There is already a survey for queue 'Billing' on Email; edit that one."}
    # And a supervisor may not configure surveys at all
    with pytest.raises(Exception, match="Only an administrator"):
        survey_config_save(actor=supervisor, config=SurveyConfig(channel="sms", kind="csat"))


def test_the_console_form_shows_the_validation_errors(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/insights/surveyconfig/add/",
        {"channel": "sms", "queue": "", "kind": "csat", "sample_percent": "150", "cap_days": "30",
         "consent_purpose": "research", "valid_hours": "72", "question": ""},
    )  # fmt: skip
    assert response.status_code == 200
    assert "A share of conversations between 0 and 100 (percent)." in response.content.decode()
    assert SurveyConfig.objects.count() == 0


# --- Sending and skipping -----------------------------------------------------------------------


def test_an_sms_survey_is_sent_with_a_one_time_link_after_the_conversation(team_a, agent, dispatch):
    survey_config(channel="sms", valid_hours=48)
    customer = consenting_customer(team_a)
    interaction = ended_interaction(customer=customer, agent=agent, team=team_a)
    # When the survey is dispatched
    survey = dispatch(interaction.pk)
    # Then it is sent by SMS to the customer's phone, tied to the interaction, agent, team and queue
    assert (survey.status, survey.channel, survey.sent_to) == ("sent", "sms", "+447911123456")
    assert (survey.interaction_id, survey.agent_id, survey.team_id, survey.queue) == (
        interaction.pk, agent.pk, team_a.pk, "Support",
    )  # fmt: skip
    assert survey.expires_at - survey.sent_at == timedelta(hours=48)
    assert len(senders.outbox) == 1 and senders.outbox[0].to == "+447911123456"
    token = token_of(senders.outbox[0].text)
    assert survey.token_hash != token and len(survey.token_hash) == 64
    # And dispatching again changes nothing and sends nothing
    assert dispatch(interaction.pk).pk == survey.pk
    assert Survey.objects.count() == 1 and len(senders.outbox) == 1


def test_a_survey_is_skipped_with_its_reason(team_a, agent, dispatch):
    survey_config(channel="sms", cap_days=30)
    # No consent: the customer withdrew it
    withdrawn = consenting_customer(team_a, granted=False)
    # No address: consent, but no phone
    no_phone = consenting_customer(team_a, given_name="Bob", phone="+447911000222", email="b@example.com")
    no_phone.identities.filter(kind="phone").delete()
    no_phone.phone = ""
    no_phone.save(update_fields=["phone"])
    # Capped: surveyed a week ago
    capped = consenting_customer(team_a, given_name="Cleo", phone="+447911000111", email="c@example.com")
    Survey.objects.create(kind="csat", channel="sms", status="answered", customer=capped,
                          sent_at=timezone.now() - timedelta(days=7))  # fmt: skip
    reasons = {
        name: dispatch(ended_interaction(customer=c, agent=agent, team=team_a).pk).skip_reason
        for name, c in (("withdrawn", withdrawn), ("no_phone", no_phone), ("capped", capped))
    }
    # Abandoned: no agent answered
    abandoned = dispatch(ended_interaction(customer=withdrawn, agent=None, team=team_a).pk).skip_reason
    assert reasons == {"withdrawn": "no_consent", "no_phone": "no_address", "capped": "capped"}
    assert abandoned == "abandoned"
    assert senders.outbox == []


def test_sampling_is_stable_and_zero_percent_samples_everyone_out(team_a, agent, dispatch):
    survey_config(channel="sms", sample_percent=0)
    customer = consenting_customer(team_a)
    survey = dispatch(ended_interaction(customer=customer, agent=agent, team=team_a).pk)
    assert (survey.status, survey.skip_reason) == ("skipped", "sampled_out")


def test_the_queue_s_own_configuration_wins_and_no_configuration_means_no_survey(team_a, agent, dispatch):
    survey_config(channel="email", queue="", kind="csat")
    survey_config(channel="email", queue="Billing", kind="nps")
    customer = consenting_customer(team_a, channel="email")
    billing = dispatch(
        ended_interaction(customer=customer, agent=agent, team=team_a, channel="email", queue="Billing").pk
    )
    assert billing.kind == "nps"
    assert dispatch(ended_interaction(customer=customer, agent=agent, team=team_a).pk) is None


# --- The one-time link ----------------------------------------------------------------------------


def test_the_email_link_answers_once_and_writes_csat_back(team_a, agent, dispatch):
    survey_config(channel="email")
    customer = consenting_customer(team_a, channel="email")
    interaction = ended_interaction(customer=customer, agent=agent, team=team_a, channel="email")
    dispatch(interaction.pk)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    token = token_of(mail.outbox[0].body)
    browser = Client(enforce_csrf_checks=True)
    # When the customer opens the link, and posts the form with its CSRF token
    page = browser.get(f"/s/{token}/")
    assert page.status_code == 200 and b'data-testid="survey-form"' in page.content
    csrf = page.cookies["csrftoken"].value
    answered = browser.post(
        f"/s/{token}/", {"score": "5", "comment": "Card 4111 1111 1111 1111 kept safe", "csrfmiddlewaretoken": csrf}
    )
    # Then the answer is kept (comment redacted) and written back to the interaction
    assert answered.status_code == 200 and b"survey-thanks" in answered.content
    survey = Survey.objects.get()
    assert (survey.status, survey.score) == ("answered", 5)
    assert survey.comment == "Card 411111******1111 kept safe"
    interaction.refresh_from_db()
    assert interaction.satisfaction == 5
    # And the link does not answer twice
    again = browser.get(f"/s/{token}/")
    assert again.status_code == 410 and b'data-code="survey_answered"' in again.content


def test_a_form_post_without_csrf_token_is_refused(team_a, agent, dispatch):
    survey_config(channel="email")
    customer = consenting_customer(team_a, channel="email")
    dispatch(ended_interaction(customer=customer, agent=agent, team=team_a, channel="email").pk)
    token = token_of(mail.outbox[0].body)
    response = Client(enforce_csrf_checks=True).post(f"/s/{token}/", {"score": "5"})
    assert response.status_code == 403
    assert Survey.objects.get().status == "sent"


def test_an_expired_tampered_or_off_scale_answer_is_refused(team_a, agent, dispatch):
    survey_config(channel="sms", valid_hours=1)
    customer = consenting_customer(team_a)
    dispatch(ended_interaction(customer=customer, agent=agent, team=team_a).pk)
    token = token_of(senders.outbox[0].text)
    # Off the scale: a field error, nothing written
    with pytest.raises(ValidationFailed) as off_scale:
        survey_answer(token=token, score=6)
    assert off_scale.value.fields == {"score": ["A whole number from 1 to 5."]}
    form = Client().post(f"/s/{token}/", {"score": "9", "comment": "kept"})
    assert form.status_code == 400 and b"The answer is invalid. A whole number from 1 to 5.</div>" in form.content
    assert b">kept</textarea>" in form.content
    # Tampered: not found
    page = Client().get(f"/s/{token[:-1]}x/")
    assert page.status_code == 404 and b'data-code="survey_not_found"' in page.content
    # Expired: a clear page
    with pytest.raises(SurveyClosed) as expired:
        survey_answer(token=token, score=4, now=timezone.now() + timedelta(hours=2))
    assert expired.value.code == "survey_expired"
    assert Survey.objects.get().status == "sent"


def test_the_answer_api_takes_the_widget_s_answer_once(team_a, agent, dispatch):
    survey_config(channel="sms")
    customer = consenting_customer(team_a)
    dispatch(ended_interaction(customer=customer, agent=agent, team=team_a).pk)
    token = token_of(senders.outbox[0].text)
    client = APIClient()
    response = client.post(
        "/api/v1/insights/surveys/answers/", {"token": token, "score": 4, "comment": "ok"}, format="json"
    )
    assert response.status_code == 201 and response.json()["score"] == 4
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_error(
        client.post("/api/v1/insights/surveys/answers/", {"token": token, "score": 4}, format="json"),
        410,
        "survey_answered",
    )
    assert_error(client.post("/api/v1/insights/surveys/answers/", {"token": "nope", "score": 4}, format="json"), 404)


# --- SMS replies through the real webhook -----------------------------------------------------------


def test_an_sms_reply_answers_the_open_survey_and_opens_no_conversation(team_a, agent, dispatch):
    source = WebhookSourceFactory(name="sms-gateway", channel="sms", secret="whsec_1", queue="SMS", team=team_a)
    survey_config(channel="sms", kind="nps")
    customer = consenting_customer(team_a)
    dispatch(ended_interaction(customer=customer, agent=agent, team=team_a).pk)
    reply = {"message_id": "SM1", "from": "+447911123456", "to": "+442079460123", "text": "9 very helpful",
             "sent_at": timezone.now().isoformat()}  # fmt: skip
    # When the customer replies by SMS (delivered twice by the provider)
    first = signed_post(APIClient(), source, reply)
    second = signed_post(APIClient(), source, reply)
    # Then the survey is answered once, and no conversation is opened
    survey = Survey.objects.get()
    assert first.status_code == 200 and first.json() == {"claimed_by": "survey", "reference": str(survey.pk)}
    assert second.json() == first.json()
    assert (survey.status, survey.score, survey.comment, survey.answer_ref) == (
        "answered",
        9,
        "very helpful",
        "sms-gateway:SM1",
    )
    assert Conversation.objects.count() == 0
    # And a later text from them is an ordinary message again
    later = signed_post(APIClient(), source, {**reply, "message_id": "SM2", "text": "10 thanks again"})
    assert later.status_code == 201 and Conversation.objects.count() == 1


def test_ending_a_conversation_dispatches_its_survey_on_commit(team_a, agent, django_capture_on_commit_callbacks):
    survey_config(channel="sms")
    customer = consenting_customer(team_a)
    conversation, _ = conversation_start(channel="sms", customer=customer, team=team_a, queue="Support")
    conversation.agent = agent
    conversation.save(update_fields=["agent"])
    # When the conversation is closed and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        interaction = conversation_close(actor=None, conversation=conversation, ended_at=timezone.now())
    # Then its survey was sent
    survey = Survey.objects.get()
    assert (survey.interaction_id, survey.status, survey.agent_id) == (interaction.pk, "sent", agent.pk)
    assert len(senders.outbox) == 1


# --- Figures ------------------------------------------------------------------------------------


def answered(kind: str, score: int, **fields) -> Survey:
    return Survey.objects.create(kind=kind, channel="sms", status="answered", score=score, sent_at=timezone.now(),
                                 responded_at=timezone.now(), **fields)  # fmt: skip


def test_the_figures_follow_their_formulas(team_a, admin_user):
    for score in (5, 4, 3, 1):
        answered("csat", score, team=team_a)
    for score in (10, 9, 8, 6, 0):
        answered("nps", score, team=team_a)
    for score in (7, 4):
        answered("ces", score, team=team_a)
    for _ in range(3):
        Survey.objects.create(kind="csat", channel="sms", status="sent", sent_at=timezone.now(), team=team_a)
    Survey.objects.create(kind="csat", channel="sms", status="skipped", skip_reason="capped", team=team_a)
    report = survey_report(surveys=surveys_in_scope(scope=figures_scope(admin_user)), group_by="team")
    total = report.total
    assert (total.sent, total.responses) == (14, 11)
    assert total.response_rate == round(100 * 11 / 14, 1)
    assert total.csat == 50.0  # 2 of 4 answered 4 or 5
    assert total.nps == 0.0  # (2 promoters - 2 detractors) / 5
    assert total.ces == 5.5
    assert total.skipped["capped"] == 1


def test_the_report_api_and_page_are_scoped_to_the_supervisor_s_teams(team_a, team_b, supervisor, agent, admin_user):
    answered("csat", 5, team=team_a, agent=agent)
    answered("csat", 1, team=team_b)
    # The supervisor of team A sees team A's only
    mine = session_client(supervisor).get("/api/v1/insights/surveys/").json()
    assert (mine["total"]["responses"], mine["total"]["csat"]) == (1, 100.0)
    # An administrator sees both; an integration client with insights:read too
    everything = session_client(admin_user).get("/api/v1/insights/surveys/", {"group_by": "team"}).json()
    assert everything["total"]["csat"] == 50.0 and [g["key"] for g in everything["groups"]] == ["Team A", "Team B"]
    # A bad selection is a field error
    assert_error(
        session_client(admin_user).get("/api/v1/insights/surveys/", {"start": "2026-02-01", "end": "2026-01-01"}), 400
    )
    # The page states the formulas and shows the team's figures; agents may not open it
    page = Client()
    page.force_login(supervisor)
    html = page.get("/insights/surveys/").content.decode()
    assert "satisfied responses (4 or 5)" in html and 'data-testid="survey-csat">100.0 %' in html
    csv = page.get("/insights/surveys/surveys.csv").content.decode().splitlines()
    assert csv[0].startswith("agent,sent,responses") and csv[-1].startswith("all,1,1,100.0")
    agent_page = Client()
    agent_page.force_login(agent)
    assert agent_page.get("/insights/surveys/").status_code == 403


def test_the_report_api_needs_the_insights_scope(integration_user):
    answered("nps", 10)
    assert (
        token_client(integration_user, scopes=("insights:read",))
        .get("/api/v1/insights/surveys/")
        .json()["total"]["nps"]
        == 100.0
    )
    assert (
        token_client(integration_user, scopes=("conversations:read",)).get("/api/v1/insights/surveys/").status_code
        == 403
    )


# --- Employee pulse -----------------------------------------------------------------------------


def test_the_pulse_is_anonymous_once_a_month_and_shown_only_from_five_answers(team_a, team_b, supervisor):
    agents = [UserFactory(username=f"a{i}", role="agent", teams=[team_a]) for i in range(5)]
    other = UserFactory(username="b0", role="agent", teams=[team_b])
    for index, member in enumerate(agents[:4]):
        pulse_answer(actor=member, score=[10, 9, 7, 3][index])
    pulse_answer(actor=other, score=10)
    period = pulse_period(timezone.localdate())
    # Four answers in team A: no score shown
    total, _ = pulse_figures(period=period, team_ids=frozenset({team_a.pk}))
    assert (total.answers, total.enps) == (4, None)
    # A second answer in the month is refused
    with pytest.raises(Conflict):
        pulse_answer(actor=agents[0], score=0)
    # The fifth answer shows team A's eNPS: (2 - 1) / 5
    pulse_answer(actor=agents[4], score=8)
    total, _ = pulse_figures(period=period, team_ids=frozenset({team_a.pk}))
    assert (total.answers, total.enps) == (5, 20.0)
    # The answers name no one; participation says only who answered
    assert [f.name for f in PulseAnswer._meta.fields] == ["id", "team", "period", "score"]
    assert PulseParticipation.objects.count() == 6
    # Team B's single answer is not shown to an admin either
    _, every_team = pulse_figures(period=period, team_ids=None)
    assert {(t.key, t.enps) for t in every_team} == {("Team A", 20.0), ("Team B", None)}
    # The supervisor's page says so
    page = Client()
    page.force_login(supervisor)
    html = page.get("/insights/surveys/pulse/").content.decode()
    assert "20.0" in html and "Team B" not in html


# --- Personal data ------------------------------------------------------------------------------


def test_personal_data_is_exported_and_erased(team_a, agent):
    customer = consenting_customer(team_a)
    answered("csat", 4, customer=customer, comment="Alice here", sent_to="+447911123456")
    exported = personal_data.export_for_customer(customer.pk)
    assert [(row["score"], row["comment"], row["sent_to"]) for row in exported] == [(4, "Alice here", "+447911123456")]
    assert personal_data.erase_for_customer(customer.pk) == 1
    survey = Survey.objects.get()
    assert (survey.customer_id, survey.comment, survey.sent_to, survey.score) == (None, "", "", 4)
    assert personal_data.export_for_customer(customer.pk) == []


def test_an_agent_answers_the_pulse_on_its_page_once(agent, integration_user):
    page = Client()
    page.force_login(agent)
    assert b'data-testid="pulse-form"' in page.get("/insights/surveys/pulse/").content
    # When the agent answers
    answered = page.post("/insights/surveys/pulse/", {"score": "9"})
    # Then the answer is kept with the team only, and the page no longer asks
    assert answered.status_code == 200 and b"pulse-thanks" in answered.content
    assert list(PulseAnswer.objects.values_list("team_id", "score")) == [(agent.teams.get().pk, 9)]
    assert b"pulse-thanks" in page.get("/insights/surveys/pulse/").content
    # A score off the scale is refused with its reason, a second answer in the month too
    off_scale = page.post("/insights/surveys/pulse/", {"score": "11"})
    assert off_scale.status_code == 400 and b"invalid. A whole number from 0 to 10.</div>" in off_scale.content
    second = page.post("/insights/surveys/pulse/", {"score": "3"})
    assert second.status_code == 409 and b"already answered this month" in second.content
    assert PulseAnswer.objects.count() == 1
    # An integration client may not open the pulse
    client = Client()
    client.force_login(integration_user)
    assert client.get("/insights/surveys/pulse/").status_code == 403
