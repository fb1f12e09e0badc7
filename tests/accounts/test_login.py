"""Sign-in, sign-out, brute-force cool-off (django-axes) and the inactivity timeout of sessions."""

from datetime import timedelta

import pytest
import redis
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import PASSWORD

LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"


def _sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def _redis_session_key(session_key: str) -> str:
    """The Redis key under which the cached_db session engine keeps a session."""
    return cache.make_key(SessionStore(session_key=session_key).cache_key)


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


# --- Sign-in ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_renders_the_form(client):
    # When
    response = client.get(LOGIN_URL)
    # Then
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="login-form"' in page
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'data-testid="login-error"' not in page


@pytest.mark.django_db
def test_the_right_password_signs_in_and_redirects_home(client, agent):
    # When
    response = _sign_in(client, "agent.a", PASSWORD)
    # Then
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user_id(client) == str(agent.pk)
    assert client.get(reverse("records:customer-search")).status_code == 200


@pytest.mark.django_db
def test_sign_in_follows_next_to_the_page_asked_for(client, agent):
    # Given: an anonymous visit is sent to the login page
    first = client.get("/customers/?q=smith")
    assert first.status_code == 302
    assert first["Location"] == "/accounts/login/?next=/customers/%3Fq%3Dsmith"
    # When
    response = client.post(LOGIN_URL + "?next=/customers/%3Fq%3Dsmith", {"username": "agent.a", "password": PASSWORD})
    # Then
    assert response.status_code == 302
    assert response["Location"] == "/customers/?q=smith"


@pytest.mark.django_db
def test_a_wrong_password_shows_the_error_and_signs_nobody_in(client, agent):
    # When
    response = _sign_in(client, "agent.a", "not-the-password")
    # Then
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="login-error"' in page
    assert "Your username and password did not match. After 5 failed attempts sign-in is paused for 15 minutes." in page
    assert 'value="agent.a"' in page  # the username is kept, the password is not
    assert _signed_in_user_id(client) is None
    assert AccessAttempt.objects.get(username="agent.a").failures_since_start == 1


@pytest.mark.django_db
def test_an_integration_client_cannot_sign_in_to_the_browser(client, integration_user):
    # Integration clients have no usable password: tokens only.
    response = _sign_in(client, "crm-sync", PASSWORD)
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()
    assert _signed_in_user_id(client) is None


# --- Brute-force protection: a cool-off, not a lock --------------------------------------------


def _fail_until_locked(client: Client, username: str) -> list[int]:
    return [_sign_in(client, username, f"wrong-{n}").status_code for n in range(settings.AXES_FAILURE_LIMIT)]


@pytest.mark.django_db
def test_sign_in_is_paused_after_the_failure_limit_even_with_the_right_password(client, agent):
    # Given: the failure limit is what the login page announces
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    # When: five wrong passwords in a row
    statuses = _fail_until_locked(client, "agent.a")
    # Then: the first four show the form again; the fifth already answers with the pause
    assert statuses == [200, 200, 200, 200, 429]
    # When: the right password, from the same address
    response = _sign_in(client, "agent.a", PASSWORD)
    # Then: still refused, with the locked-out page (429 Too Many Requests)
    assert response.status_code == 429
    page = response.content.decode()
    assert 'data-testid="locked-out"' in page
    assert (
        "Too many failed sign-in attempts for this account from this address. "
        "Try again in 15 minutes; the pause lifts by itself." in page
    )
    assert _signed_in_user_id(client) is None


@pytest.mark.django_db
def test_the_pause_is_per_username_and_address(agent, supervisor):
    # Given: agent.a is paused from 10.0.0.1
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    _fail_until_locked(attacker, "agent.a")
    assert _sign_in(attacker, "agent.a", PASSWORD).status_code == 429
    # When / Then: the same person from another address signs in
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    assert _sign_in(elsewhere, "agent.a", PASSWORD).status_code == 302
    # When / Then: another user from the paused address signs in
    colleague = Client(REMOTE_ADDR="10.0.0.1")
    assert _sign_in(colleague, "supervisor.a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_after_the_cool_off_the_right_password_works_again(client, agent):
    # Given: a paused sign-in
    _fail_until_locked(client, "agent.a")
    assert _sign_in(client, "agent.a", PASSWORD).status_code == 429
    # When: the cool-off passes (the recorded attempts move back in time instead of waiting)
    moved = AccessAttempt.objects.filter(username="agent.a").update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert moved == 1
    response = _sign_in(client, "agent.a", PASSWORD)
    # Then: signed in, and the failures are forgotten (AXES_RESET_ON_SUCCESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user_id(client) == str(agent.pk)
    assert AccessAttempt.objects.filter(username="agent.a").count() == 0


@pytest.mark.django_db
def test_failures_older_than_the_cool_off_do_not_count(client, agent):
    # Given: four failures, long ago
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "agent.a", f"wrong-{n}")
    AccessAttempt.objects.filter(username="agent.a").update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    # When: one more failure now
    response = _sign_in(client, "agent.a", "wrong-again")
    # Then: no pause, the form is shown again
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()
    assert _sign_in(client, "agent.a", PASSWORD).status_code == 302


