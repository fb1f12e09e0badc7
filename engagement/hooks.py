"""Where the layers above engagement plug in, without engagement importing them.

Engagement cannot import insights (imports go one way), yet two things it does matter to insights'
surveys: a conversation ending (a survey may follow) and an inbound text that answers one (an SMS
reply "5 great service"). An app above registers a callable here in its ``AppConfig.ready()``;
engagement calls the registered callables explicitly at those two points. Each list is filled once
at start-up and only read afterwards.

- ``conversation_closed_register(fn)``: ``fn(*, conversation_id, interaction_id, channel)`` runs
  inside ``conversation_close``'s transaction; it must only schedule work (a task sent on commit).
- ``inbound_interceptor_register(fn)``: ``fn(InboundText) -> Claimed | None`` runs inside the
  inbound delivery's transaction before a conversation is found or opened; the first that returns a
  ``Claimed`` takes the message, which then opens no conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


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
        hook(conversation_id=conversation_id, interaction_id=interaction_id, channel=channel)


def inbound_claim(text: InboundText) -> Claimed | None:
    """The first interceptor's claim on ``text``, or ``None``: then it goes into a conversation as usual."""
    for interceptor in _interceptors:
        claimed = interceptor(text)
        if claimed is not None:
            return claimed
    return None
