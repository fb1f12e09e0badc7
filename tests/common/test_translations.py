"""The interface's translations (docs/translations.md): the German catalogs are complete, nothing
marked for translation is missing from them, and pages, the widget's strings and its socket's
errors come in the language asked for.

The catalogs are compiled before the suite (``make translations``, and ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from cea.common.translations import supported_language
from tests.engagement.factories import SiteKeyFactory
from tests.engagement.websockets import accepted, isolated_redis, receive, run, socket

ROOT = Path(settings.BASE_DIR)
CATALOGS = [ROOT / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po" for domain in ("django", "djangojs")]
# What makemessages must not read: the virtualenv, collected static files, vendored scripts, the tests.
IGNORED = [".venv", "node_modules", "staticfiles", "static/vendor", "tests", ".git", ".data"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{[\w.]*\}")
TAG = re.compile(r"</?\w+[^>]*>")
GETTEXT_HELP = (
    "The translation tests run Django's makemessages, which needs GNU gettext (xgettext, msgmerge). "
    "Install it with: sudo apt-get install -y gettext"
)


def _entries():
    for path in CATALOGS:
        for entry in polib.pofile(str(path)):
            yield path.name, entry


def _forms(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: one, or one per plural form (form 0 the singular)."""
    if entry.msgid_plural:
        return [
            (entry.msgid if n == 0 else entry.msgid_plural, text) for n, text in sorted(entry.msgstr_plural.items())
        ]
    return [(entry.msgid, entry.msgstr)]


def _untranslated(path: Path) -> list[str]:
    return [entry.msgid for entry in polib.pofile(str(path)) if not entry.obsolete and not _is_done(entry)]


def _is_done(entry: polib.POEntry) -> bool:
    return entry.translated() and "fuzzy" not in entry.flags


# --- (a) The committed catalogs ------------------------------------------------------------------


def test_every_german_entry_is_translated_and_not_fuzzy():
    # Given the committed German catalogs
    # When every entry is read
    problems = [f"{name}: {entry.msgid!r}" for name, entry in _entries() if not _is_done(entry)]
    # Then none is empty or fuzzy
    assert problems == []
    assert len(list(_entries())) > 500  # the interface's strings are there, not an empty file


def test_every_translation_keeps_the_placeholders_and_markup_of_its_source():
    # Given the committed German catalogs
    problems = []
    for name, entry in _entries():
        for source, text in _forms(entry):
            # When a translation's placeholders (%(name)s, {}) and HTML tags are compared with its source's
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"{name}: placeholders of {source!r} in {text!r}")
            if sorted(TAG.findall(source)) != sorted(TAG.findall(text)):
                problems.append(f"{name}: markup of {source!r} in {text!r}")
    # Then every one is there, unchanged
    assert problems == []


# --- (b) Nothing marked is missing from the catalogs --------------------------------------------


