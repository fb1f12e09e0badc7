"""Supervisor-written ask patterns: bounded when a flow is saved and when a customer's answer is matched."""

from __future__ import annotations

import pytest

from cea.common.errors import ValidationFailed
from engagement.selfservice.models import Flow, FlowStep
from engagement.selfservice.services import flow_save
from engagement.selfservice.words import DEFAULT_ASK_ERROR
from tests.engagement.selfservice_support import chat, flow_post, says
from tests.support import finished_within

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]

# Each ``a`` can be matched two ways, so a backtracking engine tries exponentially many ways to
# match 40 of them before it finds that the ``!`` fails the whole answer: with Python's ``re``
# that is hours of one worker's CPU.
BACKTRACKING = "^(a|aa)*$"
HOSTILE_ANSWER = "a" * 40 + "!"
TOO_SLOW = (
    "pattern takes too long to match some answers: repetition inside repetition, such as (a+)+ or "
    "(a|aa)*, can take exponential time. Write it so that each character can be matched only one way."
)


REFERENCE_FLOW = {"name": "Reference", "intent": "reference", "trigger_phrases": "my reference", "menu_key": "5"}


def ask_steps(pattern: str) -> list[dict]:
    return [
        {
            "key": "ask",
            "kind": "ask",
            "prompt": "Your reference?",
            "options": {"variable": "reference", "pattern": pattern, "retries": 1},
            "next_step": "thanks",
        },
        {"key": "thanks", "kind": "say", "prompt": "Thanks, {reference} noted."},
    ]


def numbered(steps: list[dict]) -> list[dict]:
    """``steps`` with the positions the console's form asks for."""
    return [{**step, "position": (index + 1) * 10} for index, step in enumerate(steps)]


@pytest.fixture
def console(client, admin_user):
    """Flows are global configuration: administrators edit them in the console."""
    client.force_login(admin_user)
    return client


# --- When a flow is saved ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (BACKTRACKING, TOO_SLOW),
        ("^([0-9]|[0-9]{2})*$", TOO_SLOW),
        ("[0-9]" * 50, "pattern is at most 200 characters (this one has 250)."),
    ],
)
def test_the_console_refuses_a_pattern_that_could_hang_a_worker(console, pattern, problem):
    # When
    response = console.post("/admin/engagement/flow/add/", flow_post(numbered(ask_steps(pattern)), **REFERENCE_FLOW))
    # Then
    assert response.status_code == 200, "the form was accepted"
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors == {"options": [problem]}
    assert Flow.objects.count() == 0


def test_the_service_names_the_refused_pattern_and_its_step():
    # When
    with pytest.raises(ValidationFailed) as refused:
        flow_save(name="Reference", intent="reference", steps=ask_steps(BACKTRACKING))
    # Then
    assert refused.value.fields == {"steps": [f"Step 'ask' (options): {TOO_SLOW}"]}
    assert Flow.objects.count() == 0


def test_a_plain_pattern_is_still_saved_and_matched():
    # Given
    flow_save(name="Reference", intent="reference", menu_key="5", steps=ask_steps("^[A-Z]{2}-?[0-9]{4}$"))
    conversation = chat()
    says(conversation, "5")
    # When
    reply = says(conversation, "AB-1234")
    # Then
    assert reply.prompts[0] == "Thanks, AB-1234 noted."


# --- When a customer answers ---------------------------------------------------------------------

ENGINE_AT_THE_ASK = """
from engagement.selfservice.definition import FlowDef, StepDef
from engagement.selfservice.engine import Engine
from engagement.selfservice.session import Mode, SessionState
from tests.engagement.test_selfservice_patterns import BACKTRACKING, HOSTILE_ANSWER
options = {"variable": "reference", "pattern": BACKTRACKING}
steps = {"ask": StepDef(key="ask", kind="ask", prompt="Your reference?", options=options)}
flow = FlowDef(
    name="Reference", intent="reference", queue="", menu_key="5", trigger_phrases=(), steps=steps, first="ask"
)
engine = Engine(
    flows=[flow], state=SessionState(flow="reference", step="ask", greeted=True), answers={}, intent="",
    mode=Mode.TEXT, facts={}, lookup=lambda name, inputs: {}, knowledge=lambda text: None,
)
"""


def test_an_answer_to_a_pattern_saved_before_the_checks_is_refused_within_a_generous_deadline():
    # When: the engine, waiting at an ask step whose pattern backtracks, gets the hostile answer;
    # 5 s is many times the matching's own time bound
    replies = finished_within(5, setup=ENGINE_AT_THE_ASK, work="engine.handle(HOSTILE_ANSWER).replies")
    # Then: the answer is refused and asked again
    assert replies == repr([DEFAULT_ASK_ERROR, "Your reference?"])


def test_a_chat_answer_to_such_a_pattern_is_refused_and_the_flow_named_in_the_log(caplog):
    # Given: a flow stored with a backtracking pattern (as before the checks existed)
    flow = Flow.objects.create(name="Reference", intent="reference", menu_key="5", trigger_phrases="my reference")
    for position, step in enumerate(ask_steps(BACKTRACKING), start=1):
        FlowStep.objects.create(flow=flow, position=position * 10, **step)
    conversation = chat()
    says(conversation, "5")
    # When
    reply = says(conversation, HOSTILE_ANSWER)
    # Then
    assert reply.prompts == [DEFAULT_ASK_ERROR, "Your reference?"]
    assert [r.getMessage() for r in caplog.records if r.name == "engagement.selfservice.engine"] == [
        "The pattern of step 'ask' of flow 'Reference' could not be matched within 0.1 s; the answer is refused."
    ]
