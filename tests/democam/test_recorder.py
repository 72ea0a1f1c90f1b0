"""The demo cameras: recorded only under the demo, and their clips read as a camera's would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openbwv.config import Settings
from openbwv.democam import record_clip
from openbwv.democam.jobs import RECORD, registry_for
from openbwv.domains import JobContext
from openbwv.footage.probe import probe_file


class TestRegistry:
    def test_a_normal_server_never_records(self, settings: Settings) -> None:
        registry = registry_for(JobContext(settings))
        assert not registry.schedules and not registry.startup_hooks

    def test_the_demo_records_every_minute(self, settings: Settings) -> None:
        registry = registry_for(JobContext(settings.model_copy(update={"demo_cameras": True})))
        assert registry.schedules[RECORD].cron == "* * * * *"


class TestRecordClip:
    def test_a_short_tagged_clip_renamed_in_once_finished(self, tmp_path: Path) -> None:
        at = datetime(2026, 11, 26, 9, 30, 5, tzinfo=UTC)
        path = record_clip(
            tmp_path, camera_serial="DEMO-CAM-0001", collar_number="4007", station="Coventry", started_at=at
        )
        assert path.name == "DEMO-CAM-0001_20261126_093005.mp4"
        assert [p.name for p in tmp_path.iterdir()] == [path.name]
        facts = probe_file(str(path))
        assert facts.error is None
        assert facts.duration_s is not None and 2 <= facts.duration_s <= 5
        assert facts.created_at == at
        assert facts.gps_track is not None and len(facts.gps_track) >= 3
        assert all(52.3 < lat < 52.7 and -2.2 < lon < -1.4 for _, lat, lon in facts.gps_track)
