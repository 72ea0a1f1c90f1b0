from __future__ import annotations

import pytest

from openbwv.spreadsheet import escape_cell, to_csv, unescape_cell


class TestEscapeCell:
    @pytest.mark.parametrize("text", ["=1+2", "+1", "-2", "@SUM(A1)", "\tTab", "\rReturn"])
    def test_a_cell_a_spreadsheet_would_run_becomes_text(self, text: str) -> None:
        assert escape_cell(text) == "'" + text
        assert unescape_cell(escape_cell(text)) == text

    @pytest.mark.parametrize("text", ["Amira Ahmed", "1-2", "", "'quoted", "O'Neill"])
    def test_other_cells_are_unchanged(self, text: str) -> None:
        assert escape_cell(text) == text
        assert unescape_cell(text) == text


def test_to_csv_escapes_every_cell() -> None:
    assert to_csv(["name", "n"], [["=1", None], ["x", -3]]) == "name,n\n'=1,\nx,'-3\n"
