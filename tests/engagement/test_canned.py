"""Canned responses and macros: variables checked on save and filled on use, shared per team and
personal, the API across roles and teams, and a macro's note and wrap-up code."""

from __future__ import annotations

import pytest

from engagement.canned.models import CannedResponse
from engagement.canned.services import canned_apply, canned_create
from engagement.canned.variables import Fill, fill, unknown_variables
from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.conversations.models import Message
from engagement.routing.models import WrapUpCode
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import on_desk
from tests.records.factories import CustomerFactory
from tests.support import session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

API = "/api/v1/engagement/canned-responses/"


@pytest.fixture
def supervisor_b(team_b):
    return UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])


@pytest.fixture
def ada(team_a):
    return CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace", email="ada@example.com")


@pytest.fixture
def greeting(supervisor, team_a):
    return canned_create(
        actor=supervisor,
        team=team_a,
        title="Greeting",
        shortcut="hello",
        body="Hello {{customer.first_name}}, I am {{agent.first_name}} (ref {{conversation.id}}).",
    )


@pytest.fixture
def refund_macro(supervisor, team_a):
    code = WrapUpCode.objects.get_or_create(code="refund", defaults={"label": "Refund agreed"})[0]
    return canned_create(
        actor=supervisor,
        team=team_a,
        title="Refund",
        shortcut="refund",
        body="Your refund for order {{context.order_id}} is on its way.",
        note="Refund promised by {{agent.full_name}}.",
        wrap_up_code=code,
    )


# --- Variables ------------------------------------------------------------------------------------


def test_unknown_variables_are_named_and_known_ones_pass():
    # Given a text with known variables, a context key and two unknown names
    text = "Hi {{customer.first_name}} {{ context.order_id }} {{customer.password}} {{agent.first_name}} {{x}}"
    # When it is checked
    unknown = unknown_variables(text)
    # Then only the unknown names are reported, in order
    assert unknown == ["customer.password", "x"]


def test_fill_replaces_values_and_leaves_missing_ones_as_written(ada, agent):
    # Given a customer and an agent but no context value
    values = Fill(agent=agent, customer=ada, context={"plan": {"tier": "gold"}})
    # When a text is filled
    filled = fill("Dear {{customer.full_name}}, {{context.order_id}} / {{ context.plan }}", values)
    # Then known values are put in, the missing one stays and is reported
    assert filled.text == 'Dear Ada Lovelace, {{context.order_id}} / {"tier": "gold"}'
    assert filled.missing == ["context.order_id"]


# --- Services -------------------------------------------------------------------------------------


def test_a_shared_text_with_an_unknown_variable_is_refused_with_the_field(supervisor, team_a):
    # When a supervisor saves a text with a typo in a variable
    from cea.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        canned_create(actor=supervisor, team=team_a, title="T", shortcut="t", body="Hi {{customer.frist_name}}")
    # Then the body is named with the unknown variable, and nothing is saved
    assert refused.value.fields == {"body": ["Unknown variable(s): {{customer.frist_name}}."]}
    assert CannedResponse.objects.count() == 0


def test_an_agent_cannot_create_a_shared_text(agent, team_a):
    from cea.common.errors import PermissionDenied

    # When an agent tries to make a text for the team
    with pytest.raises(PermissionDenied):
        canned_create(actor=agent, team=team_a, title="T", shortcut="t", body="Hi")
    # Then nothing is saved
    assert CannedResponse.objects.count() == 0


def test_a_supervisor_cannot_create_a_text_for_another_team(supervisor, team_b):
    from cea.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        canned_create(actor=supervisor, team=team_b, title="T", shortcut="t", body="Hi")
    assert CannedResponse.objects.count() == 0


def test_applying_fills_the_variables_from_the_conversation(agent, ada, greeting):
    # Given Ada's conversation on the agent's desk
    conversation = on_desk(agent, customer=ada)
    # When the agent applies the greeting
    applied = canned_apply(actor=agent, canned_id=greeting.pk, conversation=conversation)
    # Then every variable is filled and nothing is written
    assert applied.text == f"Hello Ada, I am {agent.first_name} (ref {conversation.pk})."
    assert applied.missing == []
    assert applied.note is None
    assert applied.wrap_up_code is None


def test_a_macro_adds_its_note_and_names_its_wrap_up_code(agent, ada, refund_macro):
    # Given a conversation whose context holds the order number
    conversation = on_desk(agent, customer=ada)
    context_write(
        actor=None, scope=ContextScope.CONVERSATION, context_id=conversation.pk, values={"order_id": "A-1001"}
    )
    # When the agent applies the refund macro
    applied = canned_apply(actor=agent, canned_id=refund_macro.pk, conversation=conversation)
    # Then the text has the order, the note is an internal message, and the wrap-up code is named
    assert applied.text == "Your refund for order A-1001 is on its way."
    note = Message.objects.get(pk=applied.note.pk)
    assert (note.internal, note.body, note.payload["event"]) == (
        True,
        f"Refund promised by {agent.get_full_name()}.",
        "note",
    )
    assert applied.wrap_up_code.code == "refund"


def test_a_macro_note_is_refused_to_an_agent_not_handling_the_conversation(agent, ada, refund_macro, team_a):
    from cea.common.errors import PermissionDenied

    # Given Ada's conversation with another agent of the same team
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    conversation = on_desk(colleague, customer=ada)
    # When the agent (who sees it) applies the macro with a note
    with pytest.raises(PermissionDenied):
        canned_apply(actor=agent, canned_id=refund_macro.pk, conversation=conversation)
    # Then no note is added
    assert not conversation.messages.filter(internal=True).exists()


