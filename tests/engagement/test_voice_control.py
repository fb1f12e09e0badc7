"""Voice call control: a Twilio-style provider's call webhooks answered with TwiML, the IVR, the queue,
the bridge to the agent who accepts, hold, transfer, hang-up and the recording on the interaction.

The provider's side is played by ``Telephony`` (signed webhooks, TwiML followed) and ``ProviderApi``
(the REST call-update endpoint, a real HTTP server on loopback).
"""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from engagement.adapters.voice_control.models import CallRecording, CallState, VoiceCall, VoiceEndpoint
from engagement.adapters.voice_control.services import call_on_work_accepted
from engagement.adapters.voice_control.tasks import voice_call_connect
from engagement.backoffice.models import BackofficeWork
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.routing.models import Offer, OfferStatus, WorkItem, WorkStatus, WrapUpCode
from engagement.routing.offers import offer_accept
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, WebhookSourceFactory
from tests.engagement.voice_control_support import ACCOUNT_SID, AUTH_TOKEN, ProviderApi, Telephony
from tests.support import assert_error, eager_celery, session_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "selfservice_env")]

CALL = "CA5f2b9c0e7d1a4e3b8c6d9f0a1b2c3d4e"
CALLER = "+447911123456"
DIALLED = "+442079460123"
AGENT_PHONE = "+442079460555"
RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Recordings/RE9d1c"


@pytest.fixture
def provider_api(settings):
    api = ProviderApi().start()
    settings.CEA_TWILIO_API_URL = api.url
    settings.CEA_VOICE_RECORD_CALLS = True
    yield api
    api.stop()


@pytest.fixture
def eager():
    yield from eager_celery()


