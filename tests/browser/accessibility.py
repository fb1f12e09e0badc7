"""axe-core's audit in the browser tests (axe-playwright-python): WCAG 2 A and AA rules, fail on any violation."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_2_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_axe = Axe()


def accessibility_violations(page, *, within: str | None = None) -> list[dict]:
    """axe-core's violations of the WCAG 2 A/AA rules on ``page`` (or in the element ``within`` selects)."""
    results = _axe.run(
        page,
        context=within,
        options={"runOnly": {"type": "tag", "values": WCAG_2_A_AA}, "resultTypes": ["violations"]},
    )
    return results.response["violations"]


def assert_accessible(page, *, within: str | None = None) -> None:
    """No WCAG 2 A/AA violation on ``page``; else fail with each rule, its impact and the elements it found."""
    violations = accessibility_violations(page, within=within)
    lines = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        for violation in violations
    ]
    assert not violations, "Accessibility violations (axe-core, WCAG 2 A/AA):\n" + "\n".join(lines)