def test_makemessages_finds_no_string_missing_from_the_catalogs(tmp_path):
    # Given a copy of the sources and of the committed catalogs (makemessages writes its catalogs)
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail(GETTEXT_HELP)
    copy = tmp_path / "cea"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORED, "*.mo", "__pycache__"), symlinks=True)
    # When makemessages reads them for German, for the templates and Python and for the scripts
    for domain in ("django", "djangojs"):
        command = [sys.executable, "manage.py", "makemessages", "-l", "de", "-d", domain, "--no-obsolete"]
        command += [f"--ignore={pattern}" for pattern in IGNORED]
        # The project's settings (the copy has no tests package), with the suite's database and Redis.
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "cea.settings"}
        done = subprocess.run(command, cwd=copy, env=environment, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    # Then every string it finds is in the committed catalogs, translated (a new one merges in empty,
    # a changed one fuzzy): mark a string, then run makemessages and translate it (docs/translations.md)
    missing = {path.name: _untranslated(copy / path.relative_to(ROOT)) for path in CATALOGS}
    assert missing == {"django.po": [], "djangojs.po": []}


# --- (c) Pages in the language asked for ---------------------------------------------------------


@pytest.mark.django_db
def test_the_desk_is_in_german_when_the_browser_asks_for_german_and_in_english_by_default(client, agent):
    # Given a signed-in agent
    client.force_login(agent)
    # When the desk is asked for in German, and without a language
    german = client.get(reverse("engagement:desktop"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    english = client.get(reverse("engagement:desktop"))
    # Then the first is in German (its text, its <html lang>, the header's language picker) …
    assert german.status_code == 200
    assert german["Content-Language"] == "de"
    page = german.content.decode()
    assert '<html lang="de">' in page
    assert "Keine wartenden Anfragen." in page
    assert 'placeholder="Kunden finden: Name, E-Mail, Telefon, Konto…"' in page
    assert "No offers waiting." not in page
    # … and the second in English
    page = english.content.decode()
    assert '<html lang="en-gb">' in page
    assert "No offers waiting." in page
    assert "Keine wartenden Anfragen." not in page


@pytest.mark.django_db
def test_a_supervisor_page_is_in_german_when_asked_for(client, supervisor):
    # Given a signed-in supervisor
    client.force_login(supervisor)
    # When the supervision page is asked for in German, and in English
    german = client.get(reverse("engagement:supervision"), HTTP_ACCEPT_LANGUAGE="de")
    english = client.get(reverse("engagement:supervision"), HTTP_ACCEPT_LANGUAGE="en")
    # Then each is in its language
    assert "Laufende Gespräche" in german.content.decode()
    assert "Live conversations" not in german.content.decode()
    assert "Live conversations" in english.content.decode()


@pytest.mark.django_db
def test_the_language_picker_keeps_the_choice_for_the_next_pages(client, agent):
    # Given a signed-in agent whose browser asks for English
    client.force_login(agent)
    # When they pick German in the header's picker
    response = client.post(reverse("set_language"), {"language": "de", "next": "/desk/"}, HTTP_ACCEPT_LANGUAGE="en")
    # Then they go back to the desk, which is now German though the browser still asks for English
    assert response.status_code == 302
    assert response["Location"] == "/desk/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    desk = client.get("/desk/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Keine wartenden Anfragen." in desk.content.decode()


@pytest.mark.django_db
def test_the_scripts_catalog_is_served_in_the_page_language(client, agent):
    # Given a signed-in agent
    client.force_login(agent)
    # When the scripts' catalog is asked for in German
    response = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="de")
    # Then it holds the desk's strings in German
    assert response.status_code == 200
    assert "Verbinde neu\\u2026" in response.content.decode() or "Verbinde neu…" in response.content.decode()


def test_the_widget_strings_are_public_in_the_asked_language_with_english_as_the_fallback(client):
    # Given no one signed in (the widget runs on customers' sites)
    # When the widget asks for its strings in Austrian German, and in a language CEA does not speak
    german = client.get(reverse("engagement:webchat-strings", args=["de-AT"]), HTTP_ORIGIN="https://shop.example")
    klingon = client.get(reverse("engagement:webchat-strings", args=["tlh"]))
    # Then German comes back, readable from any site, and English (an empty catalog) for the other
    assert german.status_code == 200
    assert german["Access-Control-Allow-Origin"] == "*"
    assert german["Content-Language"] == "de"
    assert json.loads(german.content)["catalog"]["Start a new chat"] == "Neuen Chat beginnen"
    assert json.loads(klingon.content)["catalog"] == {}
    assert klingon["Content-Language"] == "en-gb"


def test_a_language_is_matched_to_the_nearest_the_interface_speaks():
    # Given language tags and Accept-Language headers
    # When each is matched
    # Then German variants are German, and anything else is English
    assert supported_language("de-CH") == "de"
    assert supported_language("de-DE,de;q=0.9,en;q=0.8") == "de"
    assert supported_language("en-US") == "en-gb"
    assert supported_language("fr") == "en-gb"
    assert supported_language("") == "en-gb"
    assert supported_language("x" * 500) == "en-gb"


@pytest.fixture
def _redis_of_its_own(settings):
    yield from isolated_redis(settings)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_redis_of_its_own")
def test_the_widget_socket_answers_in_the_language_the_widget_sends_else_the_browser_s(team_a):
    # Given a site key allowing the shop's page
    site = SiteKeyFactory(allowed_origins=["https://shop.example"], queue="web-chat", team=team_a)
    origin = (b"origin", b"https://shop.example")
    # (lang=: the host page's language, which the widget sends; else the browser's Accept-Language)
    widgets = {
        "page in German": (f"/ws/webchat/?site_key={site.key}&lang=de", [origin, (b"accept-language", b"en")]),
        "page in English": (f"/ws/webchat/?site_key={site.key}&lang=en", [origin, (b"accept-language", b"de")]),
        "browser in German": (f"/ws/webchat/?site_key={site.key}", [origin, (b"accept-language", b"de-DE,de")]),
    }
    errors = {}

    async def scenario():
        for name, (path, headers) in widgets.items():
            # When each widget asks to end a chat it has not started
            communicator = await accepted(socket(path, headers))
            await receive(communicator, "welcome")
            await communicator.send_json_to({"type": "end"})
            error = await receive(communicator, "error")
            errors[name] = (error["code"], error["message"])
            await communicator.disconnect()

    run(scenario)
    # Then each error comes in its language, with the same code
    assert errors == {
        "page in German": ("no_conversation", "Es gibt keinen Chat zum Beenden."),
        "page in English": ("no_conversation", "There is no chat to end."),
        "browser in German": ("no_conversation", "Es gibt keinen Chat zum Beenden."),
    }