def _voice_source(name: str, team, monkeypatch):
    source = WebhookSourceFactory(name=name, channel="voice", provider="twilio", team=team)
    variable = f"CEA_SOURCE_{name.upper().replace('-', '_')}"
    monkeypatch.setenv(f"{variable}_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv(f"{variable}_AUTH_TOKEN", AUTH_TOKEN)
    return source


@pytest.fixture
def voice_source(team_a, monkeypatch):
    return _voice_source("phones-a", team_a, monkeypatch)


@pytest.fixture
def delivery(team_a):
    """The queue the self-service flow 'Delivery' hands over to."""
    return QueueFactory(name="delivery", team=team_a)


@pytest.fixture
def routable(agent):
    RoutableAgentFactory(user=agent, idle_minutes=60)
    VoiceEndpoint.objects.create(user=agent, phone_number=AGENT_PHONE)
    return agent


def _telephony(source, call_sid: str = CALL) -> Telephony:
    from rest_framework.test import APIClient

    return Telephony(APIClient(), source.name, call_sid=call_sid, caller=CALLER, dialled=DIALLED)


def _call_waiting(phone: Telephony, capture) -> VoiceCall:
    """The caller goes through the Delivery flow (2, then 2: change the day) into the queue."""
    phone.ring()
    phone.press("2")
    with capture(execute=True):
        phone.press("2")
    return VoiceCall.objects.get(call_sid=phone.call_sid)


def _accept(user, call: VoiceCall, capture):
    offer = Offer.objects.get(work_item__conversation=call.conversation, status=OfferStatus.PENDING)
    with capture(execute=True):
        response = session_client(user).post(f"/api/v1/engagement/offers/{offer.pk}/accept/")
    assert response.status_code == 200, response.content
    return response


def test_a_call_goes_from_the_ivr_to_an_agent_and_ends_with_its_recording_on_the_interaction(
    flows, delivery, routable, voice_source, provider_api, eager, team_a, django_capture_on_commit_callbacks
):
    """Round trip: call in → IVR → enqueue → accept → Dial → hold → resume → transfer → accept → hang-up →
    recording callback → the interaction has the recording."""
    capture = django_capture_on_commit_callbacks
    bob = UserFactory(username="bob", role="agent", teams=[team_a])
    RoutableAgentFactory(user=bob, idle_minutes=1)
    VoiceEndpoint.objects.create(user=bob, client_id="softphone-bob")
    phone = _telephony(voice_source)

    # When the call comes in
    response = phone.ring()
    # Then the main menu is gathered (digits or speech), and no input redirects back as a time-out
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert phone.verbs() == ["Gather", "Redirect"]
    gather = phone.only("Gather")
    assert gather.attrib["input"] == "dtmf speech"
    assert gather.attrib["action"] == f"http://testserver/api/v1/engagement/voice/{voice_source.name}/gather/"
    assert any("Delivery" in text for text in phone.said())
    call = VoiceCall.objects.get(call_sid=CALL)
    assert (call.state, call.conversation.status) == (CallState.IVR, ConversationStatus.SELF_SERVICE)

    # When the caller picks Delivery (2), then "change delivery day" (2)
    phone.press("2")
    assert phone.said()[0].startswith("What do you need? For Track a parcel, press 1.")
    assert phone.only("Gather").attrib["numDigits"] == "1"
    with capture(execute=True):
        phone.press("2")
    # Then the flow hands over: the call is enqueued, its work waits (offered to an agent) in the queue
    assert phone.verbs() == ["Say", "Enqueue"]
    assert phone.said() == ["An agent will change the day for you."]
    call.refresh_from_db()
    assert (call.state, call.conversation.status, call.conversation.queue) == (
        CallState.QUEUED,
        ConversationStatus.QUEUED,
        "delivery",
    )
    item = WorkItem.objects.get(conversation=call.conversation)
    assert item.status == WorkStatus.OFFERED
    # the waiting caller hears their position and the hold music
    phone.wait(position=1)
    assert phone.verbs() == ["Say", "Play"] and phone.said() == ["You are number 1 in the queue."]

    # When the offered agent accepts on the desk
    offer = Offer.objects.get(work_item=item, status=OfferStatus.PENDING)
    assert offer.agent.user in (routable, bob)
    first, second = (routable, bob) if offer.agent.user == routable else (bob, routable)
    _accept(first, call, capture)
    # Then the provider is asked to put the call through: a Dial to the agent's number or softphone
    assert len(provider_api.updates) == 1
    phone.run(provider_api.updates[-1])
    dial = phone.only("Dial")
    target = AGENT_PHONE if first == routable else "softphone-bob"
    assert (phone.only("Number" if first == routable else "Client").text) == target
    assert dial.attrib["record"] == "record-from-answer-dual"
    call.refresh_from_db()
    assert (call.state, call.agent) == (CallState.CONNECTED, first)

    # When the agent puts the caller on hold, then takes them back
    agent_api = session_client(first)
    held = agent_api.post(f"/api/v1/engagement/conversations/{call.conversation_id}/call/hold/")
    # Then the call plays hold music, then dials the agent again
    assert held.status_code == 200 and held.json()["state"] == "held"
    phone.run(provider_api.updates[-1])
    assert phone.verbs() == ["Say", "Play"] and phone.only("Play").attrib["loop"] == "0"
    resumed = agent_api.post(f"/api/v1/engagement/conversations/{call.conversation_id}/call/resume/")
    assert resumed.status_code == 200 and resumed.json()["state"] == "connected"
    phone.run(provider_api.updates[-1])
    assert phone.only("Dial") is not None

    # When the agent transfers the call to the other agent
    with capture(execute=True):
        moved = agent_api.post(
            f"/api/v1/engagement/conversations/{call.conversation_id}/call/transfer/",
            {"to_agent": second.pk, "note": "Wants Saturday delivery."},
            format="json",
        )
    # Then the caller waits again, and the work is offered to the named agent
    assert moved.status_code == 200, moved.content
    phone.run(provider_api.updates[-1])
    assert phone.verbs() == ["Say", "Enqueue"]
    call.refresh_from_db()
    assert (call.state, call.agent) == (CallState.QUEUED, None)
    _accept(second, call, capture)
    phone.run(provider_api.updates[-1])
    assert phone.only("Number" if second == routable else "Client").text == (
        AGENT_PHONE if second == routable else "softphone-bob"
    )
    recording_callback = phone.only("Dial").attrib["recordingStatusCallback"]

    # When the agent hangs up after the talk, and the provider reports the call completed
    phone.dial_ends("completed")
    assert phone.verbs() == ["Hangup"]
    with capture(execute=True):
        assert phone.status("completed").status_code == 200
    # Then the conversation has ended and the agent's work is in wrap-up
    conversation = Conversation.objects.get(pk=call.conversation_id)
    assert conversation.status == ConversationStatus.ENDED and conversation.agent == second
    assert WorkItem.objects.get(conversation=conversation, agent__user=second).status == WorkStatus.WRAP_UP

    # When the recording's status callback arrives after the hang-up
    response = phone.recording(recording_callback, sid="RE9d1c", url=RECORDING_URL, duration=312)
    # Then the interaction links the recording (and says so in its transcript); a redelivery adds nothing
    assert response.status_code == 200
    phone.recording(recording_callback, sid="RE9d1c", url=RECORDING_URL, duration=312)
    interaction = conversation.interaction
    interaction.refresh_from_db()
    media = interaction.context_snapshot["media"]
    assert [(m["kind"], m["reference"], m["url"]) for m in media] == [("recording", "RE9d1c", RECORDING_URL)]
    assert [line["body"] for line in interaction.transcript if line.get("event") == "recording"] == [
        f"Recording: {RECORDING_URL}"
    ]
    assert CallRecording.objects.get(call=call).duration_seconds == 312
    # And a call an agent took leaves no voicemail work
    assert not BackofficeWork.objects.exists()

    # And the agent wraps up as for any conversation
    code = WrapUpCode.objects.filter(is_active=True).first()
    wrapped = session_client(second).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/wrap-up/", {"wrap_up_code": code.code}, format="json"
    )
    assert wrapped.status_code == 200, wrapped.content
    assert wrapped.json()["status"] == WorkStatus.DONE


