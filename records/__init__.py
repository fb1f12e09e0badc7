"""The System of Record: customers, identities, cases, interactions, journey events, audit.

Each domain word is a package (``records/cases/`` …) holding its models, services
(writes), selectors (reads) and API. Other apps use the services and selectors only.
"""
