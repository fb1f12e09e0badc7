"""The parts of a customer's personal data that engagement holds, registered in ``EngagementConfig.ready``.

Conversations and their messages (bodies, authors' names, channel payloads, attachments), the
context store (its durable log and the live Redis keys), ID&V challenges and Redis counters,
callbacks, recommended actions, work items' notes and supervisors' actions on the customer's
conversations, web chat visitors' tokens, and the push registrations (session or device id, FCM
token or Web Push endpoint) of their app sessions and IoT devices. Erasure anonymises them (the push
registrations it deletes) in the running erasure's transaction (``records.privacy.erasure``); Redis
keys are deleted once it commits.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from engagement.adapters.push_devices import push_devices_of
from engagement.backoffice.models import BackofficeWork
from engagement.context import store
from engagement.context.models import ContextChange, ContextScope
from engagement.conversations.models import Attachment, AuthorKind, Conversation, Message
from engagement.idv.attempts import conversation_attempts_key, conversation_codes_key
from engagement.idv.models import VerificationChallenge
from engagement.outbound.models import Callback
from engagement.recommendations.models import RecommendedAction
from engagement.routing.models import WorkItem
from engagement.supervision.models import SupervisorAction
from records.privacy.erasure import erased_customer_ids, erasure_scrubber, record_rewrite
from records.privacy.registry import register_personal_data
from records.privacy.scrub import ERASED


def _conversation_ids(customer_id: int) -> list[int]:
    return list(
        Conversation.objects.filter(customer_id__in=erased_customer_ids(customer_id)).values_list("pk", flat=True)
    )


# --- Conversations and messages -------------------------------------------------------------


def export_conversations(customer_id: int) -> list[dict[str, Any]]:
    conversations = list(
        Conversation.objects.filter(customer_id=customer_id).values(
            "id",
            "channel",
            "direction",
            "status",
            "contact_kind",
            "contact_value",
            "subject",
            "intent",
            "verification_level",
            "queue",
            "created_at",
            "ended_at",
        )
    )
    messages: dict[int, list[dict[str, Any]]] = {}
    rows = Message.objects.filter(conversation__customer_id=customer_id, internal=False).values(
        "conversation_id", "direction", "author_kind", "author_name", "body", "sent_at"
    )
    for message in rows:
        shown: dict[str, Any] = dict(message)
        messages.setdefault(shown.pop("conversation_id"), []).append(shown)
    return [{**conversation, "messages": messages.get(conversation["id"], [])} for conversation in conversations]


def erase_conversations(customer_id: int) -> int:
    """The customer's words replaced, the agents' scrubbed of the customer's identifiers; contact
    details, visitor tokens, payloads, attachments and push registrations gone; channels, times and
    queues kept."""
    scrubber = erasure_scrubber(customer_id)
    conversation_ids = _conversation_ids(customer_id)
    # Their app sessions' and devices' push registrations, found by the ids erased below.
    rows = push_devices_of(conversation_ids).delete()[0]
    for conversation in Conversation.objects.filter(pk__in=conversation_ids).only("pk", "subject", "external_id"):
        external_id = scrubber.text(conversation.external_id)
        rows += Conversation.objects.filter(pk=conversation.pk).update(
            contact_value="",
            visitor="",
            subject=scrubber.text(conversation.subject),
            external_id=conversation.external_id
            if external_id == conversation.external_id
            else f"erased-{conversation.pk}",
        )
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    rows += messages.filter(author_kind=AuthorKind.CUSTOMER).update(body=ERASED, author_name="", payload={})
    for message in messages.exclude(author_kind=AuthorKind.CUSTOMER).only("pk", "body", "author_name", "payload"):
        rows += Message.objects.filter(pk=message.pk).update(
            body=scrubber.text(message.body),
            author_name=scrubber.text(message.author_name),
            payload=scrubber.value(message.payload),
        )
    # Sent files and the agents' drafts not sent yet.
    attachments = list(
        Attachment.objects.filter(
            Q(message__conversation_id__in=conversation_ids) | Q(conversation_id__in=conversation_ids)
        )
    )
    for attachment in attachments:
        transaction.on_commit(partial(attachment.file.delete, save=False))
    rows += Attachment.objects.filter(pk__in=[attachment.pk for attachment in attachments]).delete()[0]
    rows += _erase_conversation_history(conversation_ids, scrubber)
    return rows


def _erase_conversation_history(conversation_ids: list[int], scrubber) -> int:
    """The conversations' audit copies (pghistory) rewritten like the conversations themselves."""
    event_model = apps.get_model("engagement", "ConversationEvent")
    events = event_model.objects.filter(pgh_obj_id__in=conversation_ids)
    changed = 0
    for event in events.only("pgh_id", "pgh_obj_id", "subject", "external_id"):
        external_id = scrubber.text(event.external_id)
        changed += events.filter(pgh_id=event.pgh_id).update(
            contact_value="",
            visitor="",
            subject=scrubber.text(event.subject),
            external_id=event.external_id if external_id == event.external_id else f"erased-{event.pgh_obj_id}",
        )
    record_rewrite(target=event_model._meta.db_table, rows=changed)
    return changed


# --- Context store ----------------------------------------------------------------------------


