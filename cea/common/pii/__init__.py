"""PII redaction: find payment cards, security codes, IBANs, national ids, phone numbers and
e-mail addresses in free text and replace them per a policy (docs/privacy.md, "Redaction").

    from cea.common.pii import redact_text, redact_value, find_pii, PiiKind, Finding
"""

from cea.common.pii.detect import find_pii, is_card_number
from cea.common.pii.kinds import Finding, PiiKind
from cea.common.pii.policy import (
    CONFIGURABLE_KINDS,
    DEFAULT_POLICY,
    STRICT_POLICY,
    Mode,
    PiiPolicy,
    PolicyError,
)
from cea.common.pii.redact import current_policy, redact_text, redact_value, set_policy_provider

__all__ = [
    "CONFIGURABLE_KINDS",
    "DEFAULT_POLICY",
    "STRICT_POLICY",
    "Finding",
    "Mode",
    "PiiKind",
    "PiiPolicy",
    "PolicyError",
    "current_policy",
    "find_pii",
    "is_card_number",
    "redact_text",
    "redact_value",
    "set_policy_provider",
]
