"""Web chat through the one funnel: site keys and origins, visitor tokens, conversations, messages.

A visitor is a random id kept by the widget in the browser's localStorage as a *signed* token
(``django.core.signing``, salted with the site key), so a visitor cannot forge another's token
nor reuse one on another site. The visitor's conversation is a ``chat`` conversation with
``external_id = "webchat:<visitor>:<n>"`` (n counts the visitor's chats, so a new chat after one
ended gets a new conversation), and each message's ``external_id`` is
``"<visitor>:<client id>"``: a message the widget resends after a network drop is stored once.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from celery import signature
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from cea.accounts.models import Team
from cea.common.channels import Channel, Direction
from cea.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from cea.common.live import push_on_commit
from cea.common.queries import one_or_none
from cea.common.tasks import send_on_commit
from engagement.backoffice.selectors import register_callback_offer_origin_check
from engagement.context.models import ContextScope
from engagement.context.services import context_alias
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.services import conversation_group, conversation_start, message_add
from engagement.hooks import customer_message_hooks_deferred, customer_message_hooks_run
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.selfservice.selectors import selfservice_messages_unanswered
from engagement.selfservice.services import selfservice_answer_pending
from engagement.webchat.limits import webchat_connection_admit, webchat_connection_release, webchat_conversation_admit
from engagement.webchat.models import SiteKey
from engagement.webchat.selectors import site_key_active, visitor_conversation_current, visitor_conversation_latest

logger = logging.getLogger("engagement.webchat")

VISITOR_SALT = "engagement.webchat.visitor"
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_BODY_CHARS = 2000
MAX_PAGE_CHARS = 300
DEMO_SITE_KEY = "site_demo_shop"
ANSWER_TASK = "engagement.webchat.answer"  # engagement/webchat/tasks.py
ANSWER_LATE_SECONDS = 30


# --- Origins --------------------------------------------------------------------------------


def origin_normalise(*, value: str) -> str | None:
    """``value`` as a browser writes an Origin: ``scheme://host[:port]``, lower case, no default port.

    ``None`` when ``value`` is not an http(s) origin (a path, credentials, ``null`` …).
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default_port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default_port else "")


def site_origin_allowed(*, site: SiteKey, origin: str) -> bool:
    """Whether ``origin`` is exactly (scheme, host and port) one of the site key's allowed origins."""
    wanted = origin_normalise(value=origin or "")
    return wanted is not None and wanted in {origin_normalise(value=allowed) for allowed in site.allowed_origins}


def webchat_origin_allowed(*, site_key: str, origin: str) -> bool:
    """Whether the active site key ``site_key`` allows ``origin`` (the widget's cross-origin reads)."""
    site = site_key_active(key=site_key) if site_key else None
    return site is not None and site_origin_allowed(site=site, origin=origin)


def register() -> None:
    """The widget books an out-of-hours callback from its site's origins (engagement.backoffice)."""
    register_callback_offer_origin_check(webchat_origin_allowed)


# --- Visitors -------------------------------------------------------------------------------


def _signer(site: SiteKey) -> signing.Signer:
    return signing.Signer(salt=f"{VISITOR_SALT}:{site.key}")


def visitor_token_issue(*, site: SiteKey) -> tuple[str, str]:
    """A new visitor: ``(visitor id, signed token)``."""
    visitor = secrets.token_urlsafe(16)
    return visitor, _signer(site).sign(visitor)


def visitor_from_token(*, site: SiteKey, token: str) -> str | None:
    """The visitor id in a token this site issued; ``None`` for a missing, forged or foreign token."""
    if not token or len(token) > 200:
        return None
    try:
        visitor = _signer(site).unsign(token)
    except signing.BadSignature:
        return None
    return visitor if VISITOR_ID.match(visitor) else None


# --- Connections ----------------------------------------------------------------------------


