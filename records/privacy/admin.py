"""The console pages of personal data: each part registers its own."""

from records.privacy import pii_policy_admin, requests_admin, retention_admin

__all__ = ["pii_policy_admin", "requests_admin", "retention_admin"]
