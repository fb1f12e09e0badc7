"""Vonage's SMS API: replies out, inbound SMS and delivery receipts (DLRs) in, signed with ``sig``.

- Sending: ``POST {CEA_VONAGE_API_URL}/sms/json``, form-encoded ``api_key``, ``api_secret``,
  ``from`` (the source's sender id: a number without ``+``, or an alphanumeric sender),
  ``to`` (E.164 without ``+``), ``text``, ``type=unicode`` for a UCS-2 text, ``client-ref`` (CEA's
  message id, which comes back on the DLR) and ``callback`` (where the DLR goes). The answer lists
  one entry per segment; ``status`` ``"0"`` is success, ``"1"`` (throttled) and ``"5"`` (internal
  error) are worth trying again, anything else is a refusal (its ``error-text`` is the reason).
  Credentials: the source's ``API_KEY`` and ``API_SECRET``.
- Inbound SMS: ``/api/v1/engagement/providers/vonage/<source>/inbound/`` (``msisdn``, ``to``,
  ``messageId``, ``text`` …). Delivery receipts: ``/api/v1/engagement/providers/vonage/<source>/receipts/``
  (``messageId``, ``status``, ``err-code``, ``client-ref`` …). Both as POST, form-encoded or JSON
  (set the account's webhook method to POST or POST-JSON); CEA answers 204.
- Signatures (Vonage's "Signing messages"): every webhook carries ``sig`` and ``timestamp``. The
  parameters other than ``sig``, sorted by name, are joined as ``&name=value`` with ``&`` and ``=``
  in values replaced by ``_``; ``sig`` is the MD5 of that string followed by the signature secret
  (``md5hash``, Vonage's default), or its HMAC keyed with the secret (``md5``, ``sha1``,
  ``sha256``, ``sha512``), in hex. The source's ``SIGNATURE_SECRET`` and ``SIGNATURE_METHOD``
  (default ``md5hash``); a ``timestamp`` further than ``CEA_WEBHOOK_TOLERANCE_SECONDS`` from now
  is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.urls import reverse

from engagement.adapters.credentials import credential
from engagement.adapters.models import Provider, SendStatus, WebhookSource
from engagement.adapters.outbox import OutboundText, SendError
from engagement.adapters.provider_http import provider_post
from engagement.adapters.sms_rules import UCS2, sms_encoding
from engagement.adapters.webhooks import SignatureRefused
from engagement.adapters.webhooks_providers import provider_source

RETRYABLE = {"1": "Throttled", "5": "Internal error"}
METHODS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

# DLR ``status`` → CEA's; None (``unknown``: the carrier said nothing) changes nothing.
STATUSES: dict[str, str | None] = {
    "accepted": SendStatus.SENT,
    "buffered": SendStatus.SENT,
    "delivered": SendStatus.DELIVERED,
    "expired": SendStatus.FAILED,
    "failed": SendStatus.FAILED,
    "rejected": SendStatus.FAILED,
    "unknown": None,
}
# The DLR's ``err-code`` (Vonage's SMS API reference, "Delivery receipt error codes").
ERRORS = {
    "1": "Unknown",
    "2": "Absent subscriber (temporary)",
    "3": "Absent subscriber (permanent)",
    "4": "Call barred by the user",
    "5": "Portability error",
    "6": "Anti-spam rejection",
    "7": "Handset busy",
    "8": "Network error",
    "9": "Illegal number",
    "10": "Illegal message",
    "11": "Unroutable",
    "12": "Destination unreachable",
    "13": "Subscriber age restriction",
    "14": "Number blocked by the carrier",
    "15": "Prepaid insufficient funds",
    "99": "General error",
}


def _bare(number: str) -> str:
    return number[1:] if number.startswith("+") and number[1:].isdigit() else number


class VonageAdapter:
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        data = {
            "api_key": credential(source.name, "API_KEY"),
            "api_secret": credential(source.name, "API_SECRET"),
            "from": _bare(message.sender),
            "to": _bare(message.to),
            "text": message.body,
            "client-ref": str(message.message_id),
            "callback": message.status_callback,
        }
        if sms_encoding(message.body) == UCS2:
            data["type"] = "unicode"
        response = provider_post("Vonage", f"{settings.CEA_VONAGE_API_URL}/sms/json", data=data)
        try:
            parts = response.json().get("messages") or []
        except (ValueError, AttributeError):
            parts = []
        if not parts or not all(isinstance(part, dict) for part in parts):
            raise SendError("Vonage's answer lists no messages.", retryable=False)
        accepted = sum(1 for part in parts if str(part.get("status", "")) == "0")
        for part in parts:
            status = str(part.get("status", ""))
            if status != "0":
                text = part.get("error-text") or RETRYABLE.get(status, "refused")
                if accepted:
                    # Some segments went: sending again would repeat them to the customer.
                    raise SendError(
                        f"Vonage took {accepted} of {len(parts)} segments, then status {status}: {text}; "
                        "not sent again, so the customer does not get the first part twice",
                        retryable=False,
                        code=status,
                    )
                raise SendError(f"Vonage status {status}: {text}", retryable=status in RETRYABLE, code=status)
        # A long text is several segments, each with its id; the DLRs find the message by client-ref.
        return str(parts[0].get("message-id", ""))

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        path = reverse("engagement-api:vonage-receipts", kwargs={"source_name": source.name})
        return f"{settings.CEA_PUBLIC_URL}{path}"


def vonage_signature(*, params: dict[str, str], secret: str, method: str = "md5hash") -> str:
    """The ``sig`` Vonage computes over ``params`` (``sig`` itself left out)."""
    signed = "".join(
        f"&{name}={str(value).replace('&', '_').replace('=', '_')}"
        for name, value in sorted(params.items())
        if name != "sig"
    )
    if method == "md5hash":
        return hashlib.md5((signed + secret).encode()).hexdigest()  # noqa: S324 (Vonage's documented scheme)
    return hmac.new(secret.encode(), signed.encode(), METHODS[method]).hexdigest()


def vonage_source_verify(*, name: str, params: dict[str, str]) -> WebhookSource:
    """The active Vonage source ``name`` if ``params`` carry its signature, made within the tolerance.

    ``NotFound`` (404) for no such source; ``SignatureRefused`` (401) for a missing, expired or wrong
    ``sig``; ``MissingCredential`` (409) when the signature secret is not configured.
    """
    source = provider_source(name=name, provider=Provider.VONAGE)
    secret = credential(source.name, "SIGNATURE_SECRET")
    method = credential(source.name, "SIGNATURE_METHOD", required=False).lower() or "md5hash"
    if method != "md5hash" and method not in METHODS:
        raise SignatureRefused(f"Unknown signature method {method!r} for {source.name!r}.", code="bad_signature")
    signature, stamp = params.get("sig", ""), params.get("timestamp", "")
    if not signature or not stamp:
        raise SignatureRefused("The request is not signed: sig or timestamp missing.", code="missing_signature")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise SignatureRefused("timestamp must be the Unix time in seconds.", code="malformed_signature")
    tolerance = settings.CEA_WEBHOOK_TOLERANCE_SECONDS
    if abs(time.time() - int(stamp)) > tolerance:
        raise SignatureRefused(f"The timestamp is more than {tolerance} seconds from now.", code="expired_signature")
    expected = vonage_signature(params=params, secret=secret, method=method)
    if not hmac.compare_digest(expected.lower().encode(), signature.strip().lower().encode()):
        raise SignatureRefused("sig does not match the parameters.", code="bad_signature")
    return source


def vonage_status(status: str) -> str | None:
    return STATUSES.get(status.strip().lower())


def vonage_error(code: str) -> str:
    code = code.strip()
    if not code or code == "0":
        return ""
    return f"Vonage error {code}: {ERRORS.get(code, 'see the SMS API delivery receipt error codes')}"
