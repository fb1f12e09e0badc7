"""The rules of a subscription's fields (``webhook_subscription_check``), shared by the API and the console."""

from __future__ import annotations

import pytest

from cea.common.errors import ValidationFailed
from integration.webhooks.services import webhook_subscription_check
from tests.support import assert_error, session_client

SECRET = "typed-secret-0123456789"


@pytest.fixture(autouse=True)
def _public_targets_only(settings):
    # crm.example does not resolve: a name that does not resolve now is let through (checked on each attempt).
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = False


def test_every_refused_field_is_named_with_its_reason():
    # Given a blank name, an ftp URL, an event that does not exist and a short secret
    fields = {"name": "  ", "url": "ftp://crm.example/x", "events": ["case.created", "case.deleted"], "secret": "short"}

    # When they are checked
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_check(fields=fields)

    # Then each field says what is wrong with it
    assert refused.value.message == "The subscription has invalid fields."
    assert refused.value.fields == {
        "name": ["This field is required."],
        "url": ["Give an http:// or https:// URL."],
        "events": ["Unknown events: case.deleted."],
        "secret": ["A secret has at least 16 characters."],
    }


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"events": []}, {"events": ["Choose at least one event."]}),
        ({"events": None}, {"events": ["Choose at least one event."]}),
        ({"url": "not a url"}, {"url": ["Give an http:// or https:// URL."]}),
        (
            {"url": "http://127.0.0.1:8000/hooks"},
            {"url": ["127.0.0.1 is not a public address (loopback); webhooks are sent to public addresses only."]},
        ),
        ({"name": 42}, {"name": ["Must be a string."]}),
    ],
)
def test_one_refused_field_is_named_alone(fields, problems):
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_check(fields=fields)

    assert refused.value.fields == problems


def test_fields_are_cleaned_and_only_the_given_ones_returned():
    # Given a change of the name (padded), the events (one repeated) and no new secret
    fields = {"name": " CRM ", "events": ["case.created", "case.created", "customer.created"], "secret": None}

    # When checked, then the name is trimmed, each event kept once, and the absent secret left out
    assert webhook_subscription_check(fields=fields) == {
        "name": "CRM",
        "events": ["case.created", "customer.created"],
    }


def test_the_api_refuses_with_the_same_words(admin_user):
    # Given an admin on the API, when a subscription with an unknown event and a short secret is posted
    response = session_client(admin_user).post(
        "/api/v1/integration/webhooks/",
        {"name": "CRM", "url": "https://crm.example/hooks", "events": ["case.deleted"], "secret": "short"},
        format="json",
    )

    # Then the fields carry the rules' messages
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {
        "events": ["Unknown events: case.deleted."],
        "secret": ["A secret has at least 16 characters."],
    }
