"""Normalisation of channel identifiers, so that one identifier has one spelling."""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from cea.common.errors import ValidationFailed
from records.identities.models import IdentityKind

_SOCIAL_PLATFORMS = {
    "twitter",
    "x",
    "facebook",
    "instagram",
    "whatsapp",
    "telegram",
    "linkedin",
    "tiktok",
    "wechat",
    "line",
}
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9._:\-]+$")


def _invalid(kind: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"value": message}, code=f"invalid_{kind}")


def normalise_phone(raw: str, region: str | None = None) -> str:
    """E.164 (``+447700900123``); a number without ``+`` is read in ``region`` (default setting)."""
    try:
        number = phonenumbers.parse(raw, region or settings.CEA_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise _invalid("phone", f"{raw!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid("phone", f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    try:
        validate_email(value)
    except DjangoValidationError:
        raise _invalid("email", f"{raw!r} is not an email address.") from None
    return value


def normalise_social(raw: str) -> str:
    """``platform:handle`` in lower case without a leading ``@``, e.g. ``twitter:alice_b``."""
    platform, sep, handle = raw.strip().partition(":")
    platform, handle = platform.strip().lower(), handle.strip().lstrip("@").lower()
    if not sep or not handle:
        raise _invalid("social", "A social handle is written platform:handle, e.g. twitter:@alice.")
    if platform not in _SOCIAL_PLATFORMS:
        raise _invalid(
            "social", f"Unknown social platform {platform!r}; known: {', '.join(sorted(_SOCIAL_PLATFORMS))}."
        )
    if not _TOKEN_CHARS.match(handle):
        raise _invalid("social", f"{handle!r} is not a valid handle.")
    return f"{platform}:{handle}"


def normalise_token(raw: str, kind: str) -> str:
    """Device ids and account numbers: trimmed; account numbers upper-cased without spaces or dashes."""
    value = raw.strip()
    if kind == IdentityKind.ACCOUNT:
        value = re.sub(r"[\s\-]", "", value).upper()
    if not value or not _TOKEN_CHARS.match(value) or len(value) > 200:
        raise _invalid(kind, f"{raw!r} is not a valid {IdentityKind(kind).label.lower()}.")
    return value


def hash_national_id(raw: str) -> tuple[str, str]:
    """(HMAC-SHA256 digest, masked label). The clear value is never stored."""
    cleaned = re.sub(r"[\s\-]", "", raw).upper()
    if not cleaned or not cleaned.isalnum() or len(cleaned) > 40:
        raise _invalid("national_id", "A national id is letters and digits.")
    digest = hmac.new(settings.IDENTITY_HASH_KEY.encode(), cleaned.encode(), hashlib.sha256).hexdigest()
    return digest, f"•••{cleaned[-3:]}"


_KINDS = frozenset(IdentityKind.values)  # made once: bulk loads normalise millions of identifiers


def normalise(kind: str, raw: str) -> tuple[str, str]:
    """(stored value, display label) for an identifier of ``kind``; ``ValidationFailed`` if malformed."""
    if kind not in _KINDS:
        raise ValidationFailed(
            f"Unknown identity kind {kind!r}.", fields={"kind": f"Choose one of {', '.join(IdentityKind.values)}."}
        )
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed("An identifier needs a value.", fields={"value": "This field is required."})
    if kind == IdentityKind.PHONE:
        value = normalise_phone(raw)
    elif kind == IdentityKind.EMAIL:
        value = normalise_email(raw)
    elif kind == IdentityKind.SOCIAL:
        value = normalise_social(raw)
    elif kind == IdentityKind.NATIONAL_ID:
        return hash_national_id(raw)
    else:
        value = normalise_token(raw, kind)
    return value, value
