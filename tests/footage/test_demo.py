from __future__ import annotations

import hashlib
import inspect
import io
from datetime import UTC, datetime, time, timedelta

import av
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import cli, fleet
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.config import Settings
from openbwv.db import reading, transaction
from openbwv.democam import CENTRES
from openbwv.footage.demo import (
    DEMO_CLIP_COUNT,
    DEMO_DAYS,
    BaseClip,
    free_box,
    make_base_clips,
    seed_demo_footage,
)
from openbwv.footage.models import Clip
from openbwv.footage.retention import planned_steps
from openbwv.policy import SYSTEM
from openbwv.storage import ObjectStore, open_store
from tests.builders import make_device, make_officer, make_pass, make_unit
from tests.conftest import TEST_NOW
from tests.footage.helpers import read

COUNT = 60
WINDOW = timedelta(days=7)


@pytest.fixture(scope="module")
def bases() -> list[BaseClip]:
    return make_base_clips(3)


def _fleet(db: Session) -> None:
    """Two officers with personal cameras issued three months back, and a pool camera checked out
    for a shift on each of the last ten days."""
    unit = make_unit(db, code="DEMO-RESP", kind="response")
    unit.station = "Coventry"
    issued = TEST_NOW - timedelta(days=90)
    for n in range(3):
        officer = make_officer(db, unit=unit)
        make_pass(db, officer, "bwv_user", passed_on=issued.date() - timedelta(days=30))
        if n < 2:
            make_device(db, serial=f"DEMO-CAM-{n + 1:04d}", station="Coventry")
            fleet.issue_device(db, SYSTEM, device_serial=f"DEMO-CAM-{n + 1:04d}", collar_number=officer.collar_number, kind="personal", now=issued)  # fmt: skip
    make_device(db, serial="DEMO-POOL-COVE-1", station="Coventry", pooled=True)
    for days_ago in range(1, 11):
        shift = datetime.combine(TEST_NOW.date() - timedelta(days=days_ago), time(7), tzinfo=UTC)
        issue = fleet.issue_device(db, SYSTEM, device_serial="DEMO-POOL-COVE-1", collar_number=officer.collar_number, kind="pooled", now=shift)  # fmt: skip
        fleet.return_issue(db, SYSTEM, issue_id=issue.id, now=shift + timedelta(hours=8))


@pytest.fixture
def seeded(
    factory: sessionmaker[Session], settings: Settings, bases: list[BaseClip]
) -> tuple[ObjectStore, list[Clip]]:
    store = open_store(settings)
    with transaction(factory) as db:
        _fleet(db)
    with transaction(factory) as db:
        assert seed_demo_footage(db, store, now=TEST_NOW, count=COUNT, bases=bases) == COUNT
    with reading(factory) as db:
        return store, list(db.scalars(select(Clip).order_by(Clip.id)))


class TestFreeBox:
    def test_a_clip_with_a_free_box_after_its_last_box_decodes_the_same(self, bases: list[BaseClip]) -> None:
        data, sha256 = bases[0].variant(7)
        assert data.endswith(free_box(b"openbwv demo clip 000007"))
        assert sha256 == hashlib.sha256(data).hexdigest() != hashlib.sha256(bases[0].data).hexdigest()
        with av.open(io.BytesIO(data), mode="r") as container:
            assert container.duration is not None
            assert container.duration / av.time_base == bases[0].probe.duration_s
            frames = sum(1 for _ in container.decode(video=0))
        with av.open(io.BytesIO(bases[0].data), mode="r") as container:
            assert frames == sum(1 for _ in container.decode(video=0)) > 0


