"""Vendored front-end files are the pinned releases static/vendor/README.md says they are."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
# | library | version | `file` | from | `sha256` |
ROW = re.compile(
    r"^\|[^|]+\|\s*(?P<version>[\w.-]+)\s*\|\s*`(?P<file>[^`]+)`\s*\|[^|]+\|\s*`(?P<sha256>[0-9a-f]{64})`\s*\|$"
)


def _rows() -> list[re.Match[str]]:
    return [m for line in (VENDOR / "README.md").read_text().splitlines() if (m := ROW.match(line))]


def test_every_vendored_file_is_listed_with_its_version_and_checksum():
    # Given: the table and the folder
    rows = _rows()
    listed = {row["file"] for row in rows}
    # Then: each file matches its checksum and lives in a folder named with its version
    assert rows, "static/vendor/README.md lists no library"
    for row in rows:
        path = VENDOR / row["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"], row["file"]
        assert path.parent.name.endswith(f"-{row['version']}"), row["file"]
    # and no script or stylesheet in static/vendor is missing from the table
    present = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.suffix in (".js", ".css")}
    assert present == listed
