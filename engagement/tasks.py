"""Celery tasks of the System of Engagement. Tasks take ids, are idempotent and retry with backoff.

Each package keeps its tasks in its own ``tasks.py``; importing them here is what makes the worker
(which discovers ``<app>.tasks`` modules) register them.
"""

from engagement.adapters.mailboxes.tasks import fetch_due_mailboxes, fetch_mailbox
from engagement.adapters.tasks import deliver_provider_message, sweep_outbox
from engagement.adapters.voice_control.tasks import voice_call_connect, voice_call_requeue
from engagement.backoffice import tasks as backoffice_tasks
from engagement.conversations.tasks import deliver_email_reply
from engagement.idv.tasks import send_contact_change_notice, send_verification_code
from engagement.outbound.tasks import deliver_outbound_sms, queue_due_callback, queue_due_callbacks
from engagement.recommendations.tasks import expire_recommendations
from engagement.routing.tasks import route_agent, route_queue, sweep
from engagement.webchat.tasks import answer as webchat_answer
from engagement.webchat.tasks import answers_sweep as webchat_answers_sweep
from engagement.wfm.adherence import tasks as adherence_tasks
from engagement.wfm.forecasting.tasks import forecast_intraday_all, forecast_queue, forecast_refresh_all

__all__ = [
    "adherence_tasks",
    "backoffice_tasks",
    "deliver_email_reply",
    "deliver_outbound_sms",
    "deliver_provider_message",
    "expire_recommendations",
    "fetch_due_mailboxes",
    "fetch_mailbox",
    "forecast_intraday_all",
    "forecast_queue",
    "forecast_refresh_all",
    "queue_due_callback",
    "queue_due_callbacks",
    "route_agent",
    "route_queue",
    "send_contact_change_notice",
    "send_verification_code",
    "sweep",
    "sweep_outbox",
    "voice_call_connect",
    "voice_call_requeue",
    "webchat_answer",
    "webchat_answers_sweep",
]
