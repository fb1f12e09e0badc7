"""The console for self-service: flows with their steps checked on save, knowledge articles."""

from __future__ import annotations

import json

import pytest

from engagement.selfservice.models import Flow, KnowledgeArticle
from engagement.selfservice.selectors import knowledge_search
from engagement.selfservice.services import flow_save
from tests.engagement.selfservice_support import flow_post

pytestmark = pytest.mark.django_db

ADD_FLOW = "/admin/engagement/flow/add/"


ASK = {
    "position": 10,
    "key": "ask-order",
    "kind": "ask",
    "prompt": "Your order number?",
    "options": {"variable": "order_number", "pattern": "^[0-9]{6}$"},
    "next_step": "look-up",
}
LOOKUP = {
    "position": 20,
    "key": "look-up",
    "kind": "lookup",
    "prompt": "It is {order.status}.",
    "options": {"lookup": "order_status", "inputs": {"order_number": "order_number"}, "result": "order"},
    "next_step": "done",
}
END = {"position": 30, "key": "done", "kind": "end", "prompt": "Goodbye!"}


def step_errors(response) -> list[dict]:
    assert response.status_code == 200, "the form was accepted"
    formset = response.context["inline_admin_formsets"][0].formset
    return [dict(form.errors) for form in formset.forms]


@pytest.fixture
def console(client, admin_user):
    # Flows and articles are global configuration: administrators edit them (supervisors read).
    client.force_login(admin_user)
    return client


def test_an_admin_adds_a_flow_with_its_steps(console):
    # When
    response = console.post(ADD_FLOW, flow_post([ASK, LOOKUP, END]))
    # Then
    assert response.status_code == 302, response.context and response.context["errors"]
    flow = Flow.objects.get(intent="order_status")
    assert [(s.key, s.kind, s.next_step) for s in flow.steps.all()] == [
        ("ask-order", "ask", "look-up"),
        ("look-up", "lookup", "done"),
        ("done", "end", ""),
    ]


def test_step_keys_are_unique(console):
    response = console.post(ADD_FLOW, flow_post([ASK, {**END, "key": "ask-order"}]))
    errors = step_errors(response)
    assert errors[1]["key"] == ["Another step already uses the key 'ask-order'."]
    assert Flow.objects.count() == 0


def test_targets_must_exist(console):
    response = console.post(ADD_FLOW, flow_post([ASK, END]))
    errors = step_errors(response)
    assert errors[0] == {"next_step": ["There is no step with the key 'look-up' in this flow."]}


def test_options_have_the_shape_of_their_kind(console):
    # Given: a menu without choices, a look-up of an unknown back-end, an ask with a bad pattern
    menu = {"position": 10, "key": "pick", "kind": "menu", "prompt": "Pick", "options": {"choice": []}}
    lookup = {**LOOKUP, "position": 20, "options": {"lookup": "horoscope"}}
    ask = {**ASK, "position": 30, "key": "ask", "options": {"variable": "Order Number", "pattern": "(["}}
    # When
    errors = step_errors(console.post(ADD_FLOW, flow_post([menu, lookup, ask, END])))
    # Then
    assert errors[0]["options"] == [
        "Unknown option(s) for a menu step: choice (allowed: choices, retries, variable).",
        'A menu needs choices: [{"key": "1", "label": "…", "next": "step"}].',
    ]
    assert errors[1]["options"] == [
        "There is no look-up 'horoscope' (known: balance, case_status, order_status).",
    ]
    assert errors[2]["options"][0] == "An ask step needs a variable: lower-case letters, digits and _."
    assert errors[2]["options"][1].startswith("pattern is not a valid regular expression:")


def test_menu_choices_are_checked_one_by_one(console):
    menu = {
        "position": 10,
        "key": "pick",
        "kind": "menu",
        "prompt": "Pick",
        "options": {
            "choices": [
                {"key": "1", "label": "Track", "next": "done"},
                {"key": "1", "label": "Change", "next": "nowhere"},
                {"key": "0", "label": "Agent", "next": "done"},
            ]
        },
    }
    errors = step_errors(console.post(ADD_FLOW, flow_post([menu, END])))
    assert errors[0]["options"] == [
        "Choice 2: the key '1' is used twice.",
        "Choice 2's next: there is no step with the key 'nowhere' in this flow.",
        "Choice 3: the key is a digit 1-9 (or two digits, or #).",
    ]


def test_every_step_must_be_reachable_from_the_first(console):
    # Given: the look-up leads to the end, but nothing leads to the look-up
    ask = {**ASK, "next_step": "done"}
    errors = step_errors(console.post(ADD_FLOW, flow_post([ask, LOOKUP, END])))
    assert errors[1] == {"key": ["No step leads here: it cannot be reached from the first step 'ask-order'."]}


def test_the_first_step_is_the_lowest_position(console):
    # Given: the rows in another order than their positions
    response = console.post(ADD_FLOW, flow_post([END, LOOKUP, ASK]))
    assert response.status_code == 302
    assert [s.key for s in Flow.objects.get().steps.all()] == ["ask-order", "look-up", "done"]


