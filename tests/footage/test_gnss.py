from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openbwv.footage.gnss import MAX_TRACK_BYTES, Fix, InvalidTrack, clip_track, parse_track

START = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)


def _entry(wkt: Any = "POINT(-1.8904 52.4862)", stamp: Any = "2026-11-26T07:30:00Z") -> dict[str, Any]:
    return {"LocationWKT": wkt, "SecondsFromStart": 0.0, "Timestamp": stamp}


def _track(*entries: Any) -> bytes:
    return json.dumps({"CoordinateEntries": list(entries)}).encode()


class TestParseTrack:
    def test_reads_the_location_file_longitude_first_in_time_order(self) -> None:
        data = _track(
            _entry("POINT(-1.8906 52.4863)", "2026-11-26T07:30:01Z"),
            _entry("Point( -1.8904   52.4862 )", "2026-11-26T07:30:00+00:00"),
        )
        assert parse_track(data) == [
            Fix(at=START, latitude=52.4862, longitude=-1.8904),
            Fix(at=START + timedelta(seconds=1), latitude=52.4863, longitude=-1.8906),
        ]

    def test_an_empty_track_has_no_fixes(self) -> None:
        assert parse_track(_track()) == []

    @pytest.mark.parametrize(
        ("data", "says"),
        [
            (b"\xff\xfe not json", "not JSON"),
            (b"[" * 100_000, "not JSON"),
            (b"[]", "no CoordinateEntries list"),
            (b'{"CoordinateEntries": {}}', "no CoordinateEntries list"),
            (_track("fix"), "entry 0 is not an object"),
            (_track(_entry(), _entry(wkt="LINESTRING(1 2, 3 4)")), "entry 1: LocationWKT is not a WKT point"),
            (_track(_entry(wkt=None)), "entry 0: LocationWKT is not a WKT point"),
            (_track(_entry(wkt="POINT(east north)")), "not numbers"),
            (_track(_entry(wkt="POINT(nan 52)")), "not finite"),
            (_track(_entry(wkt="POINT(52.4862 -181)")), "not a longitude and latitude"),
            (_track(_entry(wkt="POINT(200 52)")), "not a longitude and latitude"),
            (_track(_entry(stamp=None)), "entry 0: Timestamp is not an RFC 3339 time"),
            (_track(_entry(stamp=1764142200)), "Timestamp is not an RFC 3339 time"),
            (b" " * (MAX_TRACK_BYTES + 1), "more than"),
        ],
    )
    def test_anything_else_is_refused_saying_why(self, data: bytes, says: str) -> None:
        with pytest.raises(InvalidTrack, match=says):
            parse_track(data)


class TestClipTrack:
    FIXES = [Fix(START + timedelta(seconds=s), 52.0 + s, -1.0) for s in (-1, 0, 1.5, 2, 3)]

    def test_keeps_the_fixes_within_the_clip_as_seconds_from_its_start(self) -> None:
        assert clip_track(self.FIXES, start=START, stop=START + timedelta(seconds=2)) == [
            [0.0, 52.0, -1.0],
            [1.5, 53.5, -1.0],
        ]

    def test_without_a_stop_keeps_everything_from_the_start(self) -> None:
        track = clip_track(self.FIXES, start=START + timedelta(seconds=2), stop=None)
        assert track == [[0.0, 54.0, -1.0], [1.0, 55.0, -1.0]]

    def test_no_fix_within_the_clip_is_no_track(self) -> None:
        assert clip_track(self.FIXES, start=START + timedelta(hours=1), stop=None) is None
