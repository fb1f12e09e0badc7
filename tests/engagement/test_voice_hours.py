"""Out of hours on a call: a caller reaching a closed queue hears its answer and chooses by digits to
leave a message (recorded and transcribed onto the conversation) or to be called back at the opening.

The provider's side is played by ``Telephony`` (signed webhooks, TwiML followed).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC

import pytest
from django.utils import timezone

from cea.common.channels import Channel
from engagement.adapters.voice_control.models import CallState, VoiceCall
from engagement.backoffice.models import BackofficeStatus, BackofficeWork, OutOfHoursAnswer
from engagement.outbound.models import Callback, CallbackStatus
from engagement.routing.models import Offer, WorkItem
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import closed_today_and_tomorrow
from tests.engagement.test_voice_control import (  # noqa: F401 (fixtures)
    CALLER,
    RECORDING_URL,
    _telephony,
    _voice_source,
    eager,
    provider_api,
)
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "selfservice_env")]

ANSWER = "Our delivery team is closed for stocktaking."


@pytest.fixture
def closed_delivery(team_a):
    """The queue the 'Delivery' flow hands over to: open 09-17 UTC daily, closed today and tomorrow."""
    hours = closed_today_and_tomorrow()
    queue = QueueFactory(name="delivery", team=team_a, business_hours=hours)
    OutOfHoursAnswer.objects.create(queue=queue, channel=Channel.VOICE, text=ANSWER)
    return queue


@pytest.fixture
def voice_source(team_a, monkeypatch):
    return _voice_source("phones-a", team_a, monkeypatch)


def opening() -> dt.datetime:
    day = timezone.now().astimezone(UTC).date() + dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(9), tzinfo=UTC)


def _reach_closed_queue(phone, capture) -> VoiceCall:
    """The caller goes through the Delivery flow (2, then 2: change the day) and is handed to the queue."""
    phone.ring()
    phone.press("2")
    with capture(execute=True):
        phone.press("2")
    return VoiceCall.objects.get(call_sid=phone.call_sid)


def test_a_known_caller_at_a_closed_queue_hears_the_answer_and_books_a_callback_for_the_opening(
    flows, closed_delivery, voice_source, team_a, settings, django_capture_on_commit_callbacks
):
    # Given a caller CEA knows by their number, and the queue closed until the day after tomorrow
    settings.CEA_VOICE_LANGUAGE = "en-GB"
    customer = make_customer(team_a, given_name="Ada", family_name="Lovelace", phone=CALLER)
    phone = _telephony(voice_source)
    # When the self-service flow hands the call over to the closed queue
    call = _reach_closed_queue(phone, django_capture_on_commit_callbacks)
    # Then the caller hears the answer and the opening, and is offered a message (1) or a callback (2)
    assert call.state == CallState.CLOSED
    assert call.conversation.customer == customer
    assert "Enqueue" not in phone.verbs()
    said = phone.said()
    assert ANSWER in said
    assert f"We open again on {opening():%A %d %B at %H:%M}." in said
    gather = phone.only("Gather")
    assert gather.attrib["action"].endswith(f"/voice/{voice_source.name}/after-hours/")
    assert gather.attrib["numDigits"] == "1" and gather.attrib["language"] == "en-GB"
    assert [say.text for say in gather] == [
        "To leave us a message, press 1.",
        "To be called back when we open, press 2.",
    ]
    assert phone.verbs()[-2:] == ["Say", "Hangup"]  # no choice: goodbye
    assert all(say.attrib["language"] == "en-GB" for say in phone.twiml.iter("Say"))
    # When the caller presses 2
    with django_capture_on_commit_callbacks(execute=True):
        response = phone.press("2")
    # Then a callback of the customer, on the number they called from, waits for the opening; the call ends
    assert response.status_code == 200, response.content
    callback = Callback.objects.get(customer=customer)
    assert (callback.queue, callback.status, callback.due_at, callback.phone) == (
        "delivery",
        CallbackStatus.SCHEDULED,
        opening(),
        CALLER,
    )
    assert phone.verbs()[-1] == "Hangup"
    assert f"Thank you. We will call you back on {opening():%A %d %B at %H:%M}." in phone.said()
    # And the caller was never offered to an agent while the queue is closed
    assert not Offer.objects.filter(work_item__conversation=call.conversation).exists()
    # When the provider repeats the choice, no second callback is booked
    phone.post(gather.attrib["action"], Digits="2", CallStatus="in-progress")
    assert phone.said()[0] == "We have already booked a call back for you."
    assert Callback.objects.filter(customer=customer).count() == 1


def test_an_unknown_caller_is_offered_the_message_only_and_it_lands_on_the_conversation(
    flows, closed_delivery, voice_source, django_capture_on_commit_callbacks
):
    # Given a caller CEA does not know
    phone = _telephony(voice_source)
    call = _reach_closed_queue(phone, django_capture_on_commit_callbacks)
    # Then only the message is offered
    gather = phone.only("Gather")
    assert [say.text for say in gather] == ["To leave us a message, press 1."]
    # When they press 2 anyway, they are told so and asked again
    phone.press("2")
    assert phone.said()[0] == "Sorry, that is not one of the choices."
    assert not Callback.objects.exists()
    # When they press 1
    phone.press("1")
    # Then they are recorded, with transcription, then thanked
    assert phone.verbs() == ["Say", "Record", "Hangup"]
    assert phone.said()[0] == "Please leave your message after the tone."
    record = phone.only("Record")
    assert record.attrib["transcribe"] == "true"
    phone.post(record.attrib["action"], RecordingUrl=RECORDING_URL, CallStatus="in-progress")
    assert phone.verbs() == ["Say", "Hangup"]
    # When the recording and its transcription arrive
    phone.recording(record.attrib["recordingStatusCallback"], sid="RE77", url=RECORDING_URL)
    phone.post(
        record.attrib["transcribeCallback"],
        RecordingSid="RE77",
        TranscriptionSid="TR77",
        TranscriptionStatus="completed",
        TranscriptionText="Please deliver on Friday instead",
        TranscriptionUrl="https://api.twilio.com/2010-04-01/Accounts/AC0123/Transcriptions/TR77",
    )
    # Then both are on the conversation for the agents
    conversation = call.conversation
    assert conversation.messages.filter(payload__event="recording", payload__url=RECORDING_URL).exists()
    assert "Please deliver on Friday instead" in conversation.messages.get(payload__event="transcription").body
    # And the message is work in the closed queue, routed to its agents when it opens (once, though
    # the provider repeats the recording's callback)
    phone.recording(record.attrib["recordingStatusCallback"], sid="RE77", url=RECORDING_URL)
    work = BackofficeWork.objects.get()
    assert (work.queue, work.team, work.status) == ("delivery", closed_delivery.team, BackofficeStatus.QUEUED)
    assert work.title == f"Voicemail from {CALLER}" and RECORDING_URL in work.description
    assert WorkItem.objects.get(conversation=work.conversation).queue.name == "delivery"


def test_a_repeated_request_at_a_closed_queue_gets_the_menu_again_and_an_open_queue_enqueues(
    flows, team_a, voice_source, django_capture_on_commit_callbacks
):
    # Given the queue is open (no business hours) though an answer is configured
    queue = QueueFactory(name="delivery", team=team_a)
    OutOfHoursAnswer.objects.create(queue=queue, channel=Channel.VOICE, text=ANSWER)
    phone = _telephony(voice_source)
    # When the flow hands over
    call = _reach_closed_queue(phone, django_capture_on_commit_callbacks)
    # Then the caller waits for an agent as usual
    assert call.state == CallState.QUEUED
    assert "Enqueue" in phone.verbs() and ANSWER not in phone.said()
    # And the after-hours step of a call that is not at a closed queue only says what the call is doing
    phone.post(phone.base + "after-hours/", Digits="2", CallStatus="in-progress")
    assert phone.verbs() == ["Enqueue"]
    assert not Callback.objects.exists()


def test_a_call_at_a_closed_queue_is_the_source_s_own(
    flows, closed_delivery, voice_source, team_b, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a call at the closed queue, and another team's voice source
    phone = _telephony(voice_source)
    _reach_closed_queue(phone, django_capture_on_commit_callbacks)
    other = _voice_source("phones-b", team_b, monkeypatch)
    # When the other source posts the caller's choice for this call
    intruder = _telephony(other)
    response = intruder.post(intruder.base + "after-hours/", Digits="1", CallStatus="in-progress")
    # Then the call is not found there
    assert response.status_code == 404


def test_an_answer_without_offers_is_said_and_the_call_ends(
    flows, closed_delivery, voice_source, django_capture_on_commit_callbacks
):
    # Given the console's answer offers neither a message nor a callback
    OutOfHoursAnswer.objects.filter(queue=closed_delivery).update(offer_message=False, offer_callback=False)
    phone = _telephony(voice_source)
    # When the call reaches the closed queue
    call = _reach_closed_queue(phone, django_capture_on_commit_callbacks)
    # Then the answer is said, then goodbye and hang-up
    assert call.state == CallState.CLOSED
    assert phone.verbs()[-3:] == ["Say", "Say", "Hangup"] and "Gather" not in phone.verbs()
    assert ANSWER in phone.said() and phone.said()[-1] == "Goodbye."