def test_a_recording_of_a_call_still_open_is_a_message_for_the_agents(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a call with its agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    # When a transcription of a recording arrives while the call is open
    phone.post(
        phone.base + "transcription/",
        RecordingSid="RE77",
        TranscriptionSid="TR77",
        TranscriptionStatus="completed",
        TranscriptionText="I need it on Saturday",
        TranscriptionUrl="https://api.twilio.com/2010-04-01/Accounts/AC0123/Transcriptions/TR77",
    )
    # Then it is an internal system message on the conversation, and kept on the recording
    message = call.conversation.messages.get(payload__event="transcription")
    assert (message.internal, message.author_kind) == (True, "system")
    assert message.body.endswith("I need it on Saturday")
    assert CallRecording.objects.get(call=call, recording_sid="RE77").transcription_text == "I need it on Saturday"


def test_if_the_call_update_fails_the_waiting_call_is_put_through_when_it_next_asks(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a waiting call, and a provider whose REST API refuses the update for good
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    enqueue = phone.only("Enqueue")
    provider_api.fail_next = [404]
    # When the agent accepts
    _accept(routable, call, django_capture_on_commit_callbacks)
    # Then nothing was updated, the call is still being put through
    call.refresh_from_db()
    assert (provider_api.updates, call.state) == ([], CallState.CONNECTING)
    # When the provider next fetches the wait URL, and the queue's result after Leave
    phone.post(enqueue.attrib["waitUrl"], QueuePosition="1")
    assert phone.verbs() == ["Leave"]
    phone.queue_result(enqueue, "leave")
    # Then the caller is dialled through to the agent
    assert phone.only("Number").text == AGENT_PHONE
    call.refresh_from_db()
    assert call.state == CallState.CONNECTED


def test_a_provider_down_is_tried_again_later_and_the_call_is_not_lost(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a waiting call that the agent accepted, the call update's task not run yet
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    offer = Offer.objects.get(work_item__conversation=call.conversation, status=OfferStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=False):
        offer_accept(actor=routable, offer_id=offer.pk)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        call_on_work_accepted(call.conversation_id)
    assert len(sent) == 1  # the task, sent on commit
    # When the provider answers 503, then 429
    provider_api.fail_next = [503, 429]
    with pytest.raises(Retry) as first:
        voice_call_connect.apply(args=[call.pk])
    with pytest.raises(Retry) as second:
        voice_call_connect.apply(args=[call.pk], retries=1)
    # Then each run asks for a retry later, with exponential backoff, and the call still waits to be put through
    assert (first.value.when, second.value.when) == (2, 4)
    call.refresh_from_db()
    assert (call.state, provider_api.updates) == (CallState.CONNECTING, [])
    # When the provider is back
    third = voice_call_connect.apply(args=[call.pk], retries=2)
    # Then the call is put through, once; a further run changes nothing
    assert third.get() is True
    assert voice_call_connect.apply(args=[call.pk]).get() is False
    assert [update.call_sid for update in provider_api.updates] == [CALL]
    call.refresh_from_db()
    assert call.state == CallState.CONNECTED


def test_hold_is_refused_when_the_provider_is_down_and_nothing_changes(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a call with its agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    provider_api.fail_next = [500]
    # When the agent asks for hold while the provider fails
    response = session_client(routable).post(f"/api/v1/engagement/conversations/{call.conversation_id}/call/hold/")
    # Then a clear 502, and the call is still connected
    assert_error(response, 502, "call_update_failed")
    call.refresh_from_db()
    assert call.state == CallState.CONNECTED
    assert not call.conversation.messages.filter(payload__event="call_held").exists()


def test_the_agent_phone_not_answering_puts_the_caller_back_in_the_queue(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a call put through to the agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    phone.run(provider_api.updates[-1])
    # When the agent's phone does not answer
    with django_capture_on_commit_callbacks(execute=True):
        phone.dial_ends("no-answer")
    # Then the caller waits again and the work is back in the queue
    assert phone.verbs() == ["Say", "Enqueue"]
    call.refresh_from_db()
    assert (call.state, call.agent) == (CallState.QUEUED, None)
    assert WorkItem.objects.filter(conversation=call.conversation, status__in=["waiting", "offered"]).count() == 1


def test_call_actions_are_for_the_handling_agent_of_the_team(
    flows, delivery, routable, voice_source, provider_api, eager, agent_b, team_a, django_capture_on_commit_callbacks
):
    # Given a call of team A with its agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    url = f"/api/v1/engagement/conversations/{call.conversation_id}/call/"
    # When an agent of team B, or another agent of team A, tries to act on it
    outsider = session_client(agent_b).post(url + "hold/")
    other = session_client(colleague).post(url + "hang-up/")
    seen = session_client(agent_b).get(url)
    # Then each is refused and the provider was never asked
    assert_error(outsider, 403)
    assert_error(other, 403)
    assert_error(seen, 403)
    assert len(provider_api.updates) == 1  # only the Dial of the accept
    # And the handling agent sees where the call is
    assert session_client(routable).get(url).json()["state"] == "connected"


def test_webhooks_are_refused_unsigned_wrongly_signed_or_for_another_sources_call(
    flows, delivery, voice_source, team_b, monkeypatch, provider_api
):
    # Given a call on team A's number, and team B's number on another source
    phone = _telephony(voice_source)
    phone.ring()
    other_source = _voice_source("phones-b", team_b, monkeypatch)
    intruder = _telephony(other_source)
    # When posts come unsigned, signed with another token, or for team A's call through team B's source
    unsigned = phone.post(phone.base + "status/", sign=False, CallStatus="completed")
    forged = phone.post(phone.base + "status/", token="not-the-token", CallStatus="completed")
    crossed = intruder.post(intruder.base + "status/", CallStatus="completed")
    unknown_step = phone.post(phone.base + "nothing/", CallStatus="completed")
    # Then each is refused and the call goes on
    assert_error(unsigned, 401, "missing_signature")
    assert_error(forged, 401, "bad_signature")
    assert_error(crossed, 404, "unknown_call")
    assert_error(unknown_step, 404, "unknown_step")
    assert VoiceCall.objects.get(call_sid=CALL).state == CallState.IVR


def test_a_source_without_credentials_is_a_clear_refusal(flows, team_a, monkeypatch):
    # Given a Twilio voice source whose auth token is not configured
    source = WebhookSourceFactory(name="phones-unset", channel="voice", provider="twilio", team=team_a)
    # When the provider posts
    response = _telephony(source).ring()
    # Then 409 naming what to set
    error = assert_error(response, 409, "missing_credential")
    assert "CEA_SOURCE_PHONES_UNSET_AUTH_TOKEN" in error["message"]


def test_a_transfer_from_the_desk_or_the_routing_api_puts_the_caller_back_to_waiting(
    flows, delivery, routable, voice_source, provider_api, eager, team_a, django_capture_on_commit_callbacks
):
    # Given a call with its agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    billing = QueueFactory(name="billing", team=team_a)
    # When the agent transfers the conversation through routing's transfer API (not the call's own)
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(routable).post(
            f"/api/v1/engagement/conversations/{call.conversation_id}/transfer/",
            {"to_queue": billing.name},
            format="json",
        )
    # Then the provider is asked to put the caller back in a queue, and the call waits again
    assert response.status_code == 200, response.content
    assert len(provider_api.updates) == 2
    phone.run(provider_api.updates[-1])
    assert phone.verbs() == ["Say", "Enqueue"]
    call.refresh_from_db()
    assert (call.state, call.agent, call.conversation.queue) == (CallState.QUEUED, None, "billing")


def test_the_desk_shows_a_handled_call_with_its_controls(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a call put through to the agent
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    _accept(routable, call, django_capture_on_commit_callbacks)
    # When the desk loads the conversation's panel
    page = session_client(routable).get(f"/desk/conversations/{call.conversation_id}/", HTTP_HX_REQUEST="true")
    # Then it has the call's state and its controls: hold enabled, resume not
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="voice-call"' in html and 'data-state="connected"' in html
    assert f'data-call-url="/api/v1/engagement/conversations/{call.conversation_id}/call/"' in html
    assert 'data-testid="call-hold">' in html and 'data-testid="call-resume" disabled>' in html


def test_no_input_at_the_menu_prompts_again_and_the_agent_can_hang_up(
    flows, delivery, routable, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a call at the main menu
    phone = _telephony(voice_source)
    phone.ring()
    menu = phone.said()
    # When the caller says nothing (the Gather falls through to its Redirect)
    phone.post(phone.only("Redirect").text, CallStatus="in-progress")
    # Then the menu is gathered again
    assert phone.verbs() == ["Gather", "Redirect"]
    assert phone.said()[-1] == menu[-1]
    # When the call reaches the agent, who hangs up from the desk
    phone.press("2")
    with django_capture_on_commit_callbacks(execute=True):
        phone.press("2")
    call = VoiceCall.objects.get(call_sid=CALL)
    _accept(routable, call, django_capture_on_commit_callbacks)
    response = session_client(routable).post(f"/api/v1/engagement/conversations/{call.conversation_id}/call/hang-up/")
    # Then the provider is told to hang up
    assert response.status_code == 200
    phone.run(provider_api.updates[-1])
    assert phone.verbs() == ["Hangup"]


def test_a_provider_queue_error_lets_the_caller_leave_a_message_that_is_transcribed(
    flows, delivery, voice_source, provider_api, eager, django_capture_on_commit_callbacks
):
    # Given a waiting call
    phone = _telephony(voice_source)
    call = _call_waiting(phone, django_capture_on_commit_callbacks)
    # When the provider's queue fails
    phone.queue_result(phone.only("Enqueue"), "queue-full")
    # Then the caller is asked to leave a message, recorded and transcribed
    assert phone.verbs() == ["Say", "Record", "Hangup"]
    record = phone.only("Record")
    assert record.attrib["transcribe"] == "true"
    phone.post(record.attrib["action"], RecordingUrl=RECORDING_URL, CallStatus="in-progress")
    assert phone.verbs() == ["Say", "Hangup"]
    # When the transcription arrives before the hang-up is reported
    phone.post(
        record.attrib["transcribeCallback"],
        RecordingSid="RE55",
        TranscriptionSid="TR55",
        TranscriptionStatus="completed",
        TranscriptionText="Please call me back about my delivery",
        TranscriptionUrl="https://api.twilio.com/2010-04-01/Accounts/AC0123/Transcriptions/TR55",
    )
    # Then the agents see it on the conversation
    message = call.conversation.messages.get(payload__event="transcription")
    assert "Please call me back about my delivery" in message.body