@dataclass
class WebchatSession:
    """What a widget's websocket connection knows once it is let in."""

    site: SiteKey
    origin: str
    page: str
    visitor: str
    token: str
    conversation: Conversation | None
    ip: str  # the client's address (cea.common.client_ip), which the limits count
    connection: str  # the connection's place in the limits (its channel name)


def _page_address(page: str) -> str:
    """The page the widget runs on, for the agent's context: an http(s) address, shortened; else nothing.

    Only scheme, host, port and path are kept: a query string or fragment (search terms, emails,
    national ids, tokens in shops' addresses) and any user name or password never reach records.
    """
    page = page[: MAX_PAGE_CHARS * 8]
    if not page.startswith(("http://", "https://")) or any(ord(char) < 32 for char in page):
        return ""
    try:
        parts = urlsplit(page)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        return ""
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path or '/'}"[:MAX_PAGE_CHARS]


def webchat_session_open(
    *, site_key: str, origin: str, ip: str, connection: str, token: str = "", page: str = ""
) -> WebchatSession:
    """Let a widget in: the site key is active, ``origin`` is one of its allowed origins, and
    neither the client's address ``ip`` nor the site key has all its connections open.

    The visitor is the one in ``token`` when this site signed it, else a new visitor. Their
    current conversation (open, or ended within the last hour so that a reconnecting widget
    still sees the end) is resumed; none is created until the first message.
    Refusals: ``PermissionDenied`` with code ``unknown_site_key`` or ``origin_not_allowed``;
    ``WebchatLimitReached`` (``too_many_connections``). A session let in holds a place until
    ``webchat_session_close``.
    """
    site = one_or_none(SiteKey.objects.select_related("team").filter(key=site_key or "", is_active=True))
    if site is None:
        raise PermissionDenied(_("This site key is unknown or inactive."), code="unknown_site_key")
    if not site_origin_allowed(site=site, origin=origin):
        raise PermissionDenied(_("This website may not use this chat."), code="origin_not_allowed")
    webchat_connection_admit(site_key=site.key, ip=ip, connection=connection)
    visitor = visitor_from_token(site=site, token=token)
    if visitor is None:
        if token:
            logger.info("Web chat: a visitor token of site %s did not verify; issuing a new one", site.key)
        visitor, token = visitor_token_issue(site=site)
    return WebchatSession(
        site=site,
        origin=origin_normalise(value=origin) or "",
        page=_page_address(page),
        visitor=visitor,
        token=token,
        conversation=visitor_conversation_current(visitor=visitor),
        ip=ip,
        connection=connection,
    )


def webchat_session_close(*, session: WebchatSession) -> None:
    """The widget's connection closed: give back its place in the limits."""
    webchat_connection_release(site_key=session.site.key, ip=session.ip, connection=session.connection)


# --- Conversations and messages -------------------------------------------------------------


def webchat_conversation_open(*, session: WebchatSession) -> Conversation:
    """The visitor's open conversation, or a new one for their next chat; idempotent.

    Two tabs of one visitor opening at once count the same ``n`` and so get one conversation.
    A new one counts against the new conversations a minute of the client's address and of the
    site key: ``WebchatLimitReached`` (``too_many_conversations``) beyond them.
    """
    latest = visitor_conversation_latest(visitor=session.visitor)
    if latest is not None and latest.status != ConversationStatus.ENDED:
        return latest
    webchat_conversation_admit(site_key=session.site.key, ip=session.ip)
    number = Conversation.objects.filter(channel=Channel.CHAT, visitor=session.visitor).count() + 1
    site = session.site
    conversation, created = conversation_start(
        channel=Channel.CHAT,
        external_id=f"webchat:{session.visitor}:{number}",
        visitor=session.visitor,
        queue=site.queue,
        team=site.team,
        subject=f"Web chat on {site.name}",
        source="webchat",
        context={
            "webchat_site": site.name,
            "webchat_origin": session.origin,
            **({"webchat_page": session.page} if session.page else {}),
        },
    )
    if created:
        context_alias(alias=f"webchat:{session.visitor}", scope=ContextScope.CONVERSATION, context_id=conversation.pk)
    return conversation


