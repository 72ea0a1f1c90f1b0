"""Writing a benchmark's figures into its own section of docs/PERFORMANCE.md, leaving the others."""

from __future__ import annotations

import re
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"
HEADER = (
    "# Performance\n\nFigures written by `make bench`, each beside a baseline measured in the same run.\n"
)


def update_section(name: str, markdown: str) -> None:
    """Replace the text between ``<!-- name: start -->`` and ``<!-- name: end -->``, or append it."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    section = f"{start}\n{markdown.strip()}\n{end}"
    existing = REPORT.read_text() if REPORT.exists() else HEADER
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: section, existing)
    else:
        updated = existing.rstrip() + "\n\n" + section
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(updated.rstrip() + "\n")
