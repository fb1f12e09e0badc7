"""Recording finished conversations and what is learnt about them afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cea.accounts.models import Team, User
from cea.accounts.types import Actor
from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, ValidationFailed
from cea.common.pii import redact_text, redact_value
from cea.common.redact import redact_cards_value
from records.access import require_team_allowed
from records.audit.context import audited
from records.cases.models import Case
from records.customers.models import Customer
from records.interactions.models import Interaction
from records.journey.services import journey_record

if TYPE_CHECKING:
    from cea.accounts.models import Team, User
    from records.cases.models import Case
    from records.customers.models import Customer

TRANSCRIPT_AUTHORS = {"customer", "agent", "bot", "system"}


def _validate_transcript(transcript: Any) -> list[dict[str, Any]]:
    if not isinstance(transcript, list):
        raise ValidationFailed("The transcript is a list of messages.", fields={"transcript": "Must be a list."})
    errors = []
    for index, message in enumerate(transcript):
        if not isinstance(message, dict) or not isinstance(message.get("body"), str):
            errors.append(f"Message {index}: needs a text body.")
        elif message.get("author") not in TRANSCRIPT_AUTHORS:
            errors.append(f"Message {index}: author must be one of {', '.join(sorted(TRANSCRIPT_AUTHORS))}.")
    if errors:
        raise ValidationFailed("The transcript has invalid messages.", fields={"transcript": errors})
    return transcript


def _field_errors(
    *,
    channel: str,
    direction: str,
    started_at: datetime,
    answered_at: datetime | None,
    ended_at: datetime,
    context_snapshot: Any,
    customer: Customer | None,
    case: Case | None,
    agent: User | None,
    team: Team | None,
) -> dict[str, str]:
    """What is wrong with each field of a conversation to record (empty when nothing is)."""
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = f"Choose one of {', '.join(Channel.values)}."
    if direction not in Direction.values:
        errors["direction"] = f"Choose one of {', '.join(Direction.values)}."
    if ended_at < started_at:
        errors["ended_at"] = "The conversation cannot end before it started."
    if answered_at is not None and not (started_at <= answered_at <= ended_at):
        errors["answered_at"] = "Must be between the start and the end."
    if context_snapshot is not None and not isinstance(context_snapshot, dict):
        errors["context_snapshot"] = "Must be an object."
    if case is not None and customer is not None and case.customer_id != customer.pk:
        errors["case"] = "The case belongs to another customer."
    # The handling agent must belong to the team it is recorded under: otherwise the
    # interaction would be shown to an agent of another team.
    if agent is not None and team is not None and not agent.teams.filter(pk=team.pk).exists():
        errors["agent"] = f"{agent} is not in the team {team.name}."
    return errors


def _transcript_redacted(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each message's words (body, author's name) redacted by the policy, card data masked everywhere else."""
    return [
        {
            **redact_cards_value(message),
            "body": redact_text(message["body"]),
            **(
                {"author_name": redact_text(message["author_name"])}
                if isinstance(message.get("author_name"), str)
                else {}
            ),
        }
        for message in transcript
    ]


