"""The site's icon: /favicon.ico leads to the SVG in static/, and every page names it."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_redirects_to_the_svg_icon(client):
    # Given / When a browser asks for /favicon.ico before reading any page
    response = client.get("/favicon.ico")
    # Then it is sent to the SVG icon, which static files hold, and may cache the answer for a day
    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]
    assert finders.find("favicon.svg") is not None


def test_every_page_links_the_icon(client):
    # Given the sign-in page (it extends the base template) / When it is read
    html = client.get("/accounts/login/").content.decode()
    # Then it names the icon
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in html
