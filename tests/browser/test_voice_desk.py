"""The desk's call controls in a real browser: Hold, Resume and Hang up on a call the agent handles,
each a REST call update the (loopback) provider receives; a call of another team is not on their desk."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.adapters.voice_control.models import CallState, VoiceCall, VoiceEndpoint
from tests.accounts.factories import UserFactory
from tests.browser.helpers import Desk, eventually, sign_in
from tests.engagement.desktop_support import on_desk
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.voice_control_support import ACCOUNT_SID, AUTH_TOKEN, ProviderApi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALL = "CA7e3d9b1f0c2a4d5e6f708192a3b4c5d6"
CALLER = "+447911123456"
AGENT_PHONE = "+442079460555"


@pytest.fixture
def provider_api(settings, monkeypatch):
    api = ProviderApi().start()
    settings.CEA_TWILIO_API_URL = api.url
    monkeypatch.setenv("CEA_SOURCE_PHONES_DESK_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("CEA_SOURCE_PHONES_DESK_AUTH_TOKEN", AUTH_TOKEN)
    yield api
    api.stop()


def _call_with(agent, team) -> VoiceCall:
    """A call the provider put through to ``agent`` (accepted through the router)."""
    source = WebhookSourceFactory(name="phones-desk", channel="voice", provider="twilio", team=team)
    VoiceEndpoint.objects.create(user=agent, phone_number=AGENT_PHONE)
    conversation = on_desk(agent, channel="voice", contact_kind="phone", contact_value=CALLER)
    return VoiceCall.objects.create(
        source=source,
        call_sid=CALL,
        conversation=conversation,
        caller=CALLER,
        state=CallState.CONNECTED,
        agent=agent,
        webhook_base="http://testserver/api/v1/engagement/voice/phones-desk/",
    )


def _call_box(new_context, agent, call: VoiceCall):
    """The call's controls on ``agent``'s desk, signed in in a new browser context."""
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    desk.tab(call.conversation_id).click()
    return desk.panel(call.conversation_id).get_by_test_id("voice-call")


def test_the_agent_holds_resumes_and_hangs_up_a_call_from_the_desk(
    new_context, asgi_server, provider_api, team_a, team_b, agent
):
    # Given a call the agent handles, on their desk
    call = _call_with(agent, team_a)
    box = _call_box(new_context, agent, call)
    hold, resume, hang_up = (box.get_by_role("button", name=name) for name in ("Hold", "Resume", "Hang up"))
    expect(box).to_have_attribute("data-state", "connected")
    expect(resume).to_be_disabled()

    # When the agent presses Hold
    hold.click()
    # Then the provider plays the caller hold music, and the desk shows the call on hold
    expect(box).to_have_attribute("data-state", "held")
    expect(box.get_by_test_id("call-state")).to_have_text("On hold")
    expect(hold).to_be_disabled()
    held = provider_api.updates[-1]
    assert (held.call_sid, [verb.tag for verb in held.document]) == (CALL, ["Say", "Play"])

    # When they press Resume
    resume.click()
    # Then the caller is put through to the agent's phone again
    expect(box).to_have_attribute("data-state", "connected")
    expect(resume).to_be_disabled()
    resumed = provider_api.updates[-1]
    assert resumed.document.find("Dial/Number").text == AGENT_PHONE

    # When they press Hang up
    hang_up.click()
    # Then the provider is told to hang up (its status callback ends the conversation)
    eventually(lambda: [v.tag for v in provider_api.updates[-1].document] == ["Hangup"] or None, what="a hang-up")
    assert len(provider_api.updates) == 3
    expect(box.get_by_test_id("call-errors")).to_have_text("")


def test_a_refused_hold_is_shown_and_another_teams_agent_has_no_such_call(
    new_context, asgi_server, provider_api, team_a, team_b, agent
):
    # Given a call the agent handles, and the provider refusing the next update
    call = _call_with(agent, team_a)
    provider_api.fail_next.append(400)
    box = _call_box(new_context, agent, call)
    # When the agent presses Hold
    box.get_by_role("button", name="Hold").click()
    # Then the desk says why, and the call stays with the agent
    expect(box.get_by_test_id("call-errors")).not_to_have_text("")
    expect(box).to_have_attribute("data-state", "connected")
    assert VoiceCall.objects.get(pk=call.pk).state == CallState.CONNECTED

    # Given an agent of another team signed in
    other = UserFactory(username="olga", role="agent", teams=[team_b])
    page_b = new_context().new_page()
    sign_in(page_b, other, next_path="/desk/")
    desk_b = Desk(page_b)
    expect(desk_b.connection).to_have_attribute("data-state", "open")
    # Then the call is not on their desk, and its panel and controls are refused
    expect(desk_b.tab(call.conversation_id)).to_have_count(0)
    panel = page_b.request.get(f"/desk/conversations/{call.conversation_id}/", headers={"HX-Request": "true"})
    assert panel.status == 403
    hold = page_b.evaluate(
        """url => fetch(url, {method: "POST", credentials: "same-origin", headers: {
            "X-CSRFToken": JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]}})
            .then(response => response.status)""",
        f"/api/v1/engagement/conversations/{call.conversation_id}/call/hold/",
    )
    assert hold == 403
    assert VoiceCall.objects.get(pk=call.pk).state == CallState.CONNECTED