def _context_changes(customer_id: int, conversation_ids: list[int]):
    return ContextChange.objects.filter(
        Q(customer_id__in=erased_customer_ids(customer_id))
        | Q(scope=ContextScope.CUSTOMER, context_id__in=[str(pk) for pk in erased_customer_ids(customer_id)])
        | Q(scope=ContextScope.CONVERSATION, context_id__in=[str(pk) for pk in conversation_ids])
    )


def export_context(customer_id: int) -> dict[str, Any]:
    conversation_ids = _conversation_ids(customer_id)
    live = store.read(ContextScope.CUSTOMER, str(customer_id))
    return {
        "live": live.values if live else {},
        "log": list(
            _context_changes(customer_id, conversation_ids).values(
                "scope", "context_id", "version", "changes", "source", "changed_at"
            )
        ),
    }


def _redis_keys_of(customer_id: int, conversation_ids: list[int]) -> list[str]:
    client = store.client()
    keys = [store.key_of(ContextScope.CUSTOMER, str(pk)) for pk in erased_customer_ids(customer_id)]
    for conversation_id in conversation_ids:
        keys += [
            store.key_of(ContextScope.CONVERSATION, str(conversation_id)),
            conversation_attempts_key(conversation_id),
            conversation_codes_key(conversation_id),
        ]
    # Aliases (a call id, a web chat visitor) point at the customer's conversation contexts.
    targets = {f"{ContextScope.CONVERSATION}:{pk}" for pk in conversation_ids}
    targets |= {f"{ContextScope.CUSTOMER}:{pk}" for pk in erased_customer_ids(customer_id)}
    for alias in client.scan_iter(match=f"{settings.REDIS_PREFIX}:ctx-alias:*", count=1000):
        if client.get(alias) in targets:
            keys.append(alias)
    return keys


def erase_context(customer_id: int) -> int:
    """The durable log's values emptied (what changed when, and by whom, stays); the live Redis
    contexts, aliases and ID&V counters deleted when the erasure commits."""
    conversation_ids = _conversation_ids(customer_id)
    rows = _context_changes(customer_id, conversation_ids).update(changes={})
    keys = _redis_keys_of(customer_id, conversation_ids)
    transaction.on_commit(lambda: store.client().delete(*keys))
    return rows + len(keys)


# --- ID&V, outbound, recommendations, routing, supervision -----------------------------------


def export_engagement_records(customer_id: int) -> dict[str, Any]:
    conversation_ids = _conversation_ids(customer_id)
    return {
        "verification_challenges": list(
            VerificationChallenge.objects.filter(customer_id=customer_id).values(
                "method", "destination", "created_at", "used_at"
            )
        ),
        "callbacks": list(
            Callback.objects.filter(customer_id=customer_id).values(
                "queue", "reason", "due_at", "status", "phone", "attempts", "attempt_log"
            )
        ),
        "backoffice_work": list(
            BackofficeWork.objects.filter(customer_id=customer_id).values(
                "kind", "title", "description", "status", "outcome", "due_at", "created_at"
            )
        ),
        "recommended_actions": list(
            RecommendedAction.objects.filter(customer_id=customer_id).values(
                "title", "detail", "reasons", "status", "note", "created_at"
            )
        ),
        "work_item_notes": list(
            WorkItem.objects.filter(conversation_id__in=conversation_ids).exclude(note="").values("note")
        ),
    }


def erase_engagement_records(customer_id: int) -> int:
    scrubber = erasure_scrubber(customer_id)
    conversation_ids = _conversation_ids(customer_id)
    ids = erased_customer_ids(customer_id)
    rows = VerificationChallenge.objects.filter(customer_id__in=ids).update(destination=ERASED)
    rows += Callback.objects.filter(customer_id__in=ids).update(reason=ERASED, phone="", attempt_log=[])
    for work in BackofficeWork.objects.filter(customer_id__in=ids).only("pk", "title", "description", "outcome"):
        rows += BackofficeWork.objects.filter(pk=work.pk).update(
            title=scrubber.text(work.title)[:200],
            description=scrubber.text(work.description),
            outcome=scrubber.text(work.outcome)[:500],
        )
    for action in RecommendedAction.objects.filter(customer_id__in=ids).only("pk", "detail", "reasons"):
        rows += RecommendedAction.objects.filter(pk=action.pk).update(
            detail=scrubber.text(action.detail), reasons=scrubber.value(action.reasons), note=""
        )
    for item in WorkItem.objects.filter(conversation_id__in=conversation_ids).only("pk", "priority_reasons"):
        rows += WorkItem.objects.filter(pk=item.pk).update(
            note="", priority_reasons=scrubber.value(item.priority_reasons)
        )
    for supervision in SupervisorAction.objects.filter(conversation_id__in=conversation_ids).only("pk", "detail"):
        rows += SupervisorAction.objects.filter(pk=supervision.pk).update(detail=scrubber.value(supervision.detail))
    supervisor_events = apps.get_model("engagement", "SupervisorActionEvent").objects.filter(
        conversation_id__in=conversation_ids
    )
    changed = 0
    for event in supervisor_events.only("pgh_id", "detail"):
        changed += supervisor_events.filter(pgh_id=event.pgh_id).update(detail=scrubber.value(event.detail))
    record_rewrite(target=supervisor_events.model._meta.db_table, rows=changed)
    return rows + changed


def register() -> None:
    register_personal_data("engagement.conversations", export=export_conversations, erase=erase_conversations)
    register_personal_data("engagement.context", export=export_context, erase=erase_context)
    register_personal_data("engagement.records", export=export_engagement_records, erase=erase_engagement_records)
