"""Where the layers above engagement plug in, without engagement importing them.

Imports go one way (insights → engagement), so engagement cannot call insights by name. An app above
registers callables here in its ``AppConfig.ready()``; engagement calls whatever is registered at
these points (nothing registered: nothing happens). Each list is filled once at start-up.

Conversations (insights' sentiment and compliance checks):

- ``register_message_scorer``: called inline by ``message_add`` for each customer message, before it is
  saved, so the saved row and the pushed message JSON already carry the score. It must be cheap and
  must not write: VADER scores a short message in ~0.05 ms (docs/sentiment.md). It returns a ``MessageScore``.
- ``register_customer_message_hook``: called with the message's id once the transaction that added a
  customer message commits (the running conversation sentiment, a strongly negative turn's actions).
- ``register_interaction_recorded_hook``: called with the interaction's id once the transaction that
  ended a conversation (``conversation_close``) commits (the interaction's sentiment, the customer's
  trend, compliance checks). A hook that raises is logged and does not stop the others: the change
  it follows is already committed.

Surveys:

- ``conversation_closed_register(fn)``: ``fn(*, conversation_id, interaction_id, channel)`` runs
  inside ``conversation_close``'s transaction; it must only schedule work (a task sent on commit).
- ``inbound_interceptor_register(fn)``: ``fn(InboundText) -> Claimed | None`` runs inside the
  inbound delivery's transaction before a conversation is found or opened; the first that returns a
  ``Claimed`` takes the message (an SMS reply "5 great service"), which then opens no conversation.

Presence (workforce management's adherence, which routing must not import):

- ``register_presence_changed_hook(fn)``: ``fn(agent_profile_id)`` runs once the transaction that
  changed an agent's presence (``routing.presence.presence_change_locked``) commits. It must be cheap
  (send a task): it runs in the thread that committed the change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageScore:
    """A customer message's sentiment: ``score`` (VADER compound, -1 … 1) when ``scored``; else ``reason``
    says why not (e.g. "language not scored"). ``language`` is the language the scorer decided on."""

    scored: bool
    score: float | None = None
    language: str = ""
    reason: str = ""


MessageScorer = Callable[[object, str], MessageScore]  # (conversation, body) → score

_scorer: list[MessageScorer] = []
_customer_message_hooks: list[Callable[[int], None]] = []
_interaction_recorded_hooks: list[Callable[[int], None]] = []


def register_message_scorer(scorer: MessageScorer) -> None:
    """Set the one scorer of customer messages (a second registration replaces the first)."""
    _scorer[:] = [scorer]


def register_customer_message_hook(hook: Callable[[int], None]) -> None:
    """Call ``hook(message_id)`` after each customer message's transaction commits (once per hook)."""
    if hook not in _customer_message_hooks:
        _customer_message_hooks.append(hook)


def register_interaction_recorded_hook(hook: Callable[[int], None]) -> None:
    """Call ``hook(interaction_id)`` after a conversation is recorded as an interaction (once per hook)."""
    if hook not in _interaction_recorded_hooks:
        _interaction_recorded_hooks.append(hook)


def message_score(*, conversation: object, body: str) -> MessageScore | None:
    """The registered scorer's verdict on ``body``, or ``None`` without a scorer (or when it fails:
    a message must never be refused because its sentiment could not be read)."""
    if not _scorer:
        return None
    try:
        return _scorer[0](conversation, body)
    except Exception:
        logger.exception("Message scorer failed")
        return None


def _run(hooks: list[Callable[[int], None]], object_id: int) -> None:
    for hook in list(hooks):
        try:
            hook(object_id)
        except Exception:
            logger.exception("Hook %s failed for %s", getattr(hook, "__name__", hook), object_id)


_deferral = threading.local()


def customer_message_added_on_commit(*, message_id: int) -> None:
    """Run the customer-message hooks once the current transaction commits (unless the caller
    runs them itself later: ``customer_message_hooks_deferred``)."""
    if _customer_message_hooks and not getattr(_deferral, "active", False):
        transaction.on_commit(lambda: _run(_customer_message_hooks, message_id))


@contextmanager
def customer_message_hooks_deferred() -> Iterator[None]:
    """In this block (this thread), a customer message's hooks are not run at commit: the caller
    runs them with ``customer_message_hooks_run`` for each message it added, after it has answered
    (the web chat acknowledges the visitor's message first: engagement/webchat/consumers.py)."""
    before = getattr(_deferral, "active", False)
    _deferral.active = True
    try:
        yield
    finally:
        _deferral.active = before


