"""Surveys after a conversation ends, on its channel; answers by link, SMS reply or the chat widget.

1. ``survey_conversation_closed`` (registered in ``engagement.hooks`` by ``InsightsConfig.ready``)
   sends ``survey_dispatch`` as a task on commit for every ended conversation.
2. ``survey_dispatch`` finds the ``SurveyConfig`` of the interaction's queue and channel (the
   queue's own, else the channel's blank-queue one); none, nothing happens. Then, in order, a
   survey is *skipped* with its reason: abandoned (no agent answered), sampled out
   (``sample_percent``, a stable hash of the interaction), capped (the customer was surveyed in the
   last ``cap_days``), no consent (email/SMS: granted for the channel and ``consent_purpose``;
   chat: not withdrawn, or granted when ``chat_requires_consent``), no address (email/SMS).
   Otherwise it is *sent*: a one-time token (kept as its SHA-256) makes the link ``/s/<token>/``;
   email and SMS carry it (``engagement.outbound.notices.notice_send``, after commit), the chat
   widget gets it pushed (``engagement.webchat.services.webchat_survey_offer``).
3. ``survey_answer`` takes the score (and an optional comment, PII-redacted) once, before the
   link expires; a CSAT answer is written back to the interaction (``interaction_set_satisfaction``).
   ``survey_sms_claim`` lets an SMS reply (``"4 quick and kind"``) from the address a survey went to
   answer it within its validity.
4. ``pulse_answer``: an agent's anonymous eNPS for the month (one each; the answer names no one).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta

from celery import signature
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor, AnyUser
from cea.common.channels import Channel
from cea.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text
from cea.common.roles import Role, role_of, team_ids_of
from cea.common.tasks import send_on_commit
from engagement.conversations.consent import consent_required
from engagement.hooks import Claimed, InboundText
from engagement.outbound.notices import notice_send
from engagement.outbound.services import contact_address
from engagement.webchat.services import webchat_survey_offer
from insights.surveys.models import (
    QUESTIONS,
    SCALES,
    SURVEY_CHANNELS,
    PulseAnswer,
    PulseParticipation,
    SkipReason,
    Survey,
    SurveyConfig,
    SurveyKind,
    SurveyStatus,
)
from records.customers.models import ConsentPurpose
from records.identities.models import IdentityKind
from records.interactions.models import Interaction
from records.interactions.selectors import interaction_with_customer
from records.interactions.services import interaction_set_satisfaction

DISPATCH_TASK = "insights.surveys.dispatch"
SEND_TASK = "insights.surveys.send_invitation"
MAX_COMMENT = 2000
MAX_VALID_HOURS = 24 * 30
ADDRESS_KINDS = {Channel.EMAIL: IdentityKind.EMAIL, Channel.SMS: IdentityKind.PHONE}
SMS_ANSWER = re.compile(r"^\s*(\d{1,2})\b[\s.,:;!-]*(.*)$", re.DOTALL)


# --- Configuration --------------------------------------------------------------------------


def survey_config_errors(config: SurveyConfig) -> dict[str, str]:
    """What is wrong with ``config``, by field (empty: it may be saved)."""
    problems = {}
    if config.channel not in SURVEY_CHANNELS:
        problems["channel"] = "Surveys are asked in the chat widget, by email or by SMS; choose one of those."
    if config.kind not in SurveyKind.values:
        problems["kind"] = f"One of {', '.join(SurveyKind.values)}."
    if config.sample_percent is None or not 0 <= config.sample_percent <= 100:
        problems["sample_percent"] = "A share of conversations between 0 and 100 (percent)."
    if config.cap_days is None or not 0 <= config.cap_days <= 365:
        problems["cap_days"] = "Between 0 (no cap) and 365 days."
    if config.valid_hours is None or not 1 <= config.valid_hours <= MAX_VALID_HOURS:
        problems["valid_hours"] = f"Between 1 and {MAX_VALID_HOURS} hours (30 days)."
    if config.consent_purpose not in ConsentPurpose.values:
        problems["consent_purpose"] = f"One of {', '.join(ConsentPurpose.values)}."
    if config.queue != config.queue.strip():
        problems["queue"] = "No spaces before or after the queue's name."
    clash = SurveyConfig.objects.filter(queue=config.queue, channel=config.channel).exclude(pk=config.pk)
    if "channel" not in problems and clash.exists():
        where = f"queue {config.queue!r}" if config.queue else "every queue"
        problems["queue"] = f"There is already a survey for {where} on {Channel(config.channel).label}; edit that one."
    return problems


def require_survey_admin(actor: Actor) -> None:
    if actor is not None and role_of(actor) != Role.ADMIN:
        raise PermissionDenied("Only an administrator may configure surveys.")


@transaction.atomic
def survey_config_save(*, actor: Actor, config: SurveyConfig) -> SurveyConfig:
    """Validate and save ``config`` (new or changed); ``ValidationFailed`` by field, nothing saved."""
    require_survey_admin(actor)
    problems = survey_config_errors(config)
    if problems:
        raise ValidationFailed("The survey configuration is invalid.", fields=problems)
    config.save()
    return config


# --- Sending --------------------------------------------------------------------------------


def survey_conversation_closed(*, conversation_id: int, interaction_id: int, channel: str) -> None:
    """``engagement.hooks``' conversation-closed hook: dispatch a survey once the end commits."""
    if channel in SURVEY_CHANNELS:
        send_on_commit(signature(DISPATCH_TASK), interaction_id)


