"""How the CEA reaches the sample systems: their secrets and the connectors' configurations.

Shared by ``python -m integration.sample_systems serve`` (which accepts these secrets), the
``load_demo_connectors`` command (which points connectors at them) and the tests. Secrets live
in files (mode 0600) in one folder, made on first use; connectors name the files
(``credential_file``), never the secrets.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cea.common.db_url import database_url

BILLING_USERNAME = "cea"
ORDERS_CLIENT_ID = "cea"
BILLING_PORT_OFFSET, ORDERS_PORT_OFFSET, CUSTOMER_DB_PORT_OFFSET = 0, 1, 2


@dataclass(frozen=True)
class DemoSecrets:
    folder: Path
    billing_password: str
    orders_api_key: str
    orders_client_secret: str

    def file(self, name: str) -> Path:
        return self.folder / name


SECRET_FILES = {
    "billing_password": "billing-password",
    "orders_api_key": "orders-api-key",
    "orders_client_secret": "orders-client-secret",
}


def _secret_in(path: Path) -> str:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def demo_secrets(folder: Path) -> DemoSecrets:
    """The sample systems' secrets in ``folder``, each made once (safe when two processes race)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    values = {name: _secret_in(folder / file_name) for name, file_name in SECRET_FILES.items()}
    return DemoSecrets(folder=folder, **values)


ORDER_MAPPINGS = {
    "customer_external_id": "customer_number",
    "external_id": "order_number",
    "name": "summary",
    "status": "status",
    "amount": "total",
    "currency": "currency",
    "as_of": "updated_at",
}
SHIPMENT_MAPPINGS = {
    "customer_external_id": "customer_number",
    "external_id": "shipment_id",
    "name": "summary",
    "status": "status",
    "as_of": "updated_at",
}
BILLING_MAPPINGS = {
    "customer_external_id": "customerNumber",
    "kind": "kind",
    "external_id": "id",
    "name": "description",
    "status": "status",
    "amount": "amount",
    "currency": "currency",
    "as_of": "updatedAt",
}
CUSTOMER_DB_MAPPINGS = {
    "external_id": "cust_no",
    "given_name": "first_nm",
    "family_name": "last_nm",
    "email": "email_addr",
    "phone": "phone_no",
    "date_of_birth": "birth_dt",
    "postcode": "post_cd",
    "account_number": "acct_no",
    "segment": "segment_cd",
    "value_tier": "tier_cd",
}
ACCOUNT_MAPPINGS = {
    "customer_external_id": "cust_no",
    "external_id": "acct_no",
    "name": "product_nm",
    "status": "status_cd",
    "as_of": "updated_at",
}


def rest_connector(
    *, base_url: str, secrets_folder: Path, auth: str = "oauth2", name: str = "orders"
) -> dict[str, Any]:
    """A ``Connector``'s fields for the order-management service (``auth``: ``oauth2`` or ``api_key``)."""
    secret_file = SECRET_FILES["orders_client_secret" if auth == "oauth2" else "orders_api_key"]
    return {
        "name": name,
        "label": "Order management (REST)",
        "kind": "rest",
        "system": "orders",
        "credential_file": str(secrets_folder / secret_file),
        "settings": {
            "base_url": base_url,
            # Orders carry the customer master's customer numbers (CUSTnnnnnn).
            "customer_system": "customer-db",
            "auth": auth,
            "api_key_header": "X-API-Key",
            "token_url": "/oauth/token",
            "client_id": ORDERS_CLIENT_ID,
            "page_size": 100,
            "health_path": "/health",
            "resources": [
                {"name": "orders", "path": "/api/v1/orders", "holding_kind": "order", "customer_param": "customer"},
                {
                    "name": "shipments",
                    "path": "/api/v1/shipments",
                    "holding_kind": "shipment",
                    "customer_param": "customer",
                },
            ],
            "write_backs": {
                "address_change": {"method": "PUT", "path": "/api/v1/customers/{customer_external_id}/address"}
            },
        },
        "mappings": {"orders": ORDER_MAPPINGS, "shipments": SHIPMENT_MAPPINGS},
    }


def soap_connector(*, base_url: str, secrets_folder: Path, name: str = "billing") -> dict[str, Any]:
    """A ``Connector``'s fields for the billing service."""
    return {
        "name": name,
        "label": "Billing (SOAP)",
        "kind": "soap",
        "system": "billing",
        "credential_file": str(secrets_folder / SECRET_FILES["billing_password"]),
        "settings": {
            "wsdl": f"{base_url}/billing?wsdl",
            # Billing carries the customer master's customer numbers (CUSTnnnnnn).
            "customer_system": "customer-db",
            "username": BILLING_USERNAME,
            "page_size": 100,
            "health_operation": "Ping",
            "changes_operation": "GetChanges",
            "customer_operation": "GetCustomerHoldings",
            "items_field": "holding",
            "key_field": "id",
            "write_backs": {
                "payment_arrangement": {"operation": "CreatePaymentArrangement", "key_field": "idempotencyKey"}
            },
        },
        "mappings": {"holding": BILLING_MAPPINGS},
    }


def sql_connector(*, url: str, name: str = "customer-db", credential_file: str = "") -> dict[str, Any]:
    """A ``Connector``'s fields for the legacy customer database (``url`` without a password)."""
    return {
        "name": name,
        "label": "Legacy customer database (SQL)",
        "kind": "sql",
        "system": "customer-db",
        "credential_file": credential_file,
        "settings": {
            "url": url,
            "page_size": 500,
            "sources": [
                {"name": "customers", "table": "cust_master", "key": "cust_no", "updated": "updated_at"},
                {
                    "name": "accounts",
                    "table": "cust_accounts",
                    "key": "acct_no",
                    "updated": "updated_at",
                    "holding_kind": "account",
                    "customer_column": "cust_no",
                },
            ],
        },
        "mappings": {"customers": CUSTOMER_DB_MAPPINGS, "accounts": ACCOUNT_MAPPINGS},
    }


def legacy_database_url(database: Mapping[str, Any]) -> str:
    """The legacy customer database beside CEA's own (a Django ``DATABASES`` entry): same server
    and user, the name ``<name>_legacy``; no password in the URL (trust or peer authentication,
    as the embedded PostgreSQL uses, or the connector's secret)."""
    return database_url(database, name=f"{database['NAME']}_legacy", password=False)
