"""All models of the System of Engagement, gathered for Django; each lives in its domain package."""

from engagement.adapters.mailboxes.models import Mailbox
from engagement.adapters.models import ProviderSend, WebhookSource
from engagement.adapters.voice_control.models import CallRecording, VoiceCall, VoiceEndpoint
from engagement.backoffice.models import BackofficeWork, OutOfHoursAnswer
from engagement.canned.models import CannedResponse
from engagement.context.models import ContextChange
from engagement.conversations.models import Attachment, ChatReadMark, Conversation, Message
from engagement.idv.models import VerificationChallenge, VerificationLock
from engagement.outbound.models import Callback
from engagement.recommendations.models import RecommendedAction
from engagement.routing.models import (
    AgentProfile,
    AgentSkill,
    ChannelLoad,
    Offer,
    PresenceChange,
    Queue,
    ReasonCode,
    RoutingStep,
    Skill,
    WorkItem,
    WrapUpCode,
)
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.supervision.models import SupervisorAction
from engagement.webchat.models import SiteKey
from engagement.wfm.models import *  # noqa: F403 (the workforce management models, listed in engagement.wfm.models)
from engagement.wfm.models import __all__ as _wfm_models

__all__ = [
    "AgentProfile",
    "AgentSkill",
    "Attachment",
    "CallRecording",
    "BackofficeWork",
    "Callback",
    "CannedResponse",
    "ChannelLoad",
    "ChatReadMark",
    "ContextChange",
    "Conversation",
    "Flow",
    "FlowStep",
    "KnowledgeArticle",
    "Mailbox",
    "Message",
    "Offer",
    "OutOfHoursAnswer",
    "PresenceChange",
    "ProviderSend",
    "Queue",
    "ReasonCode",
    "RecommendedAction",
    "RoutingStep",
    "SiteKey",
    "Skill",
    "SupervisorAction",
    "VerificationChallenge",
    "VerificationLock",
    "VoiceCall",
    "VoiceEndpoint",
    "WebhookSource",
    "WorkItem",
    "WrapUpCode",
    *_wfm_models,
]