def webchat_body_check(*, body: object) -> str:
    """The message text to store; ``ValidationFailed`` codes ``empty_body``, ``body_too_long``, ``invalid_body``."""
    if not isinstance(body, str):
        raise ValidationFailed("A message body is text.", code="invalid_body")
    body = body.strip()
    if not body:
        raise ValidationFailed(_("The message is empty."), code="empty_body")
    if len(body) > MAX_BODY_CHARS:
        raise ValidationFailed(
            _("The message is %(length)s characters; the limit is %(limit)s.")
            % {"length": len(body), "limit": MAX_BODY_CHARS},
            code="body_too_long",
        )
    if "\x00" in body:
        raise ValidationFailed(_("The message contains a null character."), code="invalid_body")
    return body


def webchat_message_check(*, client_id: object, body: object) -> str:
    """The text to store for a widget's message frame, or ``ValidationFailed``.

    Codes: ``invalid_client_id`` and those of ``webchat_body_check``. Checked before anything is
    opened, so that a bad frame never starts a conversation.
    """
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValidationFailed("client_id is 1-64 letters, digits, '-' or '_'.", code="invalid_client_id")
    return webchat_body_check(body=body)


def webchat_message_receive(
    *, session: WebchatSession, conversation_id: int, client_id: str, body: object, defer_hooks: bool = False
) -> tuple[Message, bool]:
    """Store a visitor's message once per ``client_id``; returns ``(message, created)``.

    With ``defer_hooks`` the customer-message hooks (insights' sentiment) do not run at commit: the
    caller runs them after acknowledging the message, with ``webchat_after_customer_message(...,
    run_hooks=created)``, so the visitor's ack waits only for the message to be stored.
    Refusals: ``ValidationFailed`` (see ``webchat_message_check``), ``Conflict``
    (``conversation_ended``).
    """
    text = webchat_message_check(client_id=client_id, body=body)
    conversation = Conversation.objects.get(pk=conversation_id, visitor=session.visitor)
    with customer_message_hooks_deferred() if defer_hooks else contextlib.nullcontext():
        return message_add(
            conversation=conversation,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            body=text,
            external_id=f"{session.visitor}:{client_id}",
        )


def webchat_after_customer_message(*, message: Message, run_hooks: bool = False) -> None:
    """Have a worker answer the visitor's message (after the ack): ``engagement.webchat.answer``.

    Called after the message is committed, also for a message the widget sent again: the answer
    is given once, so a turn cut short by a dropped connection is completed, not repeated. The
    web process only sends the task, so its CPU stays with acknowledging and pushing messages;
    the self-service turn and the customer-message hooks run on the workers. When the broker
    cannot take the task (Redis restarting), the answer is given here instead: late, not lost.
    ``run_hooks``: the task first runs the customer-message hooks that
    ``webchat_message_receive(defer_hooks=True)`` left for after the ack.
    """

    def send() -> None:
        try:
            signature(ANSWER_TASK).delay(message.pk, run_hooks)
        except KombuOperationalError:
            logger.warning("The broker refused web chat message %s's answer task; answering it here", message.pk)
            webchat_answer(message_id=message.pk, run_hooks=run_hooks)

    transaction.on_commit(send)


