"""Self-service: run flows on chat and on the IVR, and keep flows and knowledge articles.

A conversation in ``self_service`` status is served here, one customer input at a time:

- chat (and every text channel): ``selfservice_on_customer_message(conversation, message)``
  after the customer's message is stored, or ``selfservice_answer_pending(conversation,
  up_to_message_id)`` for every message not answered yet, in order (the web chat's worker task);
- voice: ``selfservice_on_ivr_input(conversation, digits=…, speech=…)`` for each DTMF or speech
  input the telephony platform reports (``POST /api/v1/engagement/ivr/<call_id>/input/``);
- ``selfservice_start(conversation)`` greets and offers the main menu.

The engine (``engine.py``) decides; this module loads the flows and the session state from the
conversation's context, adds the bot's replies as messages, escalates or ends the conversation
and writes the new state back. The state lives in the conversation's context (Redis, with the
durable log behind it), so a turn survives a worker restart: keys ``selfservice`` (where the
customer is), ``intent``, ``answers`` (everything the customer gave and every look-up result)
and, on hand-over, ``handover`` and ``verification_level``, so the agent never asks again.

Each turn writes the context with the version it read (optimistic concurrency): two workers
handling inputs of one conversation at once cannot both win; the loser's transaction rolls
back and it runs again on the new state, where a message already handled is recognised
(``last_message``) and answered with the replies already given instead of twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.utils import timezone

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, ValidationFailed
from engagement.context import store
from engagement.context.models import ContextScope
from engagement.context.services import context_alias, context_read, context_write
from engagement.conversations.models import AuthorKind, Conversation, ConversationStatus, Message
from engagement.conversations.services import conversation_start, message_add
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.selfservice.definition import StepDef, flow_fields_problems
from engagement.selfservice.engine import Engine
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.selfservice.selectors import flow_definitions_active, knowledge_best_answer, selfservice_state
from engagement.selfservice.session import STATE_KEY, Action, Knowledge, Mode, SessionState, Turn
from engagement.selfservice.steps import flow_steps_problems
from integration.lookups import run_lookup
from records.audit.context import audited

logger = logging.getLogger(__name__)

BOT_NAME = "Virtual assistant"
MAX_ATTEMPTS = 3


@dataclass
class SelfServiceReply:
    """What a turn produced: the bot's messages and what the channel should do next."""

    conversation: Conversation
    messages: list[Message] = field(default_factory=list)
    transfer: bool = False  # the conversation waits for an agent (voice: transfer the call)
    hangup: bool = False  # the conversation has ended
    queue: str = ""
    expect: dict[str, Any] | None = None
    replayed: bool = False  # the input had been handled already; these are the replies given then

    @property
    def prompts(self) -> list[str]:
        return [message.body for message in self.messages]

    @property
    def status(self) -> str:
        return self.conversation.status


# --- Entry points ----------------------------------------------------------------------------


def selfservice_start(*, conversation: Conversation) -> SelfServiceReply:
    """Greet and offer the main menu, once; later calls (a reconnect) say nothing."""
    return _turn(conversation, kind="start")


def selfservice_on_customer_message(*, conversation: Conversation, message: Message) -> SelfServiceReply:
    """Answer a customer's text message (chat, SMS, social, app) while the conversation is in self-service.

    Call it after the message is stored and committed, outside a transaction of the caller's.
    Does nothing for a conversation no longer in self-service (queued, with an agent, ended)
    or for a message that is not the customer's. A message handled before (a redelivery) gets
    back the replies given then, ``replayed=True``, and nothing is said twice.
    """
    if message.conversation_id != conversation.pk:
        raise ValidationFailed(
            "The message belongs to another conversation.", fields={"message": "Wrong conversation."}
        )
    if message.author_kind != AuthorKind.CUSTOMER:
        return SelfServiceReply(conversation=conversation)
    return _turn(conversation, kind="input", message=message, text=message.body)


def selfservice_answer_pending(*, conversation: Conversation, up_to_message_id: int) -> list[SelfServiceReply]:
    """Answer, in the order they were sent, the customer's messages not answered yet, up to and
    including ``up_to_message_id``, while the conversation stays in self-service.

    For a worker answering a text channel after the message was acknowledged (the web chat sends
    one task per message: ``engagement/webchat/tasks.py``). Two tasks of one conversation may run
    at once on different workers: each answers every earlier message first, and a message one of
    them answered is only replayed by the other (``replayed=True``), so no message is answered
    twice or after a later one.
    """
    state = selfservice_state(conversation_id=conversation.pk)
    pending = Message.objects.filter(
        conversation_id=conversation.pk,
        author_kind=AuthorKind.CUSTOMER,
        pk__gt=state.last_message,
        pk__lte=up_to_message_id,
    ).order_by("pk")
    replies = []
    for message in pending:
        reply = _turn(conversation, kind="input", message=message, text=message.body)
        replies.append(reply)
        if reply.status != ConversationStatus.SELF_SERVICE:
            break  # handed over or ended: the rest is for the agent
    return replies


