"""The registry of step kinds: one step type for each kind a flow step may have."""

from __future__ import annotations

from engagement.selfservice.models import StepKind
from engagement.selfservice.steps import STEP_KINDS, WaitingStep


def test_every_kind_of_step_has_one_step_type_registered_under_its_name():
    # Given: the kinds a stored step may have (the model field's choices)
    kinds = StepKind.values
    # When: the registry is read
    registered = {name: step_type.kind for name, step_type in STEP_KINDS.items()}
    # Then: each kind, and only those, under its own name
    assert registered == {kind: kind for kind in kinds}


def test_only_ask_and_menu_wait_for_the_customer():
    # When
    waiting = sorted(name for name, step_type in STEP_KINDS.items() if isinstance(step_type, WaitingStep))
    # Then
    assert waiting == [StepKind.ASK, StepKind.MENU]
