"""One-time passcodes: made by ``secrets``, kept only as a salted, peppered scrypt hash.

A six-digit code has a million values, so no hash keeps a stolen row safe for ever; what protects
a code is that it lives minutes, works once and allows a handful of guesses. The hash makes a
stolen row useless within that life:

- the code is first HMAC-ed with a key derived from ``SECRET_KEY`` and the challenge id, so a
  copy of the database alone cannot be brute-forced at all, and a hash cannot be moved to
  another challenge;
- then scrypt (n=2**14, r=8: 16 MiB and tens of milliseconds per try, memory-hard so graphics
  cards gain little) with a random salt, so even with the key a million tries cost CPU-hours,
  far beyond the code's life.

Django's ``make_password`` was not used: its default PBKDF2 (over a million iterations) is
tuned for passwords and costs several times more per check, and it follows
``PASSWORD_HASHERS``, which the test suite swaps for MD5 — codes would then be hashed in tests
unlike in production. The parameters are written into each hash, so they can change later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.utils.crypto import salted_hmac

CODE_DIGITS = 6
_ALGORITHM = "scrypt"
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32


def new_code() -> str:
    """A uniformly random code of six digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _peppered(challenge_id: int, code: str) -> bytes:
    return salted_hmac("engagement.idv.codes", f"{challenge_id}:{code}", algorithm="sha256").digest()


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=64 * 1024 * 1024)


def code_hash(challenge_id: int, code: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``code`` for the challenge ``challenge_id``."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(_peppered(challenge_id, code), salt, _N, _R, _P)
    encode = base64.b64encode
    return f"{_ALGORITHM}${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


# Compared against when there is no code to check, so that "nothing to compare" costs what a
# wrong code costs (a timing difference would tell who has a code pending).
_DUMMY_HASH = "$".join(
    [
        _ALGORITHM,
        str(_N),
        str(_R),
        str(_P),
        base64.b64encode(bytes(_SALT_BYTES)).decode(),
        base64.b64encode(bytes(_KEY_BYTES)).decode(),
    ]
)


def code_matches(challenge_id: int | None, code: str, stored: str | None) -> bool:
    """Whether ``code`` is the one hashed in ``stored``; does the same work when ``stored`` is missing."""
    real = bool(stored) and challenge_id is not None
    try:
        algorithm, n, r, p, salt, digest = (stored if real else _DUMMY_HASH).split("$")
        if algorithm != _ALGORITHM:
            raise ValueError(algorithm)
        expected = base64.b64decode(digest)
        actual = _scrypt(_peppered(challenge_id or 0, code), base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected) and real