def selfservice_on_ivr_input(
    *, conversation: Conversation, digits: str = "", speech: str = "", input_id: str = ""
) -> SelfServiceReply:
    """Answer one IVR input: DTMF ``digits`` or recognised ``speech`` text (digits win if both).

    No input at all is the call connecting (greeting and main menu) or, later, a time-out
    (the prompt again, counted as a retry). The input is recorded as the customer's message;
    ``input_id`` (the platform's event id) makes a redelivered input idempotent.
    """
    text = (digits or "").strip() or (speech or "").strip()
    if not text:
        return _turn(conversation, kind="no_input")
    external_id = f"ivr:{conversation.external_id or conversation.pk}:{input_id}" if input_id else ""
    message, _ = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body=text,
        external_id=external_id[:255],
        payload={"ivr": {"digits": digits or "", "speech": speech or ""}},
    )
    return _turn(conversation, kind="input", message=message, text=text)


@transaction.atomic
def selfservice_ivr_call(*, call_id: str, caller: str = "") -> Conversation:
    """Open the voice conversation of a call the voice adapter has not seen (or return it).

    The caller's number identifies the customer; the call id is the conversation's external id
    and, once committed, the alias ``call:<call id>`` of its context, as the voice adapter does.
    """
    conversation, opened = conversation_start(
        channel=Channel.VOICE,
        external_id=call_id,
        contact_kind="phone" if caller else "",
        contact_value=caller,
        source="selfservice",
        context={"call_id": call_id},
    )
    if opened:
        conversation_id = conversation.pk
        transaction.on_commit(
            lambda: context_alias(alias=f"call:{call_id}", scope=ContextScope.CONVERSATION, context_id=conversation_id)
        )
    return conversation


# --- One turn -------------------------------------------------------------------------------


def _turn(conversation: Conversation, *, kind: str, message: Message | None = None, text: str = "") -> SelfServiceReply:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _attempt(conversation.pk, kind=kind, message=message, text=text)
        except Conflict as exc:
            if exc.code != "stale_version" or attempt == MAX_ATTEMPTS:
                raise
            logger.info("Self-service turn of conversation %s met a newer context; running it again", conversation.pk)
    raise AssertionError("unreachable")


def _facts(conversation: Conversation) -> dict[str, Any]:
    customer = conversation.customer
    return {
        "verification_level": conversation.verification_level,
        "channel": conversation.channel,
        "customer_identified": "yes" if customer is not None else "no",
        "customer_name": customer.given_name if customer is not None else "",
    }


def _knowledge(text: str) -> Knowledge | None:
    article = knowledge_best_answer(text=text)
    return Knowledge(id=article.pk, title=article.title, body=article.body) if article else None


def _without_turn(conversation: Conversation) -> SelfServiceReply:
    return SelfServiceReply(
        conversation=conversation,
        transfer=conversation.status in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE),
        hangup=conversation.status == ConversationStatus.ENDED,
        queue=conversation.queue,
    )


def _fit(answers: dict[str, Any]) -> dict[str, Any]:
    """Keep the answers within one context value's size limit, dropping the longest first."""
    limit = settings.CEA_CONTEXT_MAX_VALUE_BYTES - 16
    fitted = dict(answers)
    while fitted and len(json.dumps(fitted).encode()) > limit:
        longest = max(fitted, key=lambda name: len(json.dumps(fitted[name])))
        fitted.pop(longest)
    return fitted


def _handover_record(conversation: Conversation, engine: Engine, turn: Turn, answers: dict[str, Any]) -> dict[str, Any]:
    given = "; ".join(f"{name}={value}" for name, value in answers.items() if not isinstance(value, dict | list))
    summary = (
        f"Intent: {engine.intent or 'not known'}. Verification: {conversation.verification_level}. "
        f"Answers: {given or 'none'}. Reason: {turn.reason}"
    )
    return {
        "intent": engine.intent or None,
        "flow": engine.state.flow or None,
        "step": turn.step or None,
        "reason": turn.reason[:300],
        "queue": turn.queue or conversation.queue,
        "verification_level": conversation.verification_level,
        "answered": sorted(answers)[:30],
        "summary": summary[:600],
        "at": timezone.now().isoformat(),
    }