def test_a_flow_needs_steps_and_ends_have_no_next_step(console):
    empty = console.post(ADD_FLOW, flow_post([]))
    assert empty.status_code == 200
    assert list(empty.context["inline_admin_formsets"][0].formset.non_form_errors()) == [
        "A flow needs at least one step."
    ]
    errors = step_errors(console.post(ADD_FLOW, flow_post([{**END, "next_step": "done"}])))
    assert errors[0] == {"next_step": ["A end step finishes the flow: leave the next step empty."]}


def test_the_menu_key_is_free_and_not_reserved(console):
    # Given
    flow_save(name="Balance", intent="balance", menu_key="1", steps=[{"key": "done", "kind": "end"}])
    # When
    taken = console.post(ADD_FLOW, flow_post([ASK, LOOKUP, END]))
    reserved = console.post(ADD_FLOW, flow_post([ASK, LOOKUP, END], menu_key="0"))
    # Then
    assert taken.context["adminform"].form.errors["menu_key"] == ["Another active flow already has the menu key '1'."]
    assert reserved.context["adminform"].form.errors["menu_key"] == [
        "0 asks for an agent and * goes back to the menu: pick another key."
    ]


def test_an_agent_may_not_configure_flows(client, agent):
    client.force_login(agent)
    assert client.get(ADD_FLOW).status_code in (302, 403)
    assert client.post(ADD_FLOW, flow_post([ASK, LOOKUP, END])).status_code in (302, 403)
    assert Flow.objects.count() == 0


def test_an_article_saved_in_the_console_is_searchable(console):
    # When
    response = console.post(
        "/admin/engagement/knowledgearticle/add/",
        {
            "title": "When are you open?",
            "keywords": "",
            "body": "Our hours are 8am to 8pm.",
            "language": "english",
            "is_published": "on",
        },
    )
    # Then
    assert response.status_code == 302
    assert [a.title for a in knowledge_search(text="opening hours")] == ["When are you open?"]
    found = console.get("/admin/engagement/knowledgearticle/", {"q": "opening hours"})
    assert [a.title for a in found.context["cl"].result_list] == ["When are you open?"]


def test_an_article_in_an_unknown_language_is_refused(console):
    response = console.post(
        "/admin/engagement/knowledgearticle/add/",
        {"title": "Hours", "keywords": "", "body": "Open.", "language": "klingon", "is_published": "on"},
    )
    assert response.status_code == 200
    assert (
        response.context["adminform"]
        .form.errors["language"][0]
        .startswith("'klingon' is not a PostgreSQL text search configuration")
    )
    assert KnowledgeArticle.objects.count() == 0


def test_the_console_lists_flows_and_opens_one_with_its_steps(console):
    # Given
    flow = flow_save(
        name="Hours",
        intent="opening_hours",
        menu_key="2",
        steps=[{"key": "answer", "kind": "knowledge", "next_step": "done"}, {"key": "done", "kind": "end"}],
    )
    # When
    listed = console.get("/admin/engagement/flow/")
    opened = console.get(f"/admin/engagement/flow/{flow.pk}/change/")
    # Then
    assert [(f.name, f.step_total) for f in listed.context["cl"].result_list] == [("Hours", 2)]
    assert opened.status_code == 200
    forms = opened.context["inline_admin_formsets"][0].formset.forms
    assert [form.instance.key for form in forms] == ["answer", "done"]
    assert console.get(ADD_FLOW).status_code == 200


def test_a_step_deleted_in_the_console_leaves_a_flow_that_must_still_hold_together(console):
    # Given: ask → look-up → end
    flow = flow_save(
        name="Order status",
        intent="order_status",
        steps=[{k: v for k, v in step.items() if k != "position"} for step in (ASK, LOOKUP, END)],
    )
    steps = list(flow.steps.all())
    data = flow_post([], menu_key="", queue="", trigger_phrases="")
    data.update({"steps-TOTAL_FORMS": "3", "steps-INITIAL_FORMS": "3"})
    for index, step in enumerate(steps):
        data.update(
            {
                f"steps-{index}-id": str(step.pk),
                f"steps-{index}-flow": str(flow.pk),
                f"steps-{index}-position": str(step.position),
                f"steps-{index}-key": step.key,
                f"steps-{index}-kind": step.kind,
                f"steps-{index}-prompt": step.prompt,
                f"steps-{index}-options": json.dumps(step.options),
                f"steps-{index}-next_step": step.next_step,
            }
        )
    # When: the look-up is deleted, so the ask points at nothing
    refused = console.post(f"/admin/engagement/flow/{flow.pk}/change/", {**data, "steps-1-DELETE": "on"})
    # And when the ask is pointed at the end as well
    accepted = console.post(
        f"/admin/engagement/flow/{flow.pk}/change/", {**data, "steps-1-DELETE": "on", "steps-0-next_step": "done"}
    )
    # Then
    assert step_errors(refused)[0] == {"next_step": ["There is no step with the key 'look-up' in this flow."]}
    assert accepted.status_code == 302
    assert [(s.key, s.next_step) for s in flow.steps.all()] == [("ask-order", "done"), ("done", "")]