def survey_config_for(*, channel: str, queue: str) -> SurveyConfig | None:
    """The active configuration of ``queue`` on ``channel``, else the channel's every-queue one."""
    configs = SurveyConfig.objects.filter(channel=channel, active=True, queue__in=[queue, ""])
    return max(configs, key=lambda config: config.queue != "", default=None)


def sampled_in(*, interaction_id: int, percent: int) -> bool:
    """Whether the interaction is in the ``percent`` sample: a stable hash, so a retry decides the same."""
    bucket = int(hashlib.sha256(f"survey:{interaction_id}".encode()).hexdigest()[:8], 16) % 100
    return bucket < percent


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_link(token: str) -> str:
    return f"{settings.CEA_PUBLIC_URL}/s/{token}/"


def _skip_reason(*, config: SurveyConfig, interaction: Interaction, now: datetime) -> str | None:
    customer = interaction.customer
    if interaction.agent_id is None:
        return SkipReason.ABANDONED
    if not sampled_in(interaction_id=interaction.pk, percent=config.sample_percent):
        return SkipReason.SAMPLED_OUT
    if customer is not None and config.cap_days:
        since = now - timedelta(days=config.cap_days)
        recent = Survey.objects.filter(customer=customer, sent_at__gte=since)
        if recent.exists():
            return SkipReason.CAPPED
    if interaction.channel == Channel.CHAT:
        if customer is None:
            return SkipReason.NO_CONSENT if config.chat_requires_consent else None
        try:
            consent_required(customer=customer, channel=Channel.CHAT, purpose=config.consent_purpose)
        except Conflict as refusal:
            if refusal.code == "consent_withdrawn" or config.chat_requires_consent:
                return SkipReason.NO_CONSENT
        return None
    if customer is None:
        return SkipReason.NO_ADDRESS
    try:
        consent_required(customer=customer, channel=interaction.channel, purpose=config.consent_purpose)
    except Conflict:
        return SkipReason.NO_CONSENT
    if contact_address(customer=customer, kind=ADDRESS_KINDS[Channel(interaction.channel)]) is None:
        return SkipReason.NO_ADDRESS
    return None


