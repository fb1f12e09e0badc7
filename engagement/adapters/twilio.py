"""Twilio's Messages API: replies out, inbound SMS and status callbacks in (signed with X-Twilio-Signature).

- Sending: ``POST {CEA_TWILIO_API_URL}/2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded
  ``To``, ``From`` (or ``MessagingServiceSid`` when the source's sender id is one, ``MG…``), ``Body``,
  ``StatusCallback`` and, for a reply with files (MMS), one ``MediaUrl`` per file (the signed links
  of ``media.py``; up to 10, 5 MB in all: ``media_rules``), with HTTP basic auth
  ``AccountSid:AuthToken``; a 201 carries the message's ``sid``. The credentials are the source's
  ``ACCOUNT_SID`` and ``AUTH_TOKEN`` (``credentials.py``: ``CEA_SOURCE_<NAME>_ACCOUNT_SID`` …).
- Inbound SMS: Twilio POSTs the number's "A message comes in" webhook, form-encoded (``MessageSid``,
  ``From``, ``To``, ``Body`` …), to ``/api/v1/engagement/providers/twilio/<source>/sms/``; CEA
  answers an empty TwiML ``<Response/>`` (the reply is the agent's, later). An MMS adds ``NumMedia``
  and ``MediaUrl0..N`` / ``MediaContentType0..N``: CEA fetches each (``twilio_inbound_media``, basic
  auth with the source's credentials, only from ``CEA_TWILIO_API_URL``) and keeps those that pass the
  files' checks (``engagement.conversations.files``) as the message's attachments; the others are
  listed in its payload's ``media_refused`` with why.
- Status callbacks: to ``/api/v1/engagement/providers/twilio/<source>/status/?message=<id>`` (the
  ``StatusCallback`` CEA gives each message), ``MessageSid``, ``MessageStatus`` and, when it failed,
  ``ErrorCode``.

Both webhooks are checked against ``X-Twilio-Signature`` (``signatures.twilio_signature_valid``)
keyed with the source's auth token, over ``CEA_PUBLIC_URL`` + the request's path and query: the
URL configured at Twilio must start with ``CEA_PUBLIC_URL``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from cea.common.errors import NotFound
from engagement.adapters.credentials import credential
from engagement.adapters.models import Provider, SendStatus, WebhookSource
from engagement.adapters.outbox import OutboundText, SendError
from engagement.adapters.provider_files import provider_file_fetch
from engagement.adapters.provider_http import DownloadRefused, provider_post
from engagement.adapters.signatures import twilio_signature_valid
from engagement.adapters.webhooks import SignatureRefused
from engagement.adapters.webhooks_providers import provider_source
from engagement.conversations.files import CheckedFile

# Twilio sends at most 10 media with one message.
MAX_INBOUND_MEDIA = 10

# Twilio's MessageStatus values → CEA's; None: an intermediate state that changes nothing.
STATUSES: dict[str, str | None] = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": SendStatus.SENT,
    "delivered": SendStatus.DELIVERED,
    "read": SendStatus.READ,
    "undelivered": SendStatus.FAILED,
    "failed": SendStatus.FAILED,
    "canceled": SendStatus.FAILED,
}

# The error codes Twilio's status callbacks carry most often (Twilio's error dictionary, 30001–30010).
ERRORS = {
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
    "30009": "Missing segment",
    "30010": "Message price exceeds max price",
}


class TwilioAdapter:
    def send(self, source: WebhookSource, message: OutboundText) -> str:
        account = credential(source.name, "ACCOUNT_SID")
        token = credential(source.name, "AUTH_TOKEN")
        data: dict[str, str | list[str]] = {"To": message.to, "StatusCallback": message.status_callback}
        if message.body or not message.media:
            data["Body"] = message.body
        if message.media:
            # MMS: Twilio fetches each URL (CEA's signed, expiring link) when it sends the message.
            data["MediaUrl"] = [media.url for media in message.media]
        if message.sender.startswith("MG"):
            data["MessagingServiceSid"] = message.sender
        else:
            data["From"] = message.sender
        url = f"{settings.CEA_TWILIO_API_URL}/2010-04-01/Accounts/{account}/Messages.json"
        response = provider_post("Twilio", url, data=data, auth=(account, token))
        try:
            sid = response.json().get("sid")
        except (ValueError, AttributeError):
            sid = None
        if not isinstance(sid, str) or not sid:
            raise SendError("Twilio accepted the message but its answer has no sid.", retryable=False)
        return sid

    def status_callback(self, source: WebhookSource, message_id: int) -> str:
        path = reverse("engagement-api:twilio-status", kwargs={"source_name": source.name})
        return f"{settings.CEA_PUBLIC_URL}{path}?message={message_id}"


def twilio_source_verify(
    *, name: str, url: str, params: list[tuple[str, str]], signature: str | None, channel: str = ""
) -> WebhookSource:
    """The active Twilio source ``name`` (of ``channel``, when given) if the request to ``url`` carries
    its ``X-Twilio-Signature`` (messages and calls alike).

    ``NotFound`` (404) for no such source; ``SignatureRefused`` (401) for a missing or wrong
    signature; ``MissingCredential`` (409) when the source's auth token is not configured.
    """
    source = provider_source(name=name, provider=Provider.TWILIO)
    if channel and source.channel != channel:
        raise NotFound(f"No active Twilio {channel} source named {name!r}.", code="unknown_source")
    token = credential(source.name, "AUTH_TOKEN")
    if not signature:
        raise SignatureRefused("The request is not signed: X-Twilio-Signature missing.", code="missing_signature")
    if not twilio_signature_valid(auth_token=token, url=url, params=params, signature=signature):
        raise SignatureRefused("X-Twilio-Signature does not match the URL and parameters.", code="bad_signature")
    return source


def twilio_status(status: str) -> str | None:
    """CEA's status for Twilio's ``MessageStatus``; ``None`` for an intermediate or unknown one."""
    return STATUSES.get(status.strip().lower())


def twilio_error(code: str) -> str:
    code = code.strip()
    return f"Twilio error {code}: {ERRORS.get(code, 'see twilio.com/docs/api/errors/' + code)}" if code else ""


def twilio_media_hosts() -> list[str]:
    """The hosts an MMS's media is fetched from: ``CEA_TWILIO_API_URL``'s, and those its media
    redirects to (``CEA_TWILIO_MEDIA_HOSTS``: Twilio answers a media URL with a redirect to its
    media store on Amazon S3)."""
    return [(urlsplit(settings.CEA_TWILIO_API_URL).hostname or "").lower(), *settings.CEA_TWILIO_MEDIA_HOSTS]


def twilio_inbound_media(*, source: WebhookSource, params: dict[str, str]) -> tuple[list[CheckedFile], list[dict]]:
    """The files of an inbound MMS (``NumMedia``, ``MediaUrl<i>``), fetched with the source's credentials:
    those that pass the files' checks, and the others as ``{"index", "content_type", "code", "reason"}``.

    Only URLs under ``CEA_TWILIO_API_URL`` are fetched (Twilio's media resources), so a webhook never
    makes CEA fetch anything else. Call it outside a transaction: it waits on Twilio.
    """
    count = params.get("NumMedia", "0").strip()
    if not (count.isascii() and count.isdigit()) or int(count) == 0:
        return [], []
    files: list[CheckedFile] = []
    refused: list[dict] = []
    auth = (credential(source.name, "ACCOUNT_SID"), credential(source.name, "AUTH_TOKEN"))
    limit = settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES
    hosts = twilio_media_hosts()
    for index in range(min(int(count), MAX_INBOUND_MEDIA)):
        url = params.get(f"MediaUrl{index}", "")
        claimed = params.get(f"MediaContentType{index}", "")[:100]

        def refuse(code: str, reason: str, index: int = index, claimed: str = claimed) -> None:
            refused.append({"index": index, "content_type": claimed, "code": code, "reason": reason})

        if not url.startswith(f"{settings.CEA_TWILIO_API_URL}/"):
            refuse("not_twilio", "The media URL is not Twilio's.")
            continue
        name = url.rstrip("/").rsplit("/", 1)[-1][:60] or f"media-{index}"
        try:
            files.append(provider_file_fetch(url, auth=auth, max_bytes=limit, hosts=hosts, filename_hint=name))
        except DownloadRefused as error:
            refuse(error.code, error.reason)
    return files, refused
