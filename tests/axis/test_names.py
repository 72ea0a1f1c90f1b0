"""What the API's names and metadata headers mean."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openbwv.axis import names
from openbwv.axis.names import Unstorable


class TestRecordingName:
    def test_reads_user_camera_and_trigger_time(self) -> None:
        parsed = names.recording_name("user_with_underscores_B8A44F000001_20261126T073000Z")
        assert parsed.user_id == "user_with_underscores"
        assert parsed.camera_serial == "B8A44F000001"
        assert parsed.triggered_at == datetime(2026, 11, 26, 7, 30, tzinfo=UTC)

    @pytest.mark.parametrize("name", ["_B8A4_20261126T073000Z", "u_B8A4_20261126", "u__20261126T073000Z"])
    def test_refuses_a_name_missing_a_part(self, name: str) -> None:
        with pytest.raises(Unstorable):
            names.recording_name(name)


class TestObjectKind:
    @pytest.mark.parametrize(
        ("name", "meta", "kind"),
        [
            ("1661255290_42.mkv", {}, "clip"),
            ("1661255290_42.MP4", {}, "clip"),
            ("1661255290_42.key", {"FileType": "key"}, "key"),
            ("20220823_114810_42_B8A4_gpstrail.json", {"FileType": "json"}, "gnss"),
            ("bookmark_1661255290_7", {}, "bookmark"),
            ("notes.txt", {}, "other"),
        ],
    )
    def test_in_a_recording(self, name: str, meta: dict[str, str], kind: str) -> None:
        assert names.object_kind("recording", name, meta) == kind


class TestMetadata:
    def test_keys_take_the_apis_capitalisation_and_values_are_decoded(self) -> None:
        headers = [
            ("x-object-meta-starttimeiso", "2026-11-26T07%3A30%3A00Z"),
            ("content-type", "video/x-matroska"),
        ]
        assert names.meta_from_headers(headers, names.OBJECT_META) == {"Starttimeiso": "2026-11-26T07:30:00Z"}

    def test_headers_encode_values(self) -> None:
        assert names.meta_headers({"Name": "Sam Patel"}, names.OBJECT_META) == {
            "X-Object-Meta-Name": "Sam%20Patel"
        }

    @pytest.mark.parametrize(
        "meta",
        [
            {"Starttimeiso": "2026-11-26T07:30:00Z"},
            {"Starttime": "1795678200"},
            {"Starttime": "1795678200000"},
        ],
    )
    def test_a_time_reads_from_iso_or_epoch_seconds_or_milliseconds(self, meta: dict[str, str]) -> None:
        assert names.meta_time(meta, "StartTime") == datetime(2026, 11, 26, 7, 30, tzinfo=UTC)

    def test_too_long_a_value_is_refused(self) -> None:
        with pytest.raises(Unstorable):
            names.meta_from_headers([("x-object-meta-name", "x" * 257)], names.OBJECT_META)
