"""make run's set-up steps (cea/runtime): real commands, in an order where each finds what it needs."""

from __future__ import annotations

from django.core.management import get_commands

from cea.runtime.__main__ import SETUP_STEPS


def test_every_set_up_step_is_a_management_command():
    # Given the steps make run runs before the servers / Then each names a command Django knows
    commands = get_commands()
    assert [step[0] for step in SETUP_STEPS if step[0] not in commands] == []


def test_the_demos_insights_come_after_the_demo_data_and_the_kpi_rollups():
    # Given the order of the steps
    order = [step[0] for step in SETUP_STEPS]
    # Then the demo's insights are loaded after the schema, the data they read and the rollups
    assert order[0] == "migrate"
    assert order.index("load_demo_data") < order.index("insights_rebuild") < order.index("load_demo_insights")