def customer_message_hooks_run(*, message_id: int) -> None:
    """Run the customer-message hooks of a committed message now (see ``customer_message_hooks_deferred``)."""
    _run(_customer_message_hooks, message_id)


def interaction_recorded_on_commit(*, interaction_id: int) -> None:
    """Run the interaction-recorded hooks once the current transaction commits."""
    if _interaction_recorded_hooks:
        transaction.on_commit(lambda: _run(_interaction_recorded_hooks, interaction_id))


# --- Surveys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundText:
    """An inbound text on a channel (SMS): who sent it, to which address, and its provider's id."""

    channel: str
    sender: str
    text: str
    sent_at: datetime
    external_id: str


@dataclass(frozen=True)
class Claimed:
    """An inbound text taken by an interceptor: ``by`` names it (``survey``), ``reference`` its row."""

    by: str
    reference: str


ConversationClosed = Callable[..., None]
InboundInterceptor = Callable[[InboundText], "Claimed | None"]

_closed: list[ConversationClosed] = []
_interceptors: list[InboundInterceptor] = []


def conversation_closed_register(hook: ConversationClosed) -> None:
    if hook not in _closed:
        _closed.append(hook)


def inbound_interceptor_register(interceptor: InboundInterceptor) -> None:
    if interceptor not in _interceptors:
        _interceptors.append(interceptor)


def conversation_closed_notify(*, conversation_id: int, interaction_id: int, channel: str) -> None:
    """Tell every registered hook that a conversation ended and was recorded as ``interaction_id``."""
    for hook in _closed:
        # A hook that fails must not undo the conversation's end: its savepoint is rolled back, it is logged.
        try:
            with transaction.atomic():
                hook(conversation_id=conversation_id, interaction_id=interaction_id, channel=channel)
        except Exception:
            logger.exception(
                "Conversation-closed hook %s failed for %s", getattr(hook, "__name__", hook), interaction_id
            )


def inbound_claim(text: InboundText) -> Claimed | None:
    """The first interceptor's claim on ``text``, or ``None``: then it goes into a conversation as usual."""
    for interceptor in _interceptors:
        claimed = interceptor(text)
        if claimed is not None:
            return claimed
    return None


# --- Presence -----------------------------------------------------------------------------------

_presence_changed_hooks: list[Callable[[int], None]] = []


def register_presence_changed_hook(hook: Callable[[int], None]) -> None:
    """Call ``hook(agent_profile_id)`` after each presence change's transaction commits (once per hook)."""
    if hook not in _presence_changed_hooks:
        _presence_changed_hooks.append(hook)


def presence_changed_on_commit(*, agent_id: int) -> None:
    """Run the presence-changed hooks once the current transaction commits."""
    if _presence_changed_hooks:
        transaction.on_commit(lambda: _run(_presence_changed_hooks, agent_id))


# --- Work accepted or transferred (voice call control, which routing must not import) ----------

_work_accepted_hooks: list[Callable[[int], None]] = []
_work_transferred_hooks: list[Callable[[int], None]] = []


def register_work_accepted_hook(hook: Callable[[int], None]) -> None:
    """Call ``hook(conversation_id)`` once an agent's acceptance of an offer commits (once per hook).

    Voice call control puts the waiting call through to the agent (engagement/adapters/voice_control).
    The hook must be cheap (send a task): it runs in the thread that committed the acceptance.
    """
    if hook not in _work_accepted_hooks:
        _work_accepted_hooks.append(hook)


def register_work_transferred_hook(hook: Callable[[int], None]) -> None:
    """Call ``hook(conversation_id)`` once a transfer of a conversation (desk, API, supervisor) commits.

    Voice call control puts the caller back to waiting until the next agent accepts. Cheap, as above.
    """
    if hook not in _work_transferred_hooks:
        _work_transferred_hooks.append(hook)


def work_accepted_on_commit(*, conversation_id: int) -> None:
    """Run the work-accepted hooks once the current transaction commits."""
    if _work_accepted_hooks:
        transaction.on_commit(lambda: _run(_work_accepted_hooks, conversation_id))


def work_transferred_on_commit(*, conversation_id: int) -> None:
    """Run the work-transferred hooks once the current transaction commits."""
    if _work_transferred_hooks:
        transaction.on_commit(lambda: _run(_work_transferred_hooks, conversation_id))
