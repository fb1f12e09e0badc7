"""Every environment variable the settings read is in the README's configuration table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = {"env_bool", "env_int", "env_list", "env_optional", "env_str", "env_url", "env_rate"}


def _variables_read_by_settings() -> set[str]:
    tree = ast.parse((ROOT / "cea" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def _variables_in_the_readme_table() -> set[str]:
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_variable_the_settings_read_is_in_the_readme():
    # Given / When
    read = _variables_read_by_settings()
    documented = _variables_in_the_readme_table()
    # Then
    assert len(read) > 40  # the parser found the settings' readers
    assert sorted(read - documented) == []
