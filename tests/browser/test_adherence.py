"""The supervisor's live adherence page in the browser: an agent out of adherence comes back, and the row
turns to "in" without a reload (the push over ws/wfm/adherence/ makes the page read its fragment again)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement.routing.defaults import routing_defaults_ensure
from engagement.routing.models import Presence
from engagement.routing.presence import presence_set
from engagement.wfm.adherence.services import adherence_sweep
from tests.browser.helpers import sign_in
from tests.engagement.factories import AgentProfileFactory
from tests.engagement.wfm.adherence_support import presence_history, published_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_live_page_follows_a_presence_change(new_context, asgi_server, team_a, supervisor):
    # Given: Ann on a published shift around now, offline for 10 minutes (an open exception)
    routing_defaults_ensure()
    now = timezone.now()
    ann = AgentProfileFactory(username="ann", teams=[team_a], user__first_name="Ann", user__last_name="Adams")
    published_shift(ann, team=team_a, starts_at=now - timedelta(hours=1), activities=[("work", 240)])
    presence_history(ann, [("available", "", now - timedelta(hours=1)), ("offline", "", now - timedelta(minutes=10))])
    adherence_sweep()
    # and her supervisor on the adherence page
    page = new_context().new_page()
    sign_in(page, supervisor, next_path="/wfm/adherence/")
    expect(page.locator("#adherence-connection")).to_have_attribute("data-state", "open")
    row = page.locator(f"[data-testid=adherence-agent][data-agent-id='{ann.pk}']")
    expect(row).to_have_attribute("data-status", "out")
    expect(page.locator("[data-testid=adherence-exception][data-open=yes]")).to_have_count(1)
    # When: Ann becomes available
    presence_set(actor=ann.user, agent_user=ann.user, presence=Presence.AVAILABLE)
    # Then: the row turns to "in" and the exception closes, without a reload
    expect(row).to_have_attribute("data-status", "in")
    expect(page.locator("[data-testid=adherence-exception][data-open=no]")).to_have_count(1)
