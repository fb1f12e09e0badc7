"""Agent-started conversations from the customer 360 page: email, SMS and WhatsApp (an approved
template) with the consent check, SMS and WhatsApp through the provider outbox, and the customer's
answer routed back to the same agent (into the open conversation, or offered to them first).

SMS goes to a loopback Twilio speaking its Messages API (tests/engagement/provider_support.py); the
customer's answer comes in as Twilio posts it, signed as Twilio signs it.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import Conflict, ValidationFailed
from engagement.adapters.models import MessageTemplate, ProviderSend, SendStatus, TemplateStatus
from engagement.conversations.models import Conversation, ConversationStatus, Message
from engagement.orchestration import conversation_wrap_up
from engagement.outbound.services import outbound_start
from engagement.routing.engine import dispatch_queue, last_agent
from engagement.routing.models import OfferStatus, Presence, WorkItem, WorkStatus
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from records.customers.services import customer_set_consent
from records.journey.models import JourneyEvent
from tests.engagement.adapter_support import isolate_redis, make_customer
from tests.engagement.desktop_support import parse
from tests.engagement.factories import RoutableAgentFactory, WebhookSourceFactory
from tests.engagement.provider_support import (
    TWILIO_SID,
    TWILIO_TOKEN,
    Providers,
    twilio_inbound_params,
    twilio_request,
)
from tests.engagement.routing_support import fresh, pending_offer
from tests.support import assert_error, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

PHONE = "+447911123456"
OUR_NUMBER = "+442079460123"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def twilio(settings, monkeypatch):
    """A loopback Twilio, and the credentials of the sources tw-a and tw-a2."""
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    for name in ("TW_A", "TW_A2"):
        monkeypatch.setenv(f"CEA_SOURCE_{name}_ACCOUNT_SID", TWILIO_SID)
        monkeypatch.setenv(f"CEA_SOURCE_{name}_AUTH_TOKEN", TWILIO_TOKEN)
    yield server
    server.stop()


@pytest.fixture
def sms_source(team_a, twilio):
    return WebhookSourceFactory(name="tw-a", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")


@pytest.fixture
def whatsapp_source(team_a):
    return WebhookSourceFactory(
        name="wa-a", channel=Channel.SOCIAL, provider="whatsapp", sender_id="109876543210", team=team_a
    )


@pytest.fixture
def template(whatsapp_source):
    return MessageTemplate.objects.create(
        source=whatsapp_source,
        name="delivery_update",
        language="en_GB",
        body="Hello {{1}}, your order {{2}} is on its way.",
        params=2,
        status=TemplateStatus.APPROVED,
    )


@pytest.fixture
def customer(team_a):
    customer = make_customer(team_a, given_name="Ada", family_name="Lovelace", email="ada@example.com", phone=PHONE)
    for channel in (Channel.EMAIL, Channel.SMS, Channel.SOCIAL):
        customer_set_consent(actor=None, customer=customer, channel=channel, purpose="service", granted=True)
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="marketing", granted=False)
    return customer


def start(agent, customer, **fields):
    return outbound_start(actor=agent, customer=customer, purpose="service", source="agent", **fields)


def customer_texts(body: str, sid: str):
    """The customer answers by SMS: Twilio posts the inbound message to tw-a's webhook."""
    path = "/api/v1/engagement/providers/twilio/tw-a/sms/"
    params = twilio_inbound_params(sid=sid, sender=PHONE, to=OUR_NUMBER, body=body)
    headers = twilio_request(django_settings.CEA_PUBLIC_URL + path, params)
    response = Client().post(path, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 200, response.content
    return Message.objects.get(external_id=f"tw-a:{sid}").conversation


# --- SMS through the provider outbox, and the answer back to the same agent -------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_an_sms_goes_out_through_twilio_and_the_answer_lands_in_the_same_conversation(
    customer, agent, sms_source, twilio, django_capture_on_commit_callbacks
):
    # Given: the team's Twilio source
    # When: the agent starts an SMS conversation
    with django_capture_on_commit_callbacks(execute=True):
        conversation = start(agent, customer, channel="sms", text="Your new card is ready. Shall we send it?")
    # Then: Twilio got it from the source's number, and the message carries the provider's payload
    [sent] = twilio.sent
    assert (sent["To"], sent["From"], sent["Body"]) == (PHONE, OUR_NUMBER, "Your new card is ready. Shall we send it?")
    message = conversation.messages.get()
    assert (message.payload["source"], message.payload["provider"], message.payload["to"], message.payload["from"]) == (
        "tw-a",
        "twilio",
        PHONE,
        OUR_NUMBER,
    )
    assert (message.payload["delivery"], message.payload["provider_message_id"]) == ("sent", sent["sid"])
    assert message.payload["sms"]["segments"] == 1
    assert ProviderSend.objects.get(message=message).status == SendStatus.SENT
    conversation.refresh_from_db()
    assert (conversation.external_id, conversation.status, conversation.agent) == (
        f"tw-a:{PHONE}:1",
        ConversationStatus.ACTIVE,
        agent,
    )
    # When: the customer answers through Twilio
    with django_capture_on_commit_callbacks(execute=True):
        answered = customer_texts("Yes please, to my home address.", "SM00000000000000000000000000000001")
    # Then: it lands in the same conversation, still the agent's, and nothing was queued
    assert answered.pk == conversation.pk
    assert fresh(conversation).agent == agent and fresh(conversation).status == ConversationStatus.ACTIVE
    assert list(conversation.messages.order_by("id").values_list("direction", "body")) == [
        ("outbound", "Your new card is ready. Shall we send it?"),
        ("inbound", "Yes please, to my home address."),
    ]
    assert WorkItem.objects.count() == 0