def webchat_answer(*, message_id: int, run_hooks: bool = False) -> int:
    """Answer a visitor's message while their conversation is in self-service; how many turns ran.

    Every earlier message not answered yet is answered first, in order
    (``selfservice_answer_pending``). Self-service failing must not strand the customer: the
    conversation then goes to the agents' queue and the failure is logged. ``run_hooks``: first
    run the customer-message hooks of this message (sentiment before self-service, as when they
    run at commit).
    """
    message = one_or_none(Message.objects.filter(pk=message_id, author_kind=AuthorKind.CUSTOMER))
    if message is None:
        return 0
    if run_hooks:
        customer_message_hooks_run(message_id=message.pk)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    if conversation.status != ConversationStatus.SELF_SERVICE:
        return 0
    try:
        return len(selfservice_answer_pending(conversation=conversation, up_to_message_id=message.pk))
    except Exception:
        logger.exception("Self-service failed on conversation %s; handing it to an agent", conversation.pk)
        try:
            conversation_escalate(conversation=conversation, reason="self-service could not answer")
        except ApplicationError:
            logger.warning("Conversation %s could not be escalated after a self-service failure", conversation.pk)
        return 0


def webchat_answers_sweep(*, now: datetime | None = None) -> int:
    """Send the answer task again for web chat messages self-service has not answered (the beat,
    every minute): a task lost with a worker killed mid-turn or a broker restarted without its
    queue. Only messages stored in the last hour and at least ``ANSWER_LATE_SECONDS`` ago (a task
    sent moments ago is still on its way); how many were sent."""
    now = now or timezone.now()
    waiting = selfservice_messages_unanswered(
        channel=Channel.CHAT,
        sent_after=now - timedelta(hours=1),
        sent_before=now - timedelta(seconds=ANSWER_LATE_SECONDS),
    )
    for message_id in waiting:
        logger.warning("Web chat message %s was not answered; sending its answer task again", message_id)
        send_on_commit(signature(ANSWER_TASK), message_id, False)
    return len(waiting)


def webchat_conversation_end(*, session: WebchatSession, conversation_id: int) -> None:
    """The visitor ends their chat (recorded in records like any end); ending twice is harmless."""
    conversation = Conversation.objects.filter(pk=conversation_id, visitor=session.visitor).first()
    if conversation is None:
        raise NotFound(_("There is no chat to end."), code="no_conversation")
    conversation_end(actor=None, conversation=conversation)


def webchat_survey_offer(*, interaction_id: int, survey: dict[str, object]) -> bool:
    """Offer the visitor of the chat recorded as ``interaction_id`` a survey, after commit.

    ``survey`` is what the widget shows and where it answers (``{"kind", "question", "scale",
    "answer_url"}``: insights' one-time survey link, so engagement need not know surveys). ``False``
    when the interaction is not a web chat's.
    """
    conversation = Conversation.objects.filter(interaction_id=interaction_id, channel=Channel.CHAT).first()
    if conversation is None:
        return False
    push_on_commit(
        conversation_group(conversation_id=conversation.pk),
        {"type": "conversation.survey", "conversation": conversation.pk, "survey": survey},
    )
    return True


# --- The demo site --------------------------------------------------------------------------


def demo_site_ensure(
    *, origins: list[str], team: Team | None = None, queue: str = "web-chat"
) -> tuple[SiteKey, bool, list[str]]:
    """The demo shop's site key, created once; ``origins`` are added to its allowed origins.

    Origins an administrator added are kept. Returns ``(site key, created, origins added)``.
    """
    wanted = []
    for origin in origins:
        normalised = origin_normalise(value=origin)
        if normalised is None:
            raise ValidationFailed(f"{origin!r} is not an origin (scheme://host[:port]).", code="invalid_origin")
        if normalised not in wanted:
            wanted.append(normalised)
    with transaction.atomic():
        site, created = SiteKey.objects.select_for_update().get_or_create(
            key=DEMO_SITE_KEY,
            defaults={"name": "Demo shop", "allowed_origins": wanted, "queue": queue, "team": team},
        )
        if created:
            return site, True, wanted
        added = [origin for origin in wanted if origin not in site.allowed_origins]
        if added:
            site.allowed_origins = [*site.allowed_origins, *added]
            site.save(update_fields=["allowed_origins", "updated_at"])
    return site, False, added
