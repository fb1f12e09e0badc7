"""All models of the System of Record, gathered for Django; each lives in its domain package."""

from records.audit.models import CustomerAccess
from records.cases.models import Case, CaseNote, SlaPolicy
from records.customers.models import Consent, Customer
from records.holdings.models import Holding, SourceRecord
from records.identities.models import Identity
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.privacy.models import LegalHold, PiiPolicy, PrivacyRequest, PrivacyRewrite, RetentionPolicy, RetentionRun

__all__ = [
    "Case",
    "CaseNote",
    "Consent",
    "Customer",
    "CustomerAccess",
    "Holding",
    "Identity",
    "Interaction",
    "JourneyEvent",
    "LegalHold",
    "PiiPolicy",
    "PrivacyRequest",
    "PrivacyRewrite",
    "RetentionPolicy",
    "RetentionRun",
    "SlaPolicy",
    "SourceRecord",
]
