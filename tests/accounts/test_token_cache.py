"""The short-lived cache of authenticated API tokens: it spares the token row's read, and every change
of the token or its user, and its expiry, takes effect at once (cea/accounts/token_cache.py)."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from cea.accounts import token_cache
from cea.accounts.models import ApiToken
from cea.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_set_active,
    user_set_role,
)
from cea.common.errors import PermissionDenied

SLA_POLICIES = "/api/v1/sla-policies/"


def _refused(raw: str) -> bool:
    try:
        api_token_authenticate(raw=raw)
    except PermissionDenied:
        return True
    return False


@pytest.fixture
def cached(integration_user):
    """A token that authenticated once, so that it is in the cache: (token, plaintext)."""
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    api_token_authenticate(raw=plaintext)
    return token, plaintext


@pytest.mark.django_db
def test_a_token_that_authenticated_is_then_found_without_a_query(cached, django_assert_num_queries):
    # Given: a token that authenticated once
    token, plaintext = cached
    # When: it authenticates again
    with django_assert_num_queries(0):
        found = api_token_authenticate(raw=plaintext)
    # Then: the same token, user and scopes, read from no table
    assert (found.pk, found.user.pk, found.user.role, found.scopes) == (
        token.pk,
        token.user.pk,
        "integration",
        ["cases:read"],
    )


@pytest.mark.django_db
def test_the_cache_never_holds_the_users_password_hash(integration_user):
    # Given: a user with a password, and a token of theirs that authenticated
    integration_user.set_password("a long passphrase for the test")
    integration_user.save()
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    api_token_authenticate(raw=plaintext)
    # When: we read what Redis holds for it
    redis_client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    stored = redis_client.get(cache.make_key(token_cache._key(token.digest)))
    # Then: the token is there, the password hash is not
    assert stored is not None
    assert integration_user.password.encode() not in stored
    assert token.prefix.encode() in stored


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_even_while_the_token_is_cached(cached):
    # Given: a cached token
    token, plaintext = cached
    # When: its prefix comes with another secret
    wrong = f"cea_{token.prefix}_{'x' * 43}"
    # Then
    assert _refused(wrong) is True
    assert _refused(plaintext) is False


@pytest.mark.django_db
def test_revocation_takes_effect_at_once(cached):
    # Given: a cached token
    token, plaintext = cached
    # When: it is revoked
    api_token_revoke(token=token)
    # Then: its next request is refused
    assert _refused(plaintext) is True


@pytest.mark.django_db
def test_revocation_through_the_api_refuses_the_next_request_at_once(client, integration_user):
    # Given: a token whose requests succeed (so it is cached)
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    assert client.get(SLA_POLICIES, **auth).status_code == 200
    assert client.get(SLA_POLICIES, **auth).status_code == 200
    # When
    api_token_revoke(token=token)
    # Then
    assert client.get(SLA_POLICIES, **auth).status_code == 401


@pytest.mark.django_db
def test_expiry_takes_effect_at_once_while_cached(integration_user, monkeypatch):
    # Given: a token that expires in a minute, cached
    expires_at = timezone.now() + timedelta(minutes=1)
    _token, plaintext = api_token_create(
        user=integration_user, name="sync", scopes=["cases:read"], expires_at=expires_at
    )
    assert _refused(plaintext) is False
    # When: the clock passes its expiry
    monkeypatch.setattr(timezone, "now", lambda: expires_at + timedelta(seconds=1))
    # Then
    assert _refused(plaintext) is True


@pytest.mark.django_db
def test_deactivating_the_user_takes_effect_at_once(cached, integration_user):
    # Given: a cached token
    _token, plaintext = cached
    # When: its user is deactivated
    user_set_active(user=integration_user, is_active=False)
    # Then
    assert _refused(plaintext) is True


@pytest.mark.django_db
def test_a_changed_role_or_scope_is_seen_by_the_next_request(cached, integration_user):
    # Given: a cached token of an integration user
    token, plaintext = cached
    # When: the user's role and the token's scopes change (as the admin would save them)
    user_set_role(user=integration_user, role="supervisor")
    token.scopes = ["cases:read", "customers:read"]
    token.save(update_fields=["scopes", "updated_at"])
    # Then
    found = api_token_authenticate(raw=plaintext)
    assert (found.user.role, found.scopes) == ("supervisor", ["cases:read", "customers:read"])


@pytest.mark.django_db
def test_deleting_the_token_or_its_user_takes_effect_at_once(integration_user):
    # Given: two cached tokens
    first, first_plaintext = api_token_create(user=integration_user, name="one", scopes=["cases:read"])
    _second, second_plaintext = api_token_create(user=integration_user, name="two", scopes=["cases:read"])
    assert not _refused(first_plaintext) and not _refused(second_plaintext)
    # When: the first is deleted, then the user
    first.delete()
    assert _refused(first_plaintext) is True
    integration_user.delete()
    # Then
    assert _refused(second_plaintext) is True


@pytest.mark.django_db
def test_a_row_read_before_a_revocation_cannot_be_put_back_into_the_cache(integration_user):
    # Given: a request read the token's row (not yet cached) …
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    read_before = ApiToken.objects.select_related("user").get(pk=token.pk)
    # … then the token is revoked …
    api_token_revoke(token=token)
    # When: that request caches what it read, after the revocation
    token_cache.remember_token(read_before)
    # Then: the revocation still holds
    assert token_cache.cached_token(token.digest) is None
    assert _refused(plaintext) is True


@pytest.mark.django_db
def test_a_revocation_in_a_transaction_holds_after_the_commit(cached, django_capture_on_commit_callbacks):
    # Given: a cached token
    token, plaintext = cached
    # When: it is revoked in a transaction, and a request that read the old row caches it before the commit
    read_before = ApiToken.objects.select_related("user").get(pk=token.pk)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        api_token_revoke(token=token)
        cache.delete(token_cache._key(token.digest))  # the tombstone lost, as if it had expired
        token_cache.remember_token(read_before)
    # Then: the commit invalidated it again
    assert token_cache.cached_token(token.digest) is None
    assert _refused(plaintext) is True


@pytest.mark.django_db
def test_use_is_still_recorded_once_a_minute(integration_user):
    # Given: a token whose use was recorded 50 seconds ago, then cached
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    fifty_seconds_ago = timezone.now() - timedelta(seconds=50)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=fifty_seconds_ago)
    api_token_authenticate(raw=plaintext)
    # When: we ask Redis how long the entry lives
    redis_client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    left = redis_client.ttl(cache.make_key(token_cache._key(token.digest)))
    # Then: it is gone before the recorded use is a minute old, so the next use is read and written
    assert 1 <= left <= 10


@pytest.mark.django_db
def test_with_the_cache_off_every_request_reads_the_token(cached, settings, django_assert_num_queries):
    # Given
    _token, plaintext = cached
    settings.CEA_API_TOKEN_CACHE_SECONDS = 0
    # When / Then: one query, the token with its user
    with django_assert_num_queries(1):
        api_token_authenticate(raw=plaintext)