@pytest.mark.usefixtures("eager_tasks")
def test_an_answer_after_wrap_up_is_offered_to_the_same_agent_first(
    customer, agent, team_a, sms_source, twilio, django_capture_on_commit_callbacks
):
    # Given: the agent and a colleague idle for longer are both available; the agent's SMS conversation is wrapped up
    mine = RoutableAgentFactory(user=agent, idle_minutes=1)
    RoutableAgentFactory(teams=[team_a], idle_minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(agent, customer, channel="sms", text="Your card is ready.")
        conversation_wrap_up(actor=agent, conversation=first, wrap_up_code="resolved")
    # When: the customer answers
    with django_capture_on_commit_callbacks(execute=True):
        answered = customer_texts("Thanks! Can I pick it up?", "SM00000000000000000000000000000002")
    # Then: a new conversation of the same thread, offered to the agent (not the longer idle colleague)
    assert answered.pk != first.pk and answered.external_id == f"tw-a:{PHONE}:2"
    item = WorkItem.objects.get(conversation=answered)
    assert (item.target_agent, item.status) == (mine, WorkStatus.OFFERED)
    assert pending_offer(item).agent == mine
    # When: the agent accepts it
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    assert fresh(answered).agent == agent


@pytest.mark.usefixtures("eager_tasks")
def test_a_busy_last_agent_is_waited_for_then_the_queue_takes_it(
    settings, customer, agent, team_a, sms_source, twilio, django_capture_on_commit_callbacks
):
    # Given: the agent's SMS conversation was wrapped up, and the agent is busy now; a colleague is free
    settings.CEA_PREFERRED_AGENT_SECONDS = 60
    mine = RoutableAgentFactory(user=agent)
    colleague = RoutableAgentFactory(teams=[team_a], idle_minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(agent, customer, channel="sms", text="Your card is ready.")
        conversation_wrap_up(actor=agent, conversation=first, wrap_up_code="resolved")
        presence_set(actor=agent, agent_user=agent, presence=Presence.BUSY)
    # When: the customer answers
    with django_capture_on_commit_callbacks(execute=True):
        answered = customer_texts("Can I pick it up?", "SM00000000000000000000000000000003")
    # Then: it waits for the agent, not offered to the free colleague
    item = WorkItem.objects.get(conversation=answered)
    assert (item.status, item.target_agent, item.agent) == (WorkStatus.WAITING, mine, None)
    assert (item.target_until - item.enqueued_at) == timedelta(seconds=60)
    # When: the wait is over (the sweep or the delayed kick routes the queue)
    WorkItem.objects.filter(pk=item.pk).update(target_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_queue(item.queue_id)
    # Then: the queue's rules offer it to the colleague
    item.refresh_from_db()
    assert (item.target_agent, item.target_until, item.status) == (None, None, WorkStatus.OFFERED)
    assert pending_offer(item).agent == colleague


@pytest.mark.usefixtures("eager_tasks")
def test_without_the_setting_no_agent_is_preferred(
    settings, customer, agent, team_a, sms_source, twilio, django_capture_on_commit_callbacks
):
    # Given: the preference is off
    settings.CEA_PREFERRED_AGENT_SECONDS = 0
    RoutableAgentFactory(user=agent, idle_minutes=1)
    colleague = RoutableAgentFactory(teams=[team_a], idle_minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(agent, customer, channel="sms", text="Your card is ready.")
        conversation_wrap_up(actor=agent, conversation=first, wrap_up_code="resolved")
    # When: the customer answers
    with django_capture_on_commit_callbacks(execute=True):
        answered = customer_texts("Can I pick it up?", "SM00000000000000000000000000000004")
    # Then: the longest idle agent gets it
    item = WorkItem.objects.get(conversation=answered)
    assert item.target_agent is None and pending_offer(item).agent == colleague
    assert pending_offer(item).status == OfferStatus.PENDING


def test_with_several_sms_sources_one_must_be_chosen(customer, agent, team_a, sms_source):
    # Given: a second SMS source of the team
    WebhookSourceFactory(name="tw-a2", provider="twilio", sender_id="+442079460124", team=team_a)
    # When / Then: without a choice, a 400 on "through", nothing written
    with pytest.raises(ValidationFailed) as refused:
        start(agent, customer, channel="sms", text="Hello")
    assert set(refused.value.fields) == {"through"}
    assert Conversation.objects.count() == 0
    # When: the agent chooses one
    conversation = start(agent, customer, channel="sms", text="Hello", through="tw-a2")
    # Then: it goes through that one
    assert conversation.messages.get().payload["from"] == "+442079460124"
    assert conversation.external_id == f"tw-a2:{PHONE}:1"


def test_another_teams_source_is_not_offered(customer, agent, team_b):
    # Given: only another team's Twilio source
    WebhookSourceFactory(name="tw-b", provider="twilio", sender_id="+442079460999", team=team_b)
    # When / Then: naming it is a 400
    with pytest.raises(ValidationFailed) as refused:
        start(agent, customer, channel="sms", text="Hello", through="tw-b")
    assert set(refused.value.fields) == {"through"}
    assert Conversation.objects.count() == 0


def test_an_open_conversation_on_the_thread_is_not_doubled(
    customer, agent, sms_source, django_capture_on_commit_callbacks
):
    # Given: an open SMS conversation with the customer through tw-a
    with django_capture_on_commit_callbacks(execute=False):
        first = start(agent, customer, channel="sms", text="Hello")
    # When / Then: starting another is a 409 naming it, and nothing more is written
    with pytest.raises(Conflict) as refused:
        start(agent, customer, channel="sms", text="Hello again")
    assert refused.value.code == "conversation_open"
    assert Conversation.objects.get() == first
    assert ProviderSend.objects.count() == 1


def test_too_many_segments_are_refused(settings, customer, agent, sms_source):
    settings.CEA_SMS_MAX_SEGMENTS = 1
    with pytest.raises(ValidationFailed) as refused:
        start(agent, customer, channel="sms", text="x" * 200)
    assert refused.value.code == "too_many_segments"
    assert Conversation.objects.count() == ProviderSend.objects.count() == 0


# --- WhatsApp: an approved template, queued in the outbox ----------------------------------------


def test_a_whatsapp_template_is_queued_with_its_name_language_and_values(
    customer, agent, template, django_capture_on_commit_callbacks
):
    # When: the agent starts a WhatsApp conversation with the approved template
    with django_capture_on_commit_callbacks(execute=False) as sent:
        conversation = start(agent, customer, channel="whatsapp", template=template.pk, params=["Ada", "A-1042"])
    # Then: the rendered template is the message, its payload names the template; queued with one send task
    message = conversation.messages.get()
    assert message.body == "Hello Ada, your order A-1042 is on its way."
    assert {key: message.payload[key] for key in ("delivery", "source", "provider", "to", "from", "template")} == {
        "delivery": "queued",
        "source": "wa-a",
        "provider": "whatsapp",
        "to": "+447911123456",
        "from": "109876543210",
        "template": {"name": "delivery_update", "language": "en_GB", "params": ["Ada", "A-1042"]},
    }
    send = ProviderSend.objects.get(message=message)
    assert (send.source.name, send.status) == ("wa-a", SendStatus.QUEUED)
    assert [callback.__qualname__ for callback in sent].count("send_on_commit.<locals>.<lambda>") == 1
    assert (conversation.channel, conversation.external_id, conversation.contact_value) == (
        Channel.SOCIAL,
        "wa-a:+447911123456:1",
        "+447911123456",
    )


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ("pending", ValidationFailed, "no_approved_template"),
        ("values", ValidationFailed, "invalid"),
        ("consent", Conflict, "consent_withdrawn"),
        ("source", Conflict, "no_source"),
    ],
)
def test_whatsapp_is_refused_without_an_approved_template_values_consent_or_source(
    customer, agent, template, whatsapp_source, change, error, code
):
    params = ["Ada", "A-1042"]
    if change == "pending":
        MessageTemplate.objects.filter(pk=template.pk).update(status=TemplateStatus.PENDING)
    elif change == "values":
        params = ["Ada"]
    elif change == "consent":
        customer_set_consent(actor=None, customer=customer, channel=Channel.SOCIAL, purpose="service", granted=False)
    else:
        whatsapp_source.is_active = False
        whatsapp_source.save()
    with pytest.raises(error) as refused:
        start(agent, customer, channel="whatsapp", template=template.pk, params=params)
    assert refused.value.code == code
    assert Conversation.objects.count() == Message.objects.count() == ProviderSend.objects.count() == 0


# --- The 360 page's panel -------------------------------------------------------------------------


def panel_url(customer) -> str:
    return reverse("engagement:desk-outreach", args=[customer.pk])


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_360_page_loads_the_panel_for_the_customers_team(customer, agent):
    page = parse(logged_in(agent).get(reverse("records:customer-360", args=[customer.pk])))
    assert page.find(data_testid="outreach-loading").attrs["hx-get"] == panel_url(customer)


def test_the_panel_offers_each_channel_or_says_why_not(customer, agent, template):
    # Given: the customer has withdrawn SMS marketing, and never agreed to email marketing
    client = logged_in(agent)
    # When: the agent opens the panel for service messages, then for marketing
    service = parse(client.get(panel_url(customer), {"purpose": "service", "channel": "whatsapp"}))
    marketing = parse(client.get(panel_url(customer), {"purpose": "marketing"}))
    # Then: for service all three are offered, WhatsApp with its template, values and preview
    radios = {r.attrs["value"]: "disabled" in r.attrs for r in service.find_all("input", type="radio")}
    assert radios == {"email": False, "sms": False, "whatsapp": False}
    assert len(service.find_all("input", data_testid="outreach-param")) == 2
    assert service.find(data_testid="outreach-template-preview").text == "Hello {{1}}, your order {{2}} is on its way."
    # And for marketing each is disabled with its reason
    radios = {r.attrs["value"]: "disabled" in r.attrs for r in marketing.find_all("input", type="radio")}
    assert radios == {"email": True, "sms": True, "whatsapp": True}
    assert marketing.find(data_testid="outreach-reason-sms").text == "Consent to marketing messages by SMS withdrawn."
    assert marketing.find(data_testid="outreach-reason-email").text == "No consent to marketing messages by Email."
    assert marketing.find(data_testid="outreach-none")


def test_the_panel_says_when_there_is_no_address(team_a, agent):
    customer = make_customer(team_a, email="grace@example.com")
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="service", granted=True)
    page = parse(logged_in(agent).get(panel_url(customer)))
    assert page.find(data_testid="outreach-reason-sms").text == "No phone number."


def test_the_preview_counts_an_smss_segments(customer, agent):
    response = logged_in(agent).get(
        reverse("engagement:desk-outreach-preview", args=[customer.pk]), {"channel": "sms", "text": "ż" * 80}
    )
    assert "2 segments · UCS-2" in parse(response).find(data_testid="outreach-preview").text


@pytest.mark.usefixtures("eager_tasks")
def test_posting_the_panel_starts_an_email_on_the_desk_and_in_the_journey(
    customer, agent, django_capture_on_commit_callbacks
):
    # When: the agent posts an email from the panel
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(agent).post(
            panel_url(customer),
            {"purpose": "service", "channel": "email", "subject": "Your card", "text": "It is on its way."},
            HTTP_HX_REQUEST="true",
        )
    # Then: the panel links to the conversation on the desk; it is the agent's, active
    assert response.status_code == 200, response.content
    conversation = Conversation.objects.get()
    link = parse(response).find("a", data_testid="outreach-open-on-desk")
    assert link.attrs["href"] == f"{reverse('engagement:desktop')}?conversation={conversation.pk}"
    assert (conversation.agent, conversation.status, conversation.subject) == (agent, "active", "Your card")
    desk = parse(logged_in(agent).get(reverse("engagement:desktop")))
    assert desk.find("button", cls="conversation-tab", data_conversation_id=conversation.pk)
    # And: the 360 page's journey shows it started
    assert JourneyEvent.objects.filter(customer=customer, kind="conversation.started").count() == 1
    page = parse(logged_in(agent).get(reverse("records:customer-360", args=[customer.pk])))
    assert "Email conversation started: Your card" in page.find(data_testid="timeline").text


def test_a_refusal_is_shown_in_the_panel_and_nothing_is_written(customer, agent):
    # Given: the panel was shown, then the customer withdrew their SMS consent
    client = logged_in(agent)
    client.get(panel_url(customer))
    customer_set_consent(actor=None, customer=customer, channel=Channel.SMS, purpose="service", granted=False)
    # When: the agent posts an SMS
    response = client.post(panel_url(customer), {"purpose": "service", "channel": "sms", "text": "Hello"})
    # Then: 409 with the reason in the panel; nothing written
    assert response.status_code == 409
    assert "withdrew their consent" in parse(response).find(data_testid="error").text
    assert Conversation.objects.count() == Message.objects.count() == 0
    # When: a bad channel
    response = client.post(panel_url(customer), {"purpose": "service", "channel": "pigeon", "text": "Hello"})
    assert response.status_code == 400
    assert "channel" in parse(response).find(data_testid="error").text


def test_another_teams_agent_gets_404_on_the_panel_and_the_post(customer, agent_b, supervisor):
    client = logged_in(agent_b)
    assert client.get(panel_url(customer)).status_code == 404
    response = client.post(panel_url(customer), {"purpose": "service", "channel": "email", "text": "Hi"})
    assert response.status_code == 404
    assert Conversation.objects.count() == 0
    # And: the customer's team's supervisor may
    assert logged_in(supervisor).get(panel_url(customer)).status_code == 200


@pytest.mark.usefixtures("eager_tasks")
def test_posting_a_whatsapp_template_from_the_panel_queues_it(
    customer, agent, template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = logged_in(agent).post(
            panel_url(customer),
            {"purpose": "service", "channel": "whatsapp", "template": template.pk, "param": ["Ada", "A-7"]},
        )
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert (message.body, message.payload["template"]["params"]) == (
        "Hello Ada, your order A-7 is on its way.",
        ["Ada", "A-7"],
    )
    assert message.payload["source"] == "wa-a"


# --- The REST API ---------------------------------------------------------------------------------


def test_an_integration_client_starts_a_whatsapp_template_through_the_api(customer, integration_user, template):
    client = token_client(integration_user)
    body = {"customer": customer.pk, "channel": "whatsapp", "purpose": "service", "template": template.pk}
    # When: the template's values are missing
    assert_error(client.post("/api/v1/engagement/conversations/outbound/", body, format="json"), 400)
    # When: they are given
    response = client.post(
        "/api/v1/engagement/conversations/outbound/", {**body, "params": ["Ada", "A-9"]}, format="json"
    )
    # Then: a WhatsApp (social) conversation waiting for the customer, its template queued in the outbox
    assert response.status_code == 201, response.content
    assert (response.json()["channel"], response.json()["status"]) == ("social", "self_service")
    message = Message.objects.get()
    assert (message.author_kind, message.payload["template"]["name"]) == ("system", "delivery_update")
    assert ProviderSend.objects.get(message=message).status == SendStatus.QUEUED


def test_the_desks_contact_form_asks_which_sms_source_when_the_team_has_several(
    customer, agent, team_a, sms_source, django_capture_on_commit_callbacks
):
    # Given: two SMS sources of the team
    WebhookSourceFactory(name="tw-a2", provider="twilio", sender_id="+442079460124", team=team_a)
    client = logged_in(agent)
    # When: the agent opens the customer on the desk
    page = parse(client.get(reverse("engagement:desk-customer", args=[customer.pk])))
    # Then: the contact form asks which source
    options = page.find(cls="desk-outbound").find("select", name="through").find_all("option")
    assert [option.attrs["value"] for option in options] == ["tw-a", "tw-a2"]
    # When: they send an SMS through the second
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("engagement:desk-outbound", args=[customer.pk]),
            {"option": "sms:service", "text": "Hello", "through": "tw-a2"},
        )
    # Then: it is queued through it
    assert response.status_code == 200, response.content
    assert Message.objects.get().payload["from"] == "+442079460124"


@pytest.mark.usefixtures("eager_tasks")
def test_an_away_last_agent_is_not_waited_for(
    customer, agent, team_a, sms_source, twilio, django_capture_on_commit_callbacks
):
    # Given: the agent's SMS conversation was wrapped up and the agent went away; a colleague is free
    RoutableAgentFactory(user=agent)
    colleague = RoutableAgentFactory(teams=[team_a], idle_minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(agent, customer, channel="sms", text="Your card is ready.")
        conversation_wrap_up(actor=agent, conversation=first, wrap_up_code="resolved")
        presence_set(actor=agent, agent_user=agent, presence=Presence.AWAY, reason_code="break")
    # When: the customer answers
    with django_capture_on_commit_callbacks(execute=True):
        answered = customer_texts("Can I pick it up?", "SM00000000000000000000000000000005")
    # Then: the colleague is offered it at once, the preference dropped
    item = WorkItem.objects.get(conversation=answered)
    assert (item.target_agent, item.target_until) == (None, None)
    assert pending_offer(item).agent == colleague


@pytest.mark.parametrize("external_id", ["form:abc:²", "form:abc:٣", "form:abc:1", "no-thread"])
def test_a_thread_number_that_is_no_ascii_number_prefers_nobody(external_id):
    # Given a conversation whose external id ends in no thread number a second contact would have
    # ("²" and "٣" are digits to str.isdigit, which int() refuses or reads as another number)
    conversation = SimpleNamespace(external_id=external_id)
    # When routing asks for its last agent / Then there is none, and no error
    assert last_agent(conversation=conversation, queue=None, now=timezone.now()) is None
