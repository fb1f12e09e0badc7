"""All models of the System of Engagement, gathered for Django; each lives in its domain package."""

from engagement.adapters.models import WebhookSource
from engagement.context.models import ContextChange
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.idv.models import VerificationChallenge, VerificationLock
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.webchat.models import SiteKey

__all__ = [
    "Attachment",
    "ContextChange",
    "Conversation",
    "Flow",
    "FlowStep",
    "KnowledgeArticle",
    "Message",
    "SiteKey",
    "VerificationChallenge",
    "VerificationLock",
    "WebhookSource",
]