# --- API ------------------------------------------------------------------------------------------


def test_an_agent_lists_their_own_and_their_teams_texts_not_another_teams(
    agent, agent_b, supervisor_b, team_b, greeting
):
    # Given a personal text of the agent, one of agent B, and a shared text of team B
    canned_create(actor=agent, title="Mine", shortcut="mine", body="Mine")
    canned_create(actor=agent_b, title="B's", shortcut="bees", body="B")
    canned_create(actor=supervisor_b, team=team_b, title="Team B", shortcut="teamb", body="B team")
    # When the agent lists
    response = session_client(agent).get(API)
    # Then they get their own first, then their team's; nothing of team B's
    assert response.status_code == 200
    assert [(row["shortcut"], row["personal"]) for row in response.json()] == [("mine", True), ("hello", False)]


def test_an_agent_creates_a_personal_text_through_the_api(agent):
    # When an agent posts a text without a team
    response = session_client(agent).post(
        API, {"title": "Bye", "shortcut": "bye", "body": "Bye {{customer.first_name}}"}, format="json"
    )
    # Then it is theirs
    assert response.status_code == 201
    assert response.json()["personal"] is True
    assert CannedResponse.objects.get(shortcut="bye").owner == agent


def test_the_api_refuses_an_unknown_variable_with_a_field_error(agent):
    response = session_client(agent).post(
        API, {"title": "Bad", "shortcut": "bad", "body": "{{agent.salary}}"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": ["Unknown variable(s): {{agent.salary}}."]}


def test_a_shortcut_twice_for_one_owner_is_refused(agent):
    client = session_client(agent)
    client.post(API, {"title": "A", "shortcut": "same", "body": "A"}, format="json")
    # When the same shortcut is posted again
    response = client.post(API, {"title": "B", "shortcut": "same", "body": "B"}, format="json")
    # Then it is a conflict naming the shortcut, and one row exists
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "shortcut_taken"
    assert "shortcut" in response.json()["error"]["fields"]
    assert CannedResponse.objects.filter(shortcut="same").count() == 1


def test_an_agent_of_team_b_cannot_read_change_or_apply_team_as_text(agent_b, greeting, ada, agent):
    client = session_client(agent_b)
    # When agent B reads, changes and applies team A's greeting
    read = client.get(f"{API}{greeting.pk}/")
    changed = client.patch(f"{API}{greeting.pk}/", {"body": "Hacked"}, format="json")
    conversation = on_desk(agent, customer=ada)
    applied = client.post(f"{API}{greeting.pk}/apply/", {"conversation": conversation.pk}, format="json")
    # Then every one is refused and the text is unchanged
    assert (read.status_code, changed.status_code, applied.status_code) == (403, 403, 403)
    greeting.refresh_from_db()
    assert greeting.body.startswith("Hello")


def test_an_agent_cannot_apply_their_text_to_another_teams_conversation(agent, agent_b, team_b):
    # Given agent B's conversation with a team B customer
    conversation = on_desk(agent_b, customer=CustomerFactory(team=team_b))
    mine = canned_create(actor=agent, title="Mine", shortcut="mine", body="Hi {{customer.first_name}}")
    # When agent A applies their own text to it
    response = session_client(agent).post(f"{API}{mine.pk}/apply/", {"conversation": conversation.pk}, format="json")
    # Then it is refused (the customer's name is not revealed)
    assert response.status_code == 403


def test_an_agent_reads_but_cannot_change_a_shared_text(agent, greeting):
    client = session_client(agent)
    assert client.get(f"{API}{greeting.pk}/").status_code == 200
    response = client.patch(f"{API}{greeting.pk}/", {"body": "Changed"}, format="json")
    assert response.status_code == 403


def test_a_personal_text_is_not_visible_to_a_colleague(agent, team_a):
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    mine = canned_create(actor=agent, title="Mine", shortcut="mine", body="Mine")
    assert session_client(colleague).get(f"{API}{mine.pk}/").status_code == 403
    assert session_client(colleague).delete(f"{API}{mine.pk}/").status_code == 403
    assert CannedResponse.objects.filter(pk=mine.pk).exists()


def test_the_supervisor_changes_and_deletes_their_teams_text(supervisor, greeting):
    client = session_client(supervisor)
    changed = client.patch(f"{API}{greeting.pk}/", {"title": "Welcome"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["title"] == "Welcome"
    assert client.delete(f"{API}{greeting.pk}/").status_code == 204
    assert not CannedResponse.objects.filter(pk=greeting.pk).exists()


def test_apply_through_the_api_returns_the_filled_text_and_the_macros_parts(agent, ada, refund_macro):
    conversation = on_desk(agent, customer=ada)
    # When the agent applies the macro (no order id in the context)
    response = session_client(agent).post(
        f"{API}{refund_macro.pk}/apply/", {"conversation": conversation.pk}, format="json"
    )
    # Then the text keeps the variable, names it missing, and the macro's parts are returned
    body = response.json()
    assert response.status_code == 200
    assert body["text"] == "Your refund for order {{context.order_id}} is on its way."
    assert body["missing"] == ["context.order_id"]
    assert body["wrap_up_code"] == "refund"
    assert Message.objects.get(pk=body["note"]).internal is True


def test_integration_clients_are_refused(integration_user):
    response = token_client(integration_user).get(API)
    assert response.status_code == 403
