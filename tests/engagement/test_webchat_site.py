"""The web chat's site side: origins, the demo shop page and its site key, the widget script, the console."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cea.accounts.models import Team
from engagement.webchat.models import SiteKey
from engagement.webchat.services import DEMO_SITE_KEY, origin_normalise, site_origin_allowed, webchat_session_open
from tests.engagement.factories import SiteKeyFactory


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80/", "http://shop.example"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://shop.example/path", None),
        ("https://user@shop.example", None),
        ("ftp://shop.example", None),
        ("shop.example", None),
        ("null", None),
        ("http://shop.example:99999", None),
        ("", None),
    ],
)
def test_origins_are_compared_as_browsers_write_them(value, origin):
    assert origin_normalise(value=value) == origin


def test_an_origin_must_match_scheme_host_and_port_exactly():
    site = SiteKey(name="Shop", allowed_origins=["https://shop.example", "http://localhost:8000"])
    assert [
        site_origin_allowed(site=site, origin=origin)
        for origin in (
            "https://shop.example",
            "http://shop.example",
            "https://shop.example:8443",
            "https://evil.shop.example",
            "http://localhost:8000",
            "http://localhost:8001",
        )
    ] == [True, False, False, False, True, False]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "kept"),
    [
        ("https://shop.example/boots?size=9", "https://shop.example/boots"),
        ("https://shop.example/track?national_id=AB123456C&email=ann%40example.com#top", "https://shop.example/track"),
        ("https://ann:secret@shop.example:8443/boots#reviews", "https://shop.example:8443/boots"),
        ("https://shop.example?q=1", "https://shop.example/"),
        ("https://shop.example/" + "a" * 400, "https://shop.example/" + "a" * 279),
        ("javascript:alert(1)", ""),
        ("https://shop.example/\x00", ""),
        ("", ""),
    ],
)
def test_the_page_a_widget_reports_is_kept_only_as_a_short_http_address_without_query_or_fragment(page, kept):
    site = SiteKeyFactory(name="Shop")
    # When
    session = webchat_session_open(
        site_key=site.key, origin="https://shop.example", ip="203.0.113.9", connection="test", page=page
    )
    # Then
    assert session.page == kept


# --- The demo site --------------------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_demo_site_creates_the_site_key_once_with_this_servers_origins(settings):
    # Given
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver", ".example.org", "*"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://cea.example.org"]
    team = Team.objects.create(name="Retail Support")
    # When
    first, second = StringIO(), StringIO()
    call_command("ensure_demo_site", "--port", "8123", stdout=first)
    call_command("ensure_demo_site", "--port", "8123", stdout=second)
    # Then
    site = SiteKey.objects.get()
    assert (site.key, site.name, site.queue, site.team, site.is_active) == (
        DEMO_SITE_KEY,
        "Demo shop",
        "web-chat",
        team,
        True,
    )
    assert site.allowed_origins == [
        "http://localhost:8123",
        "http://127.0.0.1:8123",
        "http://[::1]:8123",
        "https://cea.example.org",
    ]
    assert first.getvalue().startswith(f"Created the demo site key {DEMO_SITE_KEY}")
    assert second.getvalue() == f"Demo site key {DEMO_SITE_KEY} is up to date.\n"


@pytest.mark.django_db
def test_ensure_demo_site_adds_a_new_port_and_keeps_origins_an_administrator_added(settings, monkeypatch):
    # Given
    settings.ALLOWED_HOSTS = ["localhost"]
    call_command("ensure_demo_site", stdout=StringIO(), port=8000)
    SiteKey.objects.filter(key=DEMO_SITE_KEY).update(allowed_origins=["http://localhost:8000", "https://shop.example"])
    monkeypatch.setenv("PORT", "9000")
    out = StringIO()
    # When
    call_command("ensure_demo_site", "--origin", "https://staging.example", stdout=out)
    # Then
    assert SiteKey.objects.get().allowed_origins == [
        "http://localhost:8000",
        "https://shop.example",
        "http://localhost:9000",
        "https://staging.example",
    ]
    assert (
        out.getvalue()
        == f"Demo site key {DEMO_SITE_KEY}: allowed http://localhost:9000, https://staging.example as well.\n"
    )


@pytest.mark.django_db
def test_ensure_demo_site_refuses_a_malformed_origin():
    with pytest.raises(CommandError, match=re.escape("'https://x.example/path' is not an origin")):
        call_command("ensure_demo_site", "--origin", "https://x.example/path", stdout=StringIO())
    assert SiteKey.objects.count() == 0


@pytest.mark.django_db
def test_the_demo_shop_embeds_the_widget_with_one_script_tag(client):
    # Given
    call_command("ensure_demo_site", stdout=StringIO())
    # When
    response = client.get("/demo/shop/")
    # Then: public, and exactly the tag a customer's site would paste, with the nonce of the page's
    # Content-Security-Policy (as a site with a nonce-based policy gives it)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<script") == 1
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert (
        f'<script src="http://testserver/static/engagement/widget.js" data-site-key="{DEMO_SITE_KEY}" '
        f'nonce="{nonce}" async></script>' in page
    )
    assert 'data-testid="demo-shop-no-site-key"' not in page


@pytest.mark.django_db
def test_the_demo_shop_without_its_site_key_says_how_to_set_it_up(client):
    # When
    response = client.get("/demo/shop/")
    # Then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="demo-shop-no-site-key"' in page
    assert "<script" not in page


def test_the_widget_script_is_a_static_file_with_test_ids():
    # When
    script = (settings.BASE_DIR / "static" / "engagement" / "widget.js").read_text()
    # Then
    for testid in ("cea-chat-button", "cea-chat-panel", "cea-chat-messages", "cea-chat-input", "cea-chat-send"):
        assert f'"{testid}"' in script
    assert "/ws/webchat/" in script
    assert "localStorage" in script


# --- The console ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_sees_the_embed_snippet_of_a_site_key(client, admin_user):
    # Given
    site = SiteKeyFactory(name="Shop")
    client.force_login(admin_user)
    # When
    response = client.get(f"/admin/engagement/sitekey/{site.pk}/change/")
    # Then
    assert response.status_code == 200
    assert (
        f'&lt;script src="http://testserver/static/engagement/widget.js" '
        f'data-site-key="{site.key}" async&gt;&lt;/script&gt;'
    ) in response.content.decode()


@pytest.mark.django_db
def test_an_admin_adds_a_site_key_and_origins_are_checked(client, admin_user):
    client.force_login(admin_user)
    form = {"name": "Shop", "queue": "web-chat", "team": "", "greeting": "Hello!", "is_active": "on"}
    # When
    refused = client.post("/admin/engagement/sitekey/add/", {**form, "allowed_origins": "https://shop.example/path"})
    added = client.post("/admin/engagement/sitekey/add/", {**form, "allowed_origins": "https://Shop.example:443"})
    # Then
    assert refused.status_code == 200
    assert "Not an origin (scheme://host[:port], no path): https://shop.example/path." in refused.content.decode()
    assert added.status_code == 302
    site = SiteKey.objects.get()
    assert site.allowed_origins == ["https://shop.example"]
    assert site.key.startswith("site_")


@pytest.mark.django_db
def test_a_supervisor_may_look_at_site_keys_but_not_change_them(client, supervisor):
    # Given
    site = SiteKeyFactory(name="Shop")
    client.force_login(supervisor)
    # When
    listed = client.get("/admin/engagement/sitekey/")
    viewed = client.get(f"/admin/engagement/sitekey/{site.pk}/change/")
    changed = client.post(
        f"/admin/engagement/sitekey/{site.pk}/change/", {"name": "Mine", "allowed_origins": "https://evil.example"}
    )
    add = client.get("/admin/engagement/sitekey/add/")
    # Then
    assert (listed.status_code, viewed.status_code, add.status_code) == (200, 200, 403)
    assert changed.status_code == 403
    site.refresh_from_db()
    assert (site.name, site.allowed_origins) == ("Shop", ["https://shop.example"])
