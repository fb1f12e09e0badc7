"""Clients and builders for the REST API tests.

Data is made through the services (``actor=None`` is the system), so that journey
events and audit rows exist as they would in production.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cea.accounts.services import api_token_create
from records.cases.services import case_create
from records.interactions.services import interaction_record
from tests.support import assert_error, make_customer

ALL_SCOPES = [
    "customers:read",
    "customers:write",
    "cases:read",
    "cases:write",
    "interactions:read",
    "interactions:write",
]


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """A client signed in with a browser session (as the desktop calls the API)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def token_client(db) -> Callable[..., APIClient]:
    """A client that sends ``Authorization: Bearer <token>`` for a new token of ``user``."""

    def make(user, scopes=tuple(ALL_SCOPES), expires_at=None) -> APIClient:
        _, plaintext = api_token_create(user=user, name="tests", scopes=list(scopes), expires_at=expires_at)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client

    return make


def make_case(customer, *, subject: str = "Router keeps dropping", **fields):
    return case_create(actor=None, customer=customer, subject=subject, **fields)


def make_interaction(customer, *, channel: str = "chat", minutes_ago: int = 10, **fields):
    ended_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return interaction_record(
        actor=None,
        customer=customer,
        channel=channel,
        started_at=ended_at - dt.timedelta(minutes=5),
        ended_at=ended_at,
        **fields,
    )


@pytest.fixture
def world(team_a, team_b):
    """One customer, case and interaction in team A and the same in team B, made by the system."""
    customer_a = make_customer(team_a, given_name="Alice", family_name="Smith", email="alice@example.com")
    customer_b = make_customer(team_b, given_name="Bruno", family_name="Bianchi", email="bruno@example.com")
    case_a, case_b = make_case(customer_a), make_case(customer_b)
    interaction_a, interaction_b = make_interaction(customer_a), make_interaction(customer_b)
    return SimpleNamespace(
        customer_a=customer_a,
        customer_b=customer_b,
        case_a=case_a,
        case_b=case_b,
        interaction_a=interaction_a,
        interaction_b=interaction_b,
        identity_a=customer_a.identities.get(),
        identity_b=customer_b.identities.get(),
    )


def fill(path: str, world) -> str:
    """``path`` with ``{customer_a}``-style placeholders replaced by the world's ids."""
    return path.format(**{name: getattr(value, "pk", value) for name, value in vars(world).items()})


__all__ = ["assert_error", "fill", "make_case", "make_customer", "make_interaction"]
