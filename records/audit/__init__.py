"""The audit trail of every change to customers, identities, cases and interactions (django-pghistory)."""