@transaction.atomic
def interaction_record(
    *,
    actor: Actor,
    channel: str,
    started_at: datetime,
    ended_at: datetime,
    customer: Customer | None = None,
    direction: str = Direction.INBOUND,
    answered_at: datetime | None = None,
    queue: str = "",
    agent: User | None = None,
    team: Team | None = None,
    transcript: list[dict[str, Any]] | None = None,
    wrap_up_code: str = "",
    disposition: str = "",
    wrap_up_notes: str = "",
    context_snapshot: dict[str, Any] | None = None,
    case: Case | None = None,
    external_id: str = "",
    source_system: str = "records",
) -> Interaction:
    """Record one finished conversation and write ``interaction.recorded`` to the customer's journey.

    Refuses (``Conflict``) a second recording of the same ``(channel, external_id)``. The
    transcript, the wrap-up notes and the context snapshot are redacted (``cea.common.pii``)
    before they are kept: engagement's messages and context are redacted already, but the
    interactions API and the legacy loads record conversations of their own.
    """
    errors = _field_errors(
        channel=channel,
        direction=direction,
        started_at=started_at,
        answered_at=answered_at,
        ended_at=ended_at,
        context_snapshot=context_snapshot,
        customer=customer,
        case=case,
        agent=agent,
        team=team,
    )
    if errors:
        raise ValidationFailed("The interaction has invalid fields.", fields=errors)
    transcript = _transcript_redacted(_validate_transcript(transcript or []))
    require_team_allowed(actor, team)
    already_recorded = Conflict(
        f"The {channel} conversation {external_id!r} is already recorded.", code="already_recorded"
    )
    if external_id and Interaction.objects.filter(channel=channel, external_id=external_id).exists():
        raise already_recorded
    with audited(actor):
        try:
            # A savepoint: the same conversation recorded concurrently since the check above
            # fails the unique constraint here and is refused the same way.
            with transaction.atomic():
                interaction = Interaction.objects.create(
                    customer=customer,
                    channel=channel,
                    direction=direction,
                    external_id=external_id,
                    started_at=started_at,
                    answered_at=answered_at,
                    ended_at=ended_at,
                    queue=queue,
                    agent=agent,
                    team=team,
                    transcript=transcript,
                    wrap_up_code=wrap_up_code,
                    disposition=disposition,
                    wrap_up_notes=redact_text(wrap_up_notes),
                    context_snapshot=redact_value(context_snapshot or {}),
                    case=case,
                )
        except IntegrityError as exc:
            if external_id and "interaction_external_once" in str(exc):
                raise already_recorded from None
            raise
        if customer is not None:
            journey_record(
                customer=customer,
                kind="interaction.recorded",
                channel=channel,
                source_system=source_system,
                occurred_at=ended_at,
                summary=f"{Channel(channel).label} {direction} conversation"
                + (f" ({disposition})" if disposition else ""),
                payload={"interaction_id": interaction.pk, "case_id": getattr(case, "pk", None), "queue": queue},
            )
    return interaction


@transaction.atomic
def interaction_link_case(*, actor: Actor, interaction: Interaction, case: Case) -> Interaction:
    if interaction.customer_id is not None and case.customer_id != interaction.customer_id:
        raise ValidationFailed("The case belongs to another customer.", fields={"case": "Another customer's case."})
    with audited(actor):
        interaction.case = case
        interaction.save(update_fields=["case", "updated_at"])
        journey_record(
            customer=case.customer,
            kind="case.interaction_linked",
            channel=interaction.channel,
            summary=f"{interaction.get_channel_display()} conversation linked to {case.reference}",
            payload={"interaction_id": interaction.pk, "case_id": case.pk},
        )
    return interaction


@transaction.atomic
def interaction_set_sentiment(*, actor: Actor, interaction: Interaction, score: float, label: str = "") -> Interaction:
    """Written by insights: ``score`` from -1 (negative) to 1 (positive)."""
    if not -1.0 <= score <= 1.0:
        raise ValidationFailed("Sentiment is between -1 and 1.", fields={"sentiment": "Out of range."})
    with audited(actor):
        interaction.sentiment = score
        interaction.sentiment_label = label
        interaction.save(update_fields=["sentiment", "sentiment_label", "updated_at"])
    return interaction


SENTIMENT_BATCH = 2000