class TestSeedDemoFootage:
    def test_every_row_names_its_own_objects_whose_bytes_hash_to_its_sha256(
        self, seeded: tuple[ObjectStore, list[Clip]]
    ) -> None:
        store, clips = seeded
        assert len({c.sha256 for c in clips}) == COUNT
        assert len({c.poster_key for c in clips} | {c.thumbnails_key for c in clips}) == 2 * COUNT
        for clip in clips:
            data = read(store, clip.storage_key)
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (clip.sha256, clip.size)
            assert clip.storage_key == f"clips/{clip.sha256}/demo"
            assert read(store, clip.poster_key or "")[:2] == b"\xff\xd8"
            assert read(store, clip.thumbnails_key or "")[:2] == b"\xff\xd8"

    def test_a_rows_object_decodes_for_its_recorded_duration(
        self, seeded: tuple[ObjectStore, list[Clip]]
    ) -> None:
        store, clips = seeded
        clip = clips[COUNT // 2]
        with av.open(io.BytesIO(read(store, clip.storage_key)), mode="r") as container:
            assert container.duration is not None
            assert container.duration / av.time_base == clip.duration_s
            assert sum(1 for _ in container.decode(video=0)) > 0
        assert (clip.codec, clip.width, clip.height) == ("h264", 320, 180)

    def test_the_mix_spans_sixty_days_and_no_clip_is_past_due(
        self, seeded: tuple[ObjectStore, list[Clip]], factory: sessionmaker[Session]
    ) -> None:
        _, clips = seeded
        held = [c for c in clips if c.ingest_state == "held_for_review"]
        ready = [c for c in clips if c.ingest_state == "ready"]
        assert held and all(c.review_reason == "unknown_camera" and c.officer_id is None for c in held)
        assert [c for c in ready if c.category_id is None]
        assert [c for c in ready if c.category_id is not None]
        assert [c for c in ready if c.evidence_flag]
        assert [c for c in ready if c.legal_hold]
        assert [c for c in ready if c.case_reference]
        recorded = [c.recorded_at for c in clips]
        assert (
            TEST_NOW - timedelta(days=DEMO_DAYS) <= min(recorded) < TEST_NOW - timedelta(days=DEMO_DAYS - 5)
        )
        assert TEST_NOW - timedelta(days=5) < max(recorded) < TEST_NOW
        with reading(factory) as db:
            assert list(planned_steps(db, now=TEST_NOW, window=WINDOW)) == []
            due = list(planned_steps(db, now=TEST_NOW + timedelta(days=7), window=WINDOW))
        assert due and all(s.action == "delete" for s in due)

    def test_clips_are_attributed_to_who_held_the_camera_then_with_tracks_near_it(
        self, seeded: tuple[ObjectStore, list[Clip]], factory: sessionmaker[Session]
    ) -> None:
        _, clips = seeded
        with reading(factory) as db:
            for clip in clips:
                if clip.ingest_state == "held_for_review":
                    continue
                holder = fleet.holder_at(db, clip.camera_serial, clip.recorded_at)
                assert holder is not None and holder.officer_id == clip.officer_id
        assert {c.camera_serial for c in clips} >= {"DEMO-CAM-0001", "DEMO-CAM-0002"}
        for clip in clips:
            if clip.gps_track is None:
                continue
            _, lat, lon = clip.gps_track[0]
            assert any(abs(lat - a) < 0.02 and abs(lon - b) < 0.03 for a, b in CENTRES.values())

    def test_tags_and_flags_are_audited_and_seeding_twice_adds_nothing(
        self,
        seeded: tuple[ObjectStore, list[Clip]],
        factory: sessionmaker[Session],
        bases: list[BaseClip],
    ) -> None:
        store, clips = seeded
        with transaction(factory) as db:
            assert (
                seed_demo_footage(db, store, now=TEST_NOW + timedelta(days=1), count=COUNT, bases=bases) == 0
            )
        with reading(factory) as db:
            assert db.scalar(select(func.count()).select_from(Clip)) == COUNT

            def events(action: AuditAction) -> int:
                return db.scalar(select(func.count()).where(AuditEvent.action == str(action))) or 0

            assert events(AuditAction.FOOTAGE_CLIP_STORED) == COUNT
            assert events(AuditAction.FOOTAGE_CLIP_TAGGED) == len([c for c in clips if c.category_id])
            assert events(AuditAction.FOOTAGE_CLIP_EVIDENCE_FLAGGED) == len(
                [c for c in clips if c.evidence_flag]
            )
            assert events(AuditAction.FOOTAGE_CLIP_HOLD_PLACED) == len([c for c in clips if c.legal_hold])
            assert events(AuditAction.FOOTAGE_CLIP_HELD_FOR_REVIEW) == len(
                [c for c in clips if c.review_reason]
            )


def test_the_demo_command_seeds_the_default_count() -> None:
    assert inspect.signature(cli.demo).parameters["clips"].default == DEMO_CLIP_COUNT
