"""Mobile app messages and web form submissions over the REST API: identification, sessions, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.conversations.models import Conversation, Message
from engagement.orchestration import conversation_end
from engagement.tasks import deliver_email_reply
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db

APP_URL = "/api/v1/engagement/app/messages/"
FORM_URL = "/api/v1/engagement/web-forms/submissions/"

APP_MESSAGE = {
    "client_message_id": "9b2d6c1e-3f4a-4b8e-a0c2-5d7e9f1a3b4c",
    "session_id": "ios-7F3A2C91-session-42",
    "text": "The app says my payment failed but the money left my account.",
    "identifier_kind": "account",
    "customer_identifier": "ac-1002-3344",
    "sent_at": "2025-03-14T12:01:09.512Z",
}

FORM = {
    "submission_id": "wpforms-88213",
    "form_id": "contact-us",
    "name": "Bruno Bianchi",
    "email": "Bruno@Example.org",
    "subject": "Change of address",
    "message": "I moved to 12 Via Roma, Milan. Please update my details.",
    "submitted_at": "2025-03-14T16:45:00+01:00",
}


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def app_backend(integration_user):
    return token_client(integration_user, scopes=["conversations:write"])


# --- Mobile app ------------------------------------------------------------------------------------


def test_an_app_message_opens_a_conversation_for_the_signed_in_customer(app_backend, integration_user, team_a):
    # Given
    alice = make_customer(team_a, identities=[{"kind": "account", "value": "AC10023344"}])
    # When
    response = app_backend.post(APP_URL, APP_MESSAGE, format="json")
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert (conversation.channel, conversation.external_id) == (
        "mobile_app",
        f"{integration_user.pk}:ios-7F3A2C91-session-42:1",
    )
    assert (conversation.customer_id, conversation.contact_kind, conversation.contact_value) == (
        alice.pk,
        "account",
        "AC10023344",
    )
    assert (conversation.status, conversation.queue, conversation.team_id) == ("queued", "Mobile app", team_a.pk)
    assert (message.external_id, message.body, message.author_kind) == (
        f"{integration_user.pk}:9b2d6c1e-3f4a-4b8e-a0c2-5d7e9f1a3b4c",
        APP_MESSAGE["text"],
        "customer",
    )
    assert message.sent_at == dt.datetime(2025, 3, 14, 12, 1, 9, 512000, tzinfo=dt.UTC)


def test_the_same_app_message_100_times_is_one_message(app_backend):
    # When
    responses = [app_backend.post(APP_URL, APP_MESSAGE, format="json") for _ in range(100)]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_messages_of_one_session_share_a_conversation_until_it_ends(app_backend):
    # Given
    first = app_backend.post(APP_URL, APP_MESSAGE, format="json").json()
    second = app_backend.post(APP_URL, {**APP_MESSAGE, "client_message_id": "m-2", "text": "Hello?"}, format="json")
    other_session = app_backend.post(
        APP_URL, {**APP_MESSAGE, "client_message_id": "m-3", "session_id": "android-1"}, format="json"
    )
    # When
    conversation_end(actor=None, conversation=Conversation.objects.get(pk=first["conversation"]))
    after_end = app_backend.post(APP_URL, {**APP_MESSAGE, "client_message_id": "m-4"}, format="json")
    # Then
    assert second.json()["conversation"] == first["conversation"]
    assert other_session.json()["conversation"] != first["conversation"]
    assert after_end.json()["conversation"] not in (first["conversation"], other_session.json()["conversation"])
    assert Conversation.objects.count() == 3


def test_ids_of_different_clients_never_collide(app_backend, admin_user):
    # When: two clients happen to choose the same message id
    first = app_backend.post(APP_URL, APP_MESSAGE, format="json")
    second = session_client(admin_user).post(APP_URL, APP_MESSAGE, format="json")
    # Then
    assert (first.status_code, second.status_code) == (201, 201)
    assert Message.objects.count() == 2


def test_an_app_message_without_a_customer_is_anonymous(app_backend):
    # When
    response = app_backend.post(APP_URL, {**APP_MESSAGE, "customer_identifier": ""}, format="json")
    # Then
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.contact_kind, conversation.verification_level) == (
        None,
        "",
        "anonymous",
    )


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"text": ""}, {"text"}),
        ({"client_message_id": "x" * 121}, {"client_message_id"}),
        ({"identifier_kind": "national_id"}, {"identifier_kind"}),
        ({"identifier_kind": "email", "customer_identifier": "not-an-email"}, {"customer_identifier"}),
        ({"sent_at": "yesterday"}, {"sent_at"}),
    ],
)
def test_a_malformed_app_message_is_400_and_nothing_is_written(app_backend, change, fields):
    # When
    response = app_backend.post(APP_URL, {**APP_MESSAGE, **change}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)


def test_agents_cannot_post_app_messages_and_tokens_need_the_write_scope(agent, integration_user):
    # When
    by_agent = session_client(agent).post(APP_URL, APP_MESSAGE, format="json")
    by_read_token = token_client(integration_user, scopes=["conversations:read"]).post(
        APP_URL, APP_MESSAGE, format="json"
    )
    # Then
    assert_error(by_agent, 403)
    assert_error(by_read_token, 403)
    assert Message.objects.count() == 0


# --- Web form --------------------------------------------------------------------------------------


def test_a_web_form_submission_is_a_conversation_of_its_own(app_backend, integration_user, team_b):
    # Given
    bruno = make_customer(team_b, given_name="Bruno", family_name="Bianchi", email="bruno@example.org")
    # When
    response = app_backend.post(FORM_URL, FORM, format="json")
    second = app_backend.post(FORM_URL, {**FORM, "submission_id": "wpforms-88214"}, format="json")
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    message = conversation.messages.get()
    assert (conversation.channel, conversation.external_id) == (
        "web_form",
        f"{integration_user.pk}:contact-us:wpforms-88213",
    )
    assert (conversation.customer_id, conversation.contact_value, conversation.subject) == (
        bruno.pk,
        "bruno@example.org",
        "Change of address",
    )
    assert (conversation.status, conversation.queue, conversation.team_id) == ("queued", "Web form", team_b.pk)
    assert (message.author_name, message.body) == ("Bruno Bianchi", FORM["message"])
    assert message.payload == {
        "form_id": "contact-us",
        "submission_id": "wpforms-88213",
        "name": "Bruno Bianchi",
        "email": "bruno@example.org",
        "subject": "Change of address",
    }
    assert message.sent_at == dt.datetime(2025, 3, 14, 15, 45, tzinfo=dt.UTC)
    assert second.json()["conversation"] != conversation.pk


def test_the_same_submission_100_times_is_one_conversation(app_backend):
    # When
    responses = [app_backend.post(FORM_URL, FORM, format="json") for _ in range(100)]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_a_submission_without_a_valid_email_is_400(app_backend):
    # When
    response = app_backend.post(FORM_URL, {**FORM, "email": "bruno at example"}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"email"}
    assert Conversation.objects.count() == 0


def test_a_reply_to_a_web_form_goes_out_by_email(
    app_backend, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    # Given
    conversation_id = app_backend.post(FORM_URL, FORM, format="json").json()["conversation"]
    # When
    with django_capture_on_commit_callbacks(execute=False):
        reply = session_client(admin_user).post(
            f"/api/v1/engagement/conversations/{conversation_id}/reply/",
            {"body": "Done: your address is now 12 Via Roma."},
            format="json",
        )
    deliver_email_reply(reply.json()["id"])
    # Then
    assert reply.status_code == 201
    [email] = mailoutbox
    assert (email.to, email.subject, email.body) == (
        ["bruno@example.org"],
        "Re: Change of address",
        "Done: your address is now 12 Via Roma.",
    )
    assert "In-Reply-To" not in email.message()