# --- Sign-out -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_by_post_ends_the_session(client, agent):
    # Given
    _sign_in(client, "agent.a", PASSWORD)
    session_key = client.session.session_key
    # When
    response = client.post(LOGOUT_URL)
    # Then
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert _signed_in_user_id(client) is None
    assert not Session.objects.filter(session_key=session_key).exists()
    page = client.get(reverse("records:customer-search"))
    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/customers/"


@pytest.mark.django_db
def test_logout_by_get_is_refused_and_keeps_the_session(client, agent):
    # A link (GET) must not sign anyone out: only the form's POST does.
    _sign_in(client, "agent.a", PASSWORD)
    response = client.get(LOGOUT_URL)
    assert response.status_code == 405
    assert _signed_in_user_id(client) == str(agent.pk)


# --- Sessions: an inactivity timeout ------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_lasts_the_idle_timeout_from_sign_in(client, agent, redis_client):
    # When
    before = timezone.now()
    response = _sign_in(client, "agent.a", PASSWORD)
    # Then: the cookie, the database row and the Redis copy all expire SESSION_COOKIE_AGE after the request
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    session_key = cookie.value
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    row = Session.objects.get(session_key=session_key)
    assert before + timedelta(seconds=settings.SESSION_COOKIE_AGE) <= row.expire_date
    assert row.expire_date <= timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert 0 < redis_client.ttl(_redis_session_key(session_key)) <= settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_each_request_pushes_the_expiry_back(client, agent, redis_client):
    # Given: a session that has been idle until one minute before it expires
    _sign_in(client, "agent.a", PASSWORD)
    session_key = client.session.session_key
    Session.objects.filter(session_key=session_key).update(expire_date=timezone.now() + timedelta(minutes=1))
    redis_client.expire(_redis_session_key(session_key), 60)
    # When: the user does something
    before = timezone.now()
    response = client.get(reverse("records:customer-search"))
    # Then: the expiry starts again from this request, in the cookie, the database and Redis
    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == session_key
    expire_date = Session.objects.get(session_key=session_key).expire_date
    assert expire_date >= before + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert redis_client.ttl(_redis_session_key(session_key)) > 60


@pytest.mark.django_db
def test_an_expired_session_redirects_to_login(client, agent, redis_client):
    # Given: a signed-in session whose idle time ran out (the Redis copy lapsed, the row is past its expiry)
    _sign_in(client, "agent.a", PASSWORD)
    session_key = client.session.session_key
    assert client.get(reverse("records:customer-search")).status_code == 200
    redis_client.delete(_redis_session_key(session_key))
    Session.objects.filter(session_key=session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    # When
    response = client.get(reverse("records:customer-search"))
    # Then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/customers/"
    assert _signed_in_user_id(client) is None


# --- Behind a reverse proxy: the pause is per client address, not per proxy -----------------------


PROXY = "10.0.0.1"


@pytest.mark.django_db
def test_behind_the_trusted_proxy_the_pause_is_per_forwarded_client_address(settings, agent):
    # Given: one trusted proxy, whose address every request comes from
    settings.CEA_TRUSTED_PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    _fail_until_locked(attacker, "agent.a")
    assert _sign_in(attacker, "agent.a", PASSWORD).status_code == 429
    # When: the real agent signs in through the same proxy from their own address
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.20")
    response = _sign_in(colleague, "agent.a", PASSWORD)
    # Then: signed in; only the attacker's address is paused
    assert response.status_code == 302
    assert AccessAttempt.objects.get(username="agent.a", ip_address="198.51.100.7").failures_since_start == 6
    assert not AccessAttempt.objects.filter(ip_address=PROXY).exists()


@pytest.mark.django_db
def test_behind_the_trusted_proxy_a_forged_left_entry_does_not_escape_the_pause(settings, agent):
    # Given: one trusted proxy; the attacker prepends a different made-up address to each request
    settings.CEA_TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        forged = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}, 198.51.100.7")
        _sign_in(forged, "agent.a", f"wrong-{n}")
    # When
    again = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.7")
    # Then: the address the proxy saw is paused
    assert _sign_in(again, "agent.a", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(settings, agent):
    # Given: no proxy (the default); the attacker sends a new X-Forwarded-For with each attempt
    assert settings.CEA_TRUSTED_PROXY_COUNT == 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}"), "agent.a", f"wrong-{n}")
    # When
    response = _sign_in(Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="192.0.2.200"), "agent.a", PASSWORD)
    # Then: the connection's address is paused, whatever the header says
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.9"]
