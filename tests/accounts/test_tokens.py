"""Scoped API tokens: created once in plaintext, stored as a digest, refused alike when unusable."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cea.accounts.models import ApiToken, User
from cea.accounts.services import api_token_authenticate, api_token_create, api_token_revoke
from cea.common.errors import PermissionDenied, ValidationFailed
from tests.accounts.factories import UserFactory

PLAINTEXT = re.compile(r"^cea_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
REFUSED = "Invalid, expired or revoked API token."


def _refusal(raw: str) -> PermissionDenied:
    with pytest.raises(PermissionDenied) as refused:
        api_token_authenticate(raw=raw)
    return refused.value


# --- Creating ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_returns_the_plaintext_once_and_stores_only_its_digest(integration_user):
    # When
    token, plaintext = api_token_create(
        user=integration_user, name=" CRM sync ", scopes=["customers:write", "customers:read", "customers:read"]
    )
    # Then: cea_<prefix>_<secret>
    match = PLAINTEXT.match(plaintext)
    assert match is not None, plaintext
    secret = match["secret"]
    token.refresh_from_db()
    assert token.prefix == match["prefix"]
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.name, token.scopes, token.user_id) == (
        "CRM sync",
        ["customers:read", "customers:write"],
        integration_user.pk,
    )
    assert (token.expires_at, token.revoked_at, token.last_used_at) == (None, None, None)
    # The secret is in no stored column.
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(secret in str(value) for value in stored.values())
    assert plaintext not in str(token)
    assert str(token) == f"CRM sync ({token.prefix}…)"


@pytest.mark.django_db
def test_two_tokens_never_share_a_prefix_or_a_secret(integration_user):
    first = api_token_create(user=integration_user, name="one", scopes=["cases:read"])
    second = api_token_create(user=integration_user, name="two", scopes=["cases:read"])
    assert first[0].prefix != second[0].prefix
    assert first[1] != second[1]
    assert first[0].digest != second[0].digest


@pytest.mark.django_db
def test_an_unknown_scope_is_refused_and_nothing_is_created(integration_user):
    with pytest.raises(ValidationFailed) as refused:
        api_token_create(user=integration_user, name="sync", scopes=["customers:read", "everything", "cases:delete"])
    assert refused.value.message == "Unknown scopes: cases:delete, everything."
    assert refused.value.fields == {"scopes": ["Unknown scope 'cases:delete'.", "Unknown scope 'everything'."]}
    assert refused.value.status_code == 400
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_a_token_needs_at_least_one_scope(integration_user):
    with pytest.raises(ValidationFailed) as refused:
        api_token_create(user=integration_user, name="sync", scopes=[])
    assert refused.value.fields == {"scopes": ["Choose at least one scope."]}
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_an_expiry_in_the_past_is_refused(integration_user):
    with pytest.raises(ValidationFailed) as refused:
        api_token_create(
            user=integration_user,
            name="sync",
            scopes=["cases:read"],
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    assert refused.value.fields == {"expires_at": ["Must be in the future."]}
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_a_token_needs_a_name(integration_user):
    with pytest.raises(ValidationFailed) as refused:
        api_token_create(user=integration_user, name="  ", scopes=["cases:read"])
    assert refused.value.fields == {"name": ["This field is required."]}
    assert ApiToken.objects.count() == 0


# --- Authenticating -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plaintext_authenticates_its_token_and_records_its_use(integration_user):
    # Given
    expires_at = timezone.now() + timedelta(days=30)
    token, plaintext = api_token_create(
        user=integration_user, name="sync", scopes=["cases:read"], expires_at=expires_at
    )
    # When
    before = timezone.now()
    found = api_token_authenticate(raw=plaintext)
    after = timezone.now()
    # Then
    assert found.pk == token.pk
    assert found.user == integration_user
    token.refresh_from_db()
    assert before <= token.last_used_at <= after


@pytest.mark.django_db
def test_use_is_recorded_again_once_a_minute_has_passed(integration_user):
    # Given: a token last used two minutes ago
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=two_minutes_ago)
    # When
    before = timezone.now()
    api_token_authenticate(raw=plaintext)
    # Then
    token.refresh_from_db()
    assert token.last_used_at >= before


@pytest.mark.django_db
def test_use_within_the_minute_is_not_written_again(integration_user):
    # Given: a token used 10 seconds ago
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    recently = timezone.now() - timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)
    # When
    api_token_authenticate(raw=plaintext)
    # Then: no write on every request
    token.refresh_from_db()
    assert token.last_used_at == recently


@pytest.mark.django_db
def test_a_wrong_secret_with_a_right_prefix_is_refused(integration_user):
    # Given
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    assert not plaintext.endswith("x" * 43)
    # When
    refusal = _refusal(f"cea_{token.prefix}_{'x' * 43}")
    # Then
    assert (refusal.message, refusal.code, refusal.status_code) == (REFUSED, "invalid_token", 403)
    token.refresh_from_db()
    assert token.last_used_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    ["", "cea", "cea_abc", "xyz_0123456789ab_secret", "cea_000000000000_secret", "Bearer cea_x_y"],
)
def test_malformed_and_unknown_tokens_are_refused(integration_user, raw):
    api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    refusal = _refusal(raw)
    assert (refusal.message, refusal.code) == (REFUSED, "invalid_token")


@pytest.mark.django_db
def test_expired_revoked_and_inactive_user_tokens_are_refused_with_one_message(integration_user):
    # Given: three tokens, each unusable for a different reason
    expired, expired_plaintext = api_token_create(
        user=integration_user, name="expired", scopes=["cases:read"], expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_plaintext = api_token_create(user=integration_user, name="revoked", scopes=["cases:read"])
    api_token_revoke(token=revoked)
    departed = UserFactory(username="old-sync", role="integration")
    _, departed_plaintext = api_token_create(user=departed, name="departed", scopes=["cases:read"])
    User.objects.filter(pk=departed.pk).update(is_active=False)
    # When
    refusals = [_refusal(raw) for raw in (expired_plaintext, revoked_plaintext, departed_plaintext)]
    # Then: the caller cannot tell which it was
    assert {(r.message, r.code, r.status_code) for r in refusals} == {(REFUSED, "invalid_token", 403)}
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 0


# --- Revoking -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_revoke_stamps_the_time_once(integration_user):
    # Given
    token, plaintext = api_token_create(user=integration_user, name="sync", scopes=["cases:read"])
    assert api_token_authenticate(raw=plaintext).pk == token.pk
    # When
    before = timezone.now()
    api_token_revoke(token=token)
    token.refresh_from_db()
    first_revocation = token.revoked_at
    api_token_revoke(token=token)
    # Then
    token.refresh_from_db()
    assert first_revocation >= before
    assert token.revoked_at == first_revocation
    assert token.is_active is False
    assert _refusal(plaintext).message == REFUSED
