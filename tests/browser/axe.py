"""axe-core in the page: run the WCAG 2 A/AA rules and report serious or critical violations.

The minified axe-core is vendored under tests/browser/vendor (no CDN): injected with
`page.add_script_tag(content=...)`, which CDP allows even under a strict page CSP.
"""

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
BLOCKING = ("serious", "critical")
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page: Page) -> list[str]:
    """One line per serious or critical violation: rule, impact, the first offending nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_source())
    result = page.evaluate("options => window.axe.run(document, options)", OPTIONS)
    lines = []
    for violation in result["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
        lines.append(f"{page.url}: {violation['id']} ({violation['impact']}) at {targets}")
    return lines