@transaction.atomic
def survey_dispatch(*, interaction_id: int, now: datetime | None = None) -> Survey | None:
    """The survey of the ended interaction: sent, skipped (with why), or ``None`` when no survey is
    configured for its queue and channel. Idempotent: a second call returns the first one's row."""
    now = now or timezone.now()
    interaction = interaction_with_customer(interaction_id=interaction_id)
    if interaction is None or interaction.channel not in SURVEY_CHANNELS:
        return None
    existing = Survey.objects.filter(interaction=interaction).first()
    if existing is not None:
        return existing
    config = survey_config_for(channel=interaction.channel, queue=interaction.queue)
    if config is None:
        return None
    survey = Survey(
        config=config,
        kind=config.kind,
        channel=interaction.channel,
        interaction=interaction,
        customer=interaction.customer,
        agent=interaction.agent,
        team=interaction.team,
        queue=interaction.queue,
        question=config.question or QUESTIONS[config.kind],
        created_at=now,
    )
    reason = _skip_reason(config=config, interaction=interaction, now=now)
    if reason is not None:
        survey.status, survey.skip_reason = SurveyStatus.SKIPPED, reason
        return _saved_once(survey)
    token = secrets.token_urlsafe(24)
    survey.status = SurveyStatus.SENT
    survey.token_hash = token_hash(token)
    survey.sent_at = now
    survey.expires_at = now + timedelta(hours=config.valid_hours)
    if interaction.channel in ADDRESS_KINDS and interaction.customer is not None:
        survey.sent_to = (
            contact_address(customer=interaction.customer, kind=ADDRESS_KINDS[Channel(interaction.channel)]) or ""
        )
    survey = _saved_once(survey)
    if survey.token_hash != token_hash(token):  # a concurrent dispatch won; it sends its own
        return survey
    if interaction.channel == Channel.CHAT:
        low, high = SCALES[survey.kind]
        webchat_survey_offer(
            interaction_id=interaction.pk,
            survey={
                "kind": survey.kind,
                "question": survey.question,
                "scale": [low, high],
                "token": token,
                "answer_url": "/api/v1/insights/surveys/answers/",
            },
        )
    else:
        send_on_commit(signature(SEND_TASK), survey.pk, token)
    return survey


def _saved_once(survey: Survey) -> Survey:
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:
        return Survey.objects.get(interaction=survey.interaction)
    return survey


def invitation_text(*, survey: Survey, token: str) -> tuple[str, str]:
    """The subject and text of an email or SMS invitation."""
    low, high = SCALES[survey.kind]
    if survey.channel == Channel.SMS:
        return "", (
            f"{survey.question} Reply with a number from {low} to {high} (and a comment if you like), "
            f"or answer at {survey_link(token)}"
        )
    return "How did we do?", (
        f"Thank you for contacting us.\n\n{survey.question}\n\n"
        f"Answer in one click (a score from {low} to {high}): {survey_link(token)}\n\n"
        "The link works once and expires in a few days."
    )


def survey_invitation_send(*, survey_id: int, token: str) -> bool:
    """Send the invitation of a survey still open (a task; a retry after an answer sends nothing)."""
    survey = Survey.objects.filter(pk=survey_id, status=SurveyStatus.SENT).first()
    if survey is None or survey.token_hash != token_hash(token) or not survey.sent_to:
        return False
    subject, text = invitation_text(survey=survey, token=token)
    notice_send(channel=survey.channel, to=survey.sent_to, subject=subject, text=text)
    return True


# --- Answering ------------------------------------------------------------------------------


class SurveyClosed(ApplicationError):
    """The link was used already or has expired (``code`` says which)."""

    status_code = 410
    code = "survey_closed"


def survey_by_token(*, token: str, now: datetime | None = None, lock: bool = False) -> Survey:
    """The open survey of ``token``: ``NotFound`` for an unknown (or tampered) token, ``SurveyClosed``
    (``survey_answered`` / ``survey_expired``) for one used or expired. ``lock``: the row is locked
    (``select_for_update``) before it is checked, so two answers cannot both find it open."""
    now = now or timezone.now()
    surveys = Survey.objects.select_for_update() if lock else Survey.objects.all()
    survey = surveys.filter(token_hash=token_hash(token)).first() if token else None
    if survey is None or survey.status == SurveyStatus.SKIPPED:
        raise NotFound("This survey link is not valid.", code="survey_not_found")
    if survey.status == SurveyStatus.ANSWERED:
        raise SurveyClosed("This survey has already been answered. Thank you!", code="survey_answered")
    if survey.expires_at is not None and survey.expires_at <= now:
        raise SurveyClosed("This survey link has expired.", code="survey_expired")
    return survey


def _answer_problems(*, kind: str, score: object, comment: object) -> dict[str, str]:
    low, high = SCALES[kind]
    problems = {}
    if not isinstance(score, int) or isinstance(score, bool) or not low <= score <= high:
        problems["score"] = f"A whole number from {low} to {high}."
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        problems["comment"] = f"At most {MAX_COMMENT} characters."
    return problems


