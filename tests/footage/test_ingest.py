from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.audit import AuditAction
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage import ingest
from openbwv.footage.models import Clip, ClipPlace
from openbwv.notifications.models import Notification
from openbwv.policy import SYSTEM, Role
from openbwv.storage import ObjectStore, open_store
from tests.builders import make_device, make_user
from tests.footage.helpers import (
    RECORDED_AT,
    alerts,
    clips,
    demo_clip,
    events,
    holder_of_camera,
    keys,
    read,
    run_ingest,
    run_probe,
    sources,
    upload,
)


@pytest.fixture
def store(settings: Settings) -> ObjectStore:
    return open_store(settings)


@pytest.fixture
def video(tmp_path: Path) -> bytes:
    return demo_clip(tmp_path)


class TestIngest:
    def test_stores_the_clip_once_by_its_content_and_attributes_it_to_the_holder(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        officer, serial = holder_of_camera(factory)
        payload = upload(store, video, camera_serial=serial, parts=3)
        run_ingest(settings, factory, payload)
        digest = hashlib.sha256(video).hexdigest()
        with factory() as db:
            [clip] = clips(db)
            [source] = sources(db)
            assert (clip.sha256, clip.size) == (digest, len(video))
            assert clip.storage_key.startswith(f"clips/{digest}/")
            assert (clip.ingest_state, clip.officer_id, clip.camera_serial) == ("stored", officer.id, serial)
            assert clip.recorded_at == RECORDED_AT
            assert (source.outcome, source.clip_id, source.source_id) == (
                "stored",
                clip.id,
                payload["upload_id"],
            )
            assert source.filename == payload["metadata"]["filename"]
            assert len(events(db, "footage:clip:stored")) == 1
        assert read(store, clip.storage_key) == video
        assert keys(store, "uploads/") == [], "the parts are the clip's now"
        assert sorted(keys(store, "clips/")) == [clip.storage_key] + [
            f"{clip.storage_key}.parts/{n:06d}" for n in range(3)
        ], "the three parts, moved, and the object composed of them"

    def test_the_same_bytes_uploaded_twice_are_one_clip_with_two_sources(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        run_ingest(settings, factory, upload(store, video, camera_serial=serial))
        second = upload(store, video, camera_serial=serial, parts=2)
        run_ingest(settings, factory, second)
        with factory() as db:
            [clip] = clips(db)
            assert [(s.outcome, s.clip_id) for s in sources(db)] == [
                ("stored", clip.id),
                ("duplicate", clip.id),
            ]
            [deduplicated] = events(db, AuditAction.FOOTAGE_SOURCE_DEDUPLICATED)
            assert (
                deduplicated.actor_username,
                deduplicated.target_type,
                deduplicated.target_id,
                deduplicated.reason,
                deduplicated.details,
            ) == (
                "system",
                "clip",
                str(clip.id),
                None,
                {"sha256": hashlib.sha256(video).hexdigest(), "source": f"tus:{second['upload_id']}"},
            )
            assert len(events(db, "footage:clip:stored")) == 1
        assert sorted(keys(store, "clips/")) == [clip.storage_key] + [
            f"{clip.storage_key}.parts/{n:06d}" for n in range(3)
        ], "the second upload's parts are gone"
        assert keys(store, "uploads/") == []
        assert read(store, clip.storage_key) == video

    def test_a_race_of_two_identical_uploads_is_decided_by_the_unique_hash(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        video: bytes,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The second upload checked for the clip before the first committed it: its insert loses
        on the unique hash and it points at the first's clip, with no error."""
        _, serial = holder_of_camera(factory)
        run_ingest(settings, factory, upload(store, video, camera_serial=serial))
        looked_up = ingest.get_clip_by_sha256
        calls: list[str] = []

        def not_yet_committed(db: Session, sha256: str) -> Clip | None:
            calls.append(sha256)
            return None if len(calls) <= 2 else looked_up(db, sha256)

        monkeypatch.setattr(ingest, "get_clip_by_sha256", not_yet_committed)
        loser = upload(store, video, camera_serial=serial)
        run_ingest(settings, factory, loser)
        monkeypatch.undo()
        assert len(calls) == 3, "checked before joining, before inserting, and after losing"
        with factory() as db:
            [clip] = clips(db)
            assert [s.outcome for s in sources(db)] == ["stored", "duplicate"]
            assert {s.clip_id for s in sources(db)} == {clip.id}
            [deduplicated] = events(db, AuditAction.FOOTAGE_SOURCE_DEDUPLICATED)
            assert (deduplicated.actor_username, deduplicated.target_id, deduplicated.details) == (
                "system",
                str(clip.id),
                {"sha256": clip.sha256, "source": f"tus:{loser['upload_id']}"},
            )
            assert len(events(db, "footage:clip:stored")) == 1
        assert sorted(keys(store, "clips/")) == sorted(anyio.run(store.constituents, clip.storage_key)), (
            "the loser composed its own object, and deleted it on losing"
        )
        assert read(store, clip.storage_key) == video

    def test_a_hash_that_differs_from_the_devices_is_quarantined_never_stored(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        with transaction(factory) as db:
            reviewer = make_user(db, roles=[Role.EVIDENCE_MANAGER])
        payload = upload(store, video, camera_serial=serial, device_sha256="0" * 64)
        run_ingest(settings, factory, payload)
        with factory() as db:
            assert clips(db) == []
            [source] = sources(db)
            assert (source.outcome, source.clip_id) == ("quarantined", None)
            assert source.quarantine_key == f"quarantine/tus/{payload['upload_id']}"
            [event] = events(db, "footage:source:quarantined")
            assert event.details["declared_sha256"] == "0" * 64
            [alert] = alerts(db, "footage_quarantined")
            assert alert.details["event_ids"] == [event.id]
            notices = db.query(Notification).filter(Notification.user_id == reviewer.id).all()
            assert [n.kind for n in notices] == ["footage_quarantined"]
        assert keys(store, "clips/") == []
        assert read(store, f"quarantine/tus/{payload['upload_id']}") == video
        assert keys(store, "uploads/") == []

    def test_parts_that_do_not_hold_the_recorded_size_are_quarantined(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        payload = upload(store, video, camera_serial=serial, parts=2)
        payload["size"] = len(video) + 1
        run_ingest(settings, factory, payload)
        with factory() as db:
            assert clips(db) == []
            [source] = sources(db)
            assert source.outcome == "quarantined"
            [alert] = alerts(db, "footage_quarantined")
            assert f"hold {len(video)} bytes, not {len(video) + 1}" in str(alert.details["summary"])
        assert keys(store, "clips/") == []
        assert keys(store, "uploads/") == []
        assert read(store, f"quarantine/tus/{payload['upload_id']}") == video

    def test_a_part_altered_after_it_was_received_is_never_read_as_footage(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        """The bytes were hashed as they arrived; a part changed on disk since then is stored with
        the clip, and fails authentication when read: the probe marks the clip failed with an
        alert, and the storage check names it."""
        _, serial = holder_of_camera(factory)
        payload = upload(store, video, camera_serial=serial, parts=1)
        [part] = payload["parts"]
        path = Path(settings.data_dir) / "storage" / part
        sealed = bytearray(path.read_bytes())
        sealed[-40] ^= 0x01
        path.write_bytes(bytes(sealed))
        run_ingest(settings, factory, payload)
        with factory() as db:
            [clip] = clips(db)
        run_probe(settings, factory, clip.id)
        with factory() as db:
            [clip] = clips(db)
            assert clip.ingest_state == "failed"
            assert "fails authentication" in (clip.failure or "")
            assert len(alerts(db, "footage_unreadable")) == 1

    def test_a_camera_not_in_the_fleet_is_stored_and_held_for_review(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        run_ingest(settings, factory, upload(store, video, camera_serial="NOT-IN-FLEET"))
        with factory() as db:
            [clip] = clips(db)
            assert (clip.ingest_state, clip.review_reason, clip.officer_id) == (
                "held_for_review",
                "unknown_camera",
                None,
            )
            [alert] = alerts(db, "footage_held_for_review")
            assert "not in the fleet" in str(alert.details["summary"])
        assert read(store, clip.storage_key) == video

    def test_a_camera_nobody_held_then_is_stored_and_held_for_review(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        with transaction(factory) as db:
            serial = make_device(db, kind="camera").serial
        run_ingest(settings, factory, upload(store, video, camera_serial=serial))
        with factory() as db:
            [clip] = clips(db)
            assert (clip.ingest_state, clip.review_reason) == ("held_for_review", "no_holder")
            assert len(alerts(db, "footage_held_for_review")) == 1
            assert len(events(db, "footage:clip:held_for_review")) == 1

    def test_the_clip_goes_to_whoever_held_the_camera_when_it_recorded(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        """The camera went from one officer to another after recording: the first one's clip."""
        first, serial = holder_of_camera(factory)
        with transaction(factory) as db:
            [issue] = [i for i, _ in fleet.officer_kit(db, first.id)]
            fleet.return_issue(db, SYSTEM, issue_id=issue.id, now=RECORDED_AT + timedelta(hours=1))
        second, _ = holder_of_camera(factory)
        with transaction(factory) as db:
            [issue] = [i for i, _ in fleet.officer_kit(db, second.id)]
            fleet.return_issue(db, SYSTEM, issue_id=issue.id, now=RECORDED_AT + timedelta(hours=1))
            fleet.issue_device(
                db,
                SYSTEM,
                device_serial=serial,
                collar_number=second.collar_number,
                kind="personal",
                now=RECORDED_AT + timedelta(hours=2),
            )
        run_ingest(settings, factory, upload(store, video, camera_serial=serial))
        with factory() as db:
            [clip] = clips(db)
            assert clip.officer_id == first.id

    def test_running_the_job_twice_changes_nothing_the_second_time(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        payload = upload(store, video, camera_serial=serial)
        run_ingest(settings, factory, payload)
        run_ingest(settings, factory, payload)
        with factory() as db:
            [clip] = clips(db)
            assert [s.outcome for s in sources(db)] == ["stored"]
            assert len(events(db, "footage:clip:stored")) == 1
        run_probe(settings, factory, clip.id)
        run_probe(settings, factory, clip.id)
        with factory() as db:
            assert len(events(db, "footage:clip:probed")) == 1
        assert read(store, clip.storage_key) == video


class TestProbe:
    def test_records_the_files_facts_and_makes_a_poster_and_thumbnails(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        run_ingest(settings, factory, upload(store, video, camera_serial=serial))
        with factory() as db:
            [clip] = clips(db)
        run_probe(settings, factory, clip.id)
        with factory() as db:
            clip = db.get(Clip, clip.id)  # type: ignore[assignment]
            assert clip is not None
            assert clip.ingest_state == "ready"
            assert clip.duration_s == pytest.approx(2.0, abs=0.1)
            assert (clip.codec, clip.width, clip.height) == ("h264", 320, 240)
            assert clip.frame_rate == pytest.approx(25.0)
            assert clip.started_at is not None and clip.started_at.isoformat() == "2026-11-26T04:59:58+00:00"
            assert clip.gps_track == [
                [0.0, 52.4862, -1.8904],
                [1.0, 52.4863, -1.8906],
                [2.0, 52.4865, -1.8907],
            ]
            sha = clip.sha256
            assert (clip.poster_key, clip.thumbnails_key) == (f"posters/{sha}.jpg", f"thumbs/{sha}.jpg")
        poster = Image.open(io.BytesIO(read(store, f"posters/{sha}.jpg")))
        strip = Image.open(io.BytesIO(read(store, f"thumbs/{sha}.jpg")))
        assert (poster.format, poster.size) == ("JPEG", (320, 240))
        assert strip.format == "JPEG" and strip.height == 90 and strip.width == 8 * 120
        assert not (settings.data_dir / "spool").exists(), "the clip's plain bytes never touch the disk"

    def test_a_held_clip_stays_held_once_probed(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, tmp_path: Path
    ) -> None:
        from tests.footage.helpers import make_video

        video = make_video(tmp_path / "plain.mp4", codec="mpeg4", seconds=1.0)
        run_ingest(settings, factory, upload(store, video, camera_serial="UNKNOWN-1"))
        with factory() as db:
            [clip] = clips(db)
        run_probe(settings, factory, clip.id)
        with factory() as db:
            clip = db.get(Clip, clip.id)  # type: ignore[assignment]
            assert clip is not None
            assert (clip.ingest_state, clip.codec, clip.gps_track) == ("held_for_review", "mpeg4", None)
            assert clip.started_at == RECORDED_AT, "no creation time in the file: the recorded time"

    def test_a_file_that_is_not_video_fails_with_an_alert_and_its_bytes_are_kept(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        _, serial = holder_of_camera(factory)
        junk = b"not a video at all " * 4000
        run_ingest(settings, factory, upload(store, junk, camera_serial=serial))
        with factory() as db:
            [clip] = clips(db)
        run_probe(settings, factory, clip.id)
        with factory() as db:
            clip = db.get(Clip, clip.id)  # type: ignore[assignment]
            assert clip is not None
            assert clip.ingest_state == "failed" and clip.failure
            assert len(alerts(db, "footage_unreadable")) == 1
            assert len(events(db, "footage:clip:failed")) == 1
        assert read(store, clip.storage_key) == junk


def _with_track(store: ObjectStore, payload: dict[str, Any], track: bytes | None) -> dict[str, Any]:
    """``payload`` as a camera system's clip with a GNSS track object beside it (``None``: named,
    but not in the store)."""
    key = f"tracks/{payload['upload_id']}.json"
    if track is not None:
        anyio.run(store.put, key, _once(track))
    payload["metadata"]["gnss_track_key"] = key
    payload["metadata"]["stopped_at"] = (RECORDED_AT + timedelta(seconds=2)).isoformat()
    return payload


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _location_file(*seconds: float) -> bytes:
    entries = [
        {
            "LocationWKT": f"POINT(-1.9 {52 + s / 100})",
            "SecondsFromStart": s,
            "Timestamp": (RECORDED_AT + timedelta(seconds=s)).isoformat().replace("+00:00", "Z"),
        }
        for s in seconds
    ]
    return json.dumps({"CoordinateEntries": entries}).encode()


def _places(db: Session, clip_id: int) -> list[tuple[float, float]]:
    rows = db.execute(
        select(ClipPlace.latitude, ClipPlace.longitude)
        .where(ClipPlace.clip_id == clip_id)
        .order_by(ClipPlace.point)
    )
    return [(lat, lon) for lat, lon in rows]


class TestDeliveredTrack:
    def test_the_clips_stretch_of_the_track_beside_it_wins_over_the_files(
        self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore, video: bytes
    ) -> None:
        _, serial = holder_of_camera(factory)
        payload = _with_track(store, upload(store, video, camera_serial=serial), _location_file(-1, 0, 1, 2))
        run_ingest(settings, factory, payload)
        with factory() as db:
            [clip] = clips(db)
            assert clip.gps_track == [[0.0, 52.0, -1.9], [1.0, 52.01, -1.9]]
            assert _places(db, clip.id) == [(52.0, -1.9), (52.01, -1.9)], "searchable by place"
        run_probe(settings, factory, clip.id)
        with factory() as db:
            clip = db.get(Clip, clip.id)  # type: ignore[assignment]
            assert clip is not None and clip.ingest_state == "ready"
            assert clip.gps_track == [[0.0, 52.0, -1.9], [1.0, 52.01, -1.9]]
            assert [s.notes for s in sources(db)] == [None]
        assert read(store, payload["metadata"]["gnss_track_key"]), "the recording's other clips read it too"

    @pytest.mark.parametrize(
        ("track", "says"),
        [(b'{"CoordinateEntries": [{"LocationWKT": "here"}]}', "LocationWKT"), (None, "not in the store")],
    )
    def test_a_track_that_cannot_be_read_is_noted_and_the_clip_goes_on(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        video: bytes,
        track: bytes | None,
        says: str,
    ) -> None:
        _, serial = holder_of_camera(factory)
        payload = _with_track(store, upload(store, video, camera_serial=serial), track)
        run_ingest(settings, factory, payload)
        with factory() as db:
            [clip] = clips(db)
            [source] = sources(db)
            assert source.outcome == "stored" and source.notes is not None
            assert source.notes["gnss_track"]["key"] == payload["metadata"]["gnss_track_key"]
            assert says in source.notes["gnss_track"]["error"]
            [stored] = events(db, "footage:clip:stored")
            assert says in str(stored.details["gnss_track_error"])
            assert _places(db, clip.id) == [], "no track, and the camera's station has no position"
        run_probe(settings, factory, clip.id)
        with factory() as db:
            clip = db.get(Clip, clip.id)  # type: ignore[assignment]
            assert clip is not None and clip.ingest_state == "ready"
            assert clip.gps_track is not None and clip.gps_track[0] == [0.0, 52.4862, -1.8904], "the file's"
            # The file's fixes are metres apart: thinned to its first and last.
            assert _places(db, clip.id) == [(52.4862, -1.8904), (52.4865, -1.8907)]