def _attempt(conversation_id: int, *, kind: str, message: Message | None, text: str) -> SelfServiceReply:
    # Decide outside any transaction: a look-up may wait on a slow back-end, and nothing is
    # held meanwhile. The version read here is checked when the turn is written.
    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    if conversation.status != ConversationStatus.SELF_SERVICE:
        return _without_turn(conversation)
    context = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk)
    values = context.values
    state = SessionState.from_json(values.get(STATE_KEY))
    if message is not None and message.pk <= state.last_message:
        replies = Message.objects.filter(
            conversation=conversation, author_kind=AuthorKind.BOT, payload__selfservice__reply_to=message.pk
        ).order_by("id")
        return SelfServiceReply(conversation=conversation, messages=list(replies), replayed=True)
    if kind == "start" and state.greeted:
        return SelfServiceReply(conversation=conversation)
    engine = Engine(
        flows=flow_definitions_active(),
        state=state,
        answers=dict(values.get("answers") or {}),
        intent=str(values.get("intent") or conversation.intent or ""),
        mode=Mode.VOICE if conversation.channel == Channel.VOICE else Mode.TEXT,
        facts=_facts(conversation),
        lookup=lambda name, inputs: run_lookup(name, customer=conversation.customer, inputs=inputs),
        knowledge=_knowledge,
    )
    if kind == "input":
        turn = engine.handle(text)
    elif kind == "start" or not state.greeted:
        turn = engine.start()
    else:
        turn = engine.no_input()
    if message is not None:
        state.last_message = message.pk
    return _write_turn(conversation, engine=engine, turn=turn, message=message, version=context.version)


def _write_turn(
    conversation: Conversation, *, engine: Engine, turn: Turn, message: Message | None, version: int
) -> SelfServiceReply:
    """Say the replies, hand over or end, and store the state, if the context is still at ``version``.

    Raises ``Conflict`` (``stale_version``) and writes nothing if the context moved on meanwhile.
    """
    state = engine.state
    context_written = False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
            if conversation.status != ConversationStatus.SELF_SERVICE:
                return _without_turn(conversation)  # an agent took it while this turn was decided
            messages = [
                message_add(
                    conversation=conversation,
                    direction=Direction.OUTBOUND,
                    author_kind=AuthorKind.BOT,
                    author_name=BOT_NAME,
                    body=reply,
                    payload={
                        "selfservice": {
                            "reply_to": message.pk if message is not None else None,
                            "flow": state.flow or None,
                            "step": turn.step or None,
                        }
                    },
                )[0]
                for reply in turn.replies
            ]
            if engine.intent and engine.intent != conversation.intent:
                with audited(None, source="selfservice"):
                    conversation.intent = engine.intent[:100]
                    conversation.save(update_fields=["intent", "updated_at"])
            answers = _fit(engine.answers)
            changes: dict[str, Any] = {STATE_KEY: state.to_json(), "answers": answers}
            if engine.intent:
                changes["intent"] = engine.intent
            if turn.action == Action.HANDOVER:
                conversation = conversation_escalate(conversation=conversation, queue=turn.queue, reason=turn.reason)
                changes["handover"] = _handover_record(conversation, engine, turn, answers)
                changes["verification_level"] = conversation.verification_level
            # Last but the ending: the version check decides whether this turn counts.
            context_write(
                actor=None,
                scope=ContextScope.CONVERSATION,
                context_id=conversation.pk,
                values=changes,
                expected_version=version,
                customer_id=conversation.customer_id,
                source="selfservice",
                summary=f"Self-service: {turn.action or 'turn'}"
                + (f" ({engine.intent})" if engine.intent else "")
                + (f" at {turn.step}" if turn.step else ""),
            )
            context_written = True
            if turn.action == Action.END:
                conversation_end(actor=None, conversation=conversation, notes=turn.reason)
                conversation.refresh_from_db()
            return SelfServiceReply(
                conversation=conversation,
                messages=messages,
                transfer=turn.action == Action.HANDOVER,
                hangup=turn.action == Action.END,
                queue=conversation.queue if turn.action == Action.HANDOVER else "",
                expect=turn.expect,
            )
    except BaseException:
        if context_written:
            # Redis took the new state but the transaction rolled back: drop the hot copy so
            # the next read rebuilds it from the durable log, which rolled back with the rest.
            store.delete(ContextScope.CONVERSATION, str(conversation.pk))
        raise


# --- Knowledge articles ---------------------------------------------------------------------


def _text_search_configs() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config")
        return {row[0] for row in cursor.fetchall()}