@transaction.atomic
def survey_answer(
    *, token: str, score: object, comment: object = "", answer_ref: str = "", now: datetime | None = None
) -> Survey:
    """Answer the survey of ``token`` once: ``ValidationFailed`` for a score off the scale or a long
    comment, ``NotFound``/``SurveyClosed`` as ``survey_by_token``. The comment is kept PII-redacted."""
    now = now or timezone.now()
    survey = survey_by_token(token=token, now=now, lock=True)
    return _answer(survey=survey, score=score, comment=comment, answer_ref=answer_ref, now=now)


def _answer(*, survey: Survey, score: object, comment: object, answer_ref: str, now: datetime) -> Survey:
    problems = _answer_problems(kind=survey.kind, score=score, comment=comment)
    if problems:
        raise ValidationFailed("The answer is invalid.", fields=problems)
    assert isinstance(score, int) and isinstance(comment, str)
    survey.status = SurveyStatus.ANSWERED
    survey.score = score
    survey.comment = redact_text(comment.strip())
    survey.responded_at = now
    survey.answer_ref = answer_ref
    survey.save(update_fields=["status", "score", "comment", "responded_at", "answer_ref"])
    if survey.kind == SurveyKind.CSAT and survey.interaction is not None:
        interaction_set_satisfaction(actor=None, interaction=survey.interaction, csat=score)
    return survey


def survey_sms_claim(text: InboundText) -> Claimed | None:
    """``engagement.hooks``' inbound interceptor: an SMS starting with a number on the scale, from the
    number an open survey went to by SMS, answers the latest such survey. A redelivery of an SMS that
    answered one is claimed again (and changes nothing); anything else is left to the funnel."""
    if text.channel != Channel.SMS:
        return None
    already = Survey.objects.filter(channel=Channel.SMS, answer_ref=text.external_id).first()
    if already is not None:
        return Claimed(by="survey", reference=str(already.pk))
    parsed = SMS_ANSWER.match(text.text)
    if parsed is None:
        return None
    now = timezone.now()
    survey = (
        Survey.objects.select_for_update()
        .filter(channel=Channel.SMS, sent_to=text.sender, status=SurveyStatus.SENT, expires_at__gt=now)
        .order_by("-sent_at", "-id")
        .first()
    )
    if survey is None:
        return None
    low, high = SCALES[survey.kind]
    score = int(parsed.group(1))
    if not low <= score <= high:
        return None
    _answer(survey=survey, score=score, comment=parsed.group(2)[:MAX_COMMENT], answer_ref=text.external_id, now=now)
    return Claimed(by="survey", reference=str(survey.pk))


# --- The employee pulse (eNPS) ----------------------------------------------------------------


def pulse_period(day: date) -> date:
    return day.replace(day=1)


def require_pulse_respondent(actor: AnyUser | None) -> User:
    """The agent or supervisor answering the pulse; ``PermissionDenied`` for anyone else."""
    if not isinstance(actor, User) or role_of(actor) not in (Role.AGENT, Role.SUPERVISOR):
        raise PermissionDenied("The employee pulse is answered by agents and supervisors.")
    return actor


@transaction.atomic
def pulse_answer(
    *, actor: AnyUser | None, score: object, team_id: int | None = None, now: datetime | None = None
) -> None:
    """``actor``'s anonymous eNPS answer (0–10) for this month: the answer keeps only the team and the
    month; the participation keeps only that they answered. ``Conflict`` (``pulse_answered``) for a
    second answer in a month; ``ValidationFailed`` for a score off 0–10 or a team not theirs."""
    respondent = require_pulse_respondent(actor)
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        raise ValidationFailed("The answer is invalid.", fields={"score": "A whole number from 0 to 10."})
    teams = sorted(team_ids_of(respondent))
    if team_id is None:
        team_id = teams[0] if teams else None
    elif team_id not in teams:
        raise ValidationFailed("The answer is invalid.", fields={"team": "One of your own teams."})
    period = pulse_period(timezone.localdate(now or timezone.now()))
    try:
        with transaction.atomic():
            PulseParticipation.objects.create(user=respondent, period=period)
    except IntegrityError:
        raise Conflict("You have already answered this month's pulse.", code="pulse_answered") from None
    PulseAnswer.objects.create(team_id=team_id, period=period, score=score)
