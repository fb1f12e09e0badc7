"""Celery tasks of surveys: dispatch after a conversation ends, send an email or SMS invitation."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from engagement.idv.senders import SmsSendError
from insights.surveys.services import DISPATCH_TASK, SEND_TASK, survey_dispatch, survey_invitation_send


class RetryableSendError(Exception):
    """A sender's failure worth trying again."""


@shared_task(name=DISPATCH_TASK, **database_retry(backoff_max=120))
def dispatch_survey(interaction_id: int) -> str:
    """Decide and send (or skip) the survey of an ended interaction; idempotent."""
    survey = survey_dispatch(interaction_id=interaction_id)
    return "none" if survey is None else survey.status


@shared_task(
    name=SEND_TASK,
    acks_late=True,
    autoretry_for=(RetryableSendError, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_invitation(survey_id: int, token: str) -> bool:
    """Send a survey's email or SMS invitation while it is open."""
    try:
        return survey_invitation_send(survey_id=survey_id, token=token)
    except SmsSendError as error:
        if error.retryable:
            raise RetryableSendError(str(error)) from error
        raise
