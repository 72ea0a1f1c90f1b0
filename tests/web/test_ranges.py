"""HTTP byte ranges: the one range a Range header asks of an object, or the whole object."""

from __future__ import annotations

import pytest

from openbwv.web.ranges import ByteRange, UnsatisfiableRange, requested_range


class TestRequestedRange:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("bytes=0-0", ByteRange(0, 1, 100)),
            ("bytes=10-19", ByteRange(10, 20, 100)),
            ("bytes=90-", ByteRange(90, 100, 100)),
            ("bytes=90-500", ByteRange(90, 100, 100)),
            ("bytes=-10", ByteRange(90, 100, 100)),
            ("bytes=-500", ByteRange(0, 100, 100)),
            ("BYTES = 5 - 6", ByteRange(5, 7, 100)),
        ],
    )
    def test_one_range(self, header: str, expected: ByteRange) -> None:
        assert requested_range(header, 100) == expected

    @pytest.mark.parametrize(
        "header", [None, "", "items=0-1", "bytes=0-1,5-6", "bytes=-", "bytes=9-3", "bytes=a-b"]
    )
    def test_the_whole_object_when_the_header_asks_for_no_one_range(self, header: str | None) -> None:
        assert requested_range(header, 100) is None

    @pytest.mark.parametrize(
        ("header", "size"), [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
    )
    def test_a_range_past_the_end_is_unsatisfiable(self, header: str, size: int) -> None:
        with pytest.raises(UnsatisfiableRange):
            requested_range(header, size)

    def test_content_range_names_the_last_byte(self) -> None:
        wanted = ByteRange(10, 20, 100)
        assert (wanted.length, wanted.content_range) == (10, "bytes 10-19/100")