def interactions_set_sentiment_bulk(*, actor: Actor, scores: Mapping[int, tuple[float, str]]) -> int:
    """Written by insights' backfill: each interaction's ``(score, label)``, set-wise, in batches.

    Every score is -1 … 1 (``ValidationFailed`` before anything is written); unknown ids are skipped,
    unchanged rows are not written. Returns the rows updated.
    """
    bad = [pk for pk, (score, _label) in scores.items() if not -1.0 <= float(score) <= 1.0]
    if bad:
        raise ValidationFailed("Sentiment is between -1 and 1.", fields={"sentiment": f"Out of range: {bad[:5]}"})
    ids = sorted(scores)
    updated = 0
    with audited(actor):
        for start in range(0, len(ids), SENTIMENT_BATCH):
            batch = ids[start : start + SENTIMENT_BATCH]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE records_interaction i SET sentiment = v.score, sentiment_label = v.label, updated_at = %s"
                    " FROM unnest(%s::bigint[], %s::float8[], %s::text[]) AS v(id, score, label)"
                    " WHERE i.id = v.id AND (i.sentiment IS DISTINCT FROM v.score OR i.sentiment_label <> v.label)",
                    [
                        timezone.now(),
                        batch,
                        [float(scores[pk][0]) for pk in batch],
                        [scores[pk][1][:20] for pk in batch],
                    ],
                )
                updated += cursor.rowcount
    return updated


@transaction.atomic
def interaction_set_satisfaction(*, actor: Actor, interaction: Interaction, csat: int) -> Interaction:
    """Written by insights' surveys: the customer's CSAT answer, 1 to 5."""
    if not 1 <= csat <= 5:
        raise ValidationFailed("Satisfaction is between 1 and 5.", fields={"satisfaction": "Out of range."})
    with audited(actor):
        interaction.satisfaction = csat
        interaction.save(update_fields=["satisfaction", "updated_at"])
    return interaction


@transaction.atomic
def interaction_wrap_up(
    *, actor: Actor, interaction: Interaction, wrap_up_code: str, disposition: str = "", notes: str = ""
) -> Interaction:
    """The agent's wrap-up of a conversation recorded before they finished it (the customer left first).

    The notes are redacted (``cea.common.pii``) before they are kept.
    """
    if len(wrap_up_code) > 50 or len(disposition) > 50:
        raise ValidationFailed("Wrap-up code and disposition are at most 50 characters.")
    with audited(actor):
        interaction.wrap_up_code = wrap_up_code
        interaction.disposition = disposition or interaction.disposition
        interaction.wrap_up_notes = redact_text(notes)
        interaction.save(update_fields=["wrap_up_code", "disposition", "wrap_up_notes", "updated_at"])
    return interaction


@transaction.atomic
def interaction_media_add(
    *, actor: Actor, interaction: Interaction, kind: str, reference: str, url: str, text: str = "", at: datetime
) -> Interaction:
    """Link a recording or a transcription that arrived after the conversation was recorded.

    The link goes into ``context_snapshot["media"]`` (``{"kind", "reference", "url", "at"}``, plus the
    redacted ``text`` of a transcription) and a system line into the transcript; the same ``kind`` and
    ``reference`` twice changes nothing. Locks the interaction row.
    """
    if not kind or len(kind) > 40 or not reference or len(reference) > 100 or len(url) > 500:
        raise ValidationFailed(
            "A media link needs a kind (≤ 40), a reference (≤ 100) and a URL (≤ 500 characters).",
            fields={"media": "Invalid link."},
        )
    interaction = Interaction.objects.select_for_update().get(pk=interaction.pk)
    snapshot = dict(interaction.context_snapshot or {})
    media = list(snapshot.get("media") or [])
    if any(item.get("kind") == kind and item.get("reference") == reference for item in media):
        return interaction
    text = redact_text(text)
    media.append(
        {"kind": kind, "reference": reference, "url": url, "at": at.isoformat(), **({"text": text} if text else {})}
    )
    snapshot["media"] = media
    line = f"{kind.capitalize()}: {url}" + (f"\n{text}" if text else "")
    with audited(actor):
        interaction.context_snapshot = snapshot
        interaction.transcript = [
            *interaction.transcript,
            {"at": at.isoformat(), "author": "system", "author_name": "", "body": line, "event": kind},
        ]
        interaction.save(update_fields=["context_snapshot", "transcript", "updated_at"])
    return interaction