def knowledge_article_check(*, title: str, body: str, keywords: str = "", language: str = "english") -> None:
    """Refuse (``ValidationFailed`` with fields) an article that could not be saved or searched."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "An article needs a title."
    if not body.strip():
        errors["body"] = "An article needs a body."
    for name, value in (("title", title), ("body", body), ("keywords", keywords)):
        if "\x00" in value:
            errors[name] = "Null characters are not allowed."
    if language not in _text_search_configs():
        known = ", ".join(sorted(_text_search_configs()))
        errors["language"] = f"{language!r} is not a PostgreSQL text search configuration (one of: {known})."
    if errors:
        raise ValidationFailed("The article is invalid: " + " ".join(errors.values()), fields=errors)


@transaction.atomic
def knowledge_article_save(
    *,
    article: KnowledgeArticle | None = None,
    title: str,
    body: str,
    keywords: str = "",
    language: str = "english",
    is_published: bool = True,
) -> KnowledgeArticle:
    """Create (``article=None``) or update an article and rebuild its search vector.

    The vector weighs the title (A) above the keywords (B) above the body (C), in the
    article's own text search configuration.
    """
    knowledge_article_check(title=title, body=body, keywords=keywords, language=language)
    article = article or KnowledgeArticle()
    article.title = title.strip()
    article.body = body.strip()
    article.keywords = keywords.strip()
    article.language = language
    article.is_published = is_published
    article.save()
    KnowledgeArticle.objects.filter(pk=article.pk).update(
        search_vector=SearchVector("title", weight="A", config=language)
        + SearchVector("keywords", weight="B", config=language)
        + SearchVector("body", weight="C", config=language)
    )
    article.refresh_from_db(fields=["search_vector"])
    return article


# --- Flows ----------------------------------------------------------------------------------


def step_defs_of(*, steps: list[dict[str, Any]]) -> list[StepDef]:
    """Step dicts (key, kind, prompt, options, next_step) in order, as the checks read them."""
    return [
        StepDef(
            key=str(step.get("key") or ""),
            kind=str(step.get("kind") or ""),
            prompt=str(step.get("prompt") or ""),
            options=step.get("options") if step.get("options") is not None else {},
            next_step=str(step.get("next_step") or ""),
            position=index,
        )
        for index, step in enumerate(steps)
    ]


def flow_check(
    *,
    flow: Flow | None,
    name: str,
    intent: str,
    menu_key: str = "",
    trigger_phrases: str = "",
    is_active: bool = True,
    steps: list[dict[str, Any]],
) -> None:
    """Refuse (``ValidationFailed``) a flow the engine could not run; every problem is named."""
    others = Flow.objects.exclude(pk=flow.pk if flow else None)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["A flow needs a name."]
    elif others.filter(name=name.strip()).exists():
        errors["name"] = [f"Another flow is called {name.strip()!r}."]
    if not intent:
        errors["intent"] = ["A flow needs an intent."]
    elif others.filter(intent=intent).exists():
        errors["intent"] = [f"Another flow serves the intent {intent!r}."]
    other_keys = others.filter(is_active=True).exclude(menu_key="").values_list("menu_key", flat=True)
    errors.update(
        flow_fields_problems(
            menu_key=menu_key if is_active else "", trigger_phrases=trigger_phrases, other_menu_keys=other_keys
        )
    )
    definitions = step_defs_of(steps=steps)
    problems = flow_steps_problems(definitions)
    if problems:
        errors["steps"] = problems.messages(definitions)
    if errors:
        sentences = [message for messages in errors.values() for message in messages]
        raise ValidationFailed("The flow is invalid. " + " ".join(sentences), fields=errors)


@transaction.atomic
def flow_save(
    *,
    flow: Flow | None = None,
    name: str,
    intent: str,
    description: str = "",
    trigger_phrases: str = "",
    menu_key: str = "",
    is_active: bool = True,
    queue: str = "",
    steps: list[dict[str, Any]],
) -> Flow:
    """Create (``flow=None``) or replace a flow and all its steps, after ``flow_check``.

    ``steps`` are dicts with ``key``, ``kind``, ``prompt``, ``options`` and ``next_step``, in
    order: the first is where the flow starts.
    """
    flow_check(
        flow=flow,
        name=name,
        intent=intent,
        menu_key=menu_key,
        trigger_phrases=trigger_phrases,
        is_active=is_active,
        steps=steps,
    )
    flow = flow or Flow()
    flow.name = name.strip()
    flow.intent = intent
    flow.description = description
    flow.trigger_phrases = trigger_phrases
    flow.menu_key = menu_key
    flow.is_active = is_active
    flow.queue = queue
    flow.save()
    flow.steps.all().delete()
    FlowStep.objects.bulk_create(
        FlowStep(
            flow=flow,
            key=step.key,
            position=(index + 1) * 10,
            kind=step.kind,
            prompt=step.prompt,
            options=dict(step.options),
            next_step=step.next_step,
        )
        for index, step in enumerate(step_defs_of(steps=steps))
    )
    return flow
