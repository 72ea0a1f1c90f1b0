"""CSV that is safe to open in a spreadsheet: every CSV export is written by ``to_csv``.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking) is run as a formula by Excel and LibreOffice; a name typed as
``=HYPERLINK(...)`` would then act on the reader's machine. Such cells get a leading ``'``, which
spreadsheets show as text, and ``unescape_cell`` removes it again when an export is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    """The cell's text, with a leading ``'`` if a spreadsheet would otherwise run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell``, so that an exported file imports the values it was made from."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV document with every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([escape_cell(h) for h in header])
    writer.writerows([escape_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
