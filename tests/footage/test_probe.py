from __future__ import annotations

from pathlib import Path

from openbwv.footage.probe import parse_gps, probe_file
from tests.footage.helpers import make_video


class TestParseGps:
    def test_reads_the_track_tag(self) -> None:
        assert parse_gps({"gps_track": "0,52.4862,-1.8904; 1.5,52.4863,-1.8905"}) == [
            [0.0, 52.4862, -1.8904],
            [1.5, 52.4863, -1.8905],
        ]

    def test_skips_samples_that_are_not_fixes(self) -> None:
        assert parse_gps({"gps_track": "0,52.4,-1.8;x,1,2;1,95,0;2,1"}) == [[0.0, 52.4, -1.8]]

    def test_falls_back_to_an_iso_6709_location(self) -> None:
        assert parse_gps({"location": "+52.4862-001.8904/"}) == [[0.0, 52.4862, -1.8904]]

    def test_no_track(self) -> None:
        assert parse_gps({}) is None
        assert parse_gps({"gps_track": "garbage"}) is None


class TestProbeFile:
    def test_a_truncated_file_is_an_error_not_an_exception(self, tmp_path: Path) -> None:
        data = make_video(tmp_path / "whole.mp4", seconds=1.0)
        cut = tmp_path / "cut.mp4"
        cut.write_bytes(data[: len(data) // 3])
        result = probe_file(str(cut))
        assert result.error is not None and result.poster_jpeg is None
