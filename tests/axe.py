"""axe-core, installed from the npm registry by the set-up (``npm ci``), run in a page under test:
the serious and critical accessibility violations it finds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page) -> list[str]:
    """Each serious or critical violation on ``page`` as "rule: first offending element". The
    script is evaluated through the browser's debugging protocol, which the page's Content Security
    Policy does not govern, so the page runs under its real policy."""
    if not AXE.is_file():
        raise RuntimeError(f"{AXE} is missing: run `npm ci` to install axe-core")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']}: {v['nodes'][0]['target'] if v['nodes'] else ''}"
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]
