"""Retention on each database: what is due and why, soft deletion, destruction after the recoverable
window, restoration inside it; flagged, held and case-linked clips survive whatever their age. Clips
arrive through the real ingest (composed of their upload's parts) into the sealed store."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import audit, auth
from openbwv.app import all_jobs
from openbwv.cli import build_cli
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage import retention, tagging
from openbwv.footage.jobs import RETENTION, RETENTION_CRON
from openbwv.footage.models import Clip, FootageCategory
from openbwv.policy import SYSTEM, Role
from openbwv.storage import ObjectStore, open_store
from tests.builders import headers_for, make_user
from tests.conftest import TEST_NOW
from tests.footage.helpers import RECORDED_AT, events, holder_of_camera, keys, read, run_ingest, upload
from tests.uploads.helpers import source_bytes

WINDOW = timedelta(days=7)
# The moment an untagged clip recorded at ``RECORDED_AT`` is due (31 days on).
DUE = RECORDED_AT + timedelta(days=31, minutes=1)
NOW = TEST_NOW
UNTAGGED = "untagged, kept as non_evidential: deleted 31 days after recording"
TAGGED = "non_evidential: deleted 31 days after recording"
PASSED = "recoverable window of 7 days passed"


@pytest.fixture
def store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """The store, with the CLI pointed at the test's database and data directory."""
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    for name in ("OPENBWV_STORAGE_URL", "OPENBWV_STORAGE_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    return open_store(settings)


class Ingested:
    """Ingests clips of one officer's camera and keeps their bytes."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], store: ObjectStore) -> None:
        self.settings, self.factory, self.store = settings, factory, store
        self.officer, self.serial = holder_of_camera(factory, collar="8101")
        self.data: dict[int, bytes] = {}
        self._seed = 0

    def clip(self, **columns: object) -> int:
        """A new clip, with its poster stored too, and ``columns`` set on its row; its id."""
        self._seed += 1
        data = source_bytes(200_000, seed=100 + self._seed)
        run_ingest(self.settings, self.factory, upload(self.store, data, camera_serial=self.serial))
        digest = hashlib.sha256(data).hexdigest()
        poster = f"posters/{digest}.jpg"
        anyio.run(self.store.put, poster, _once(b"poster"))
        with transaction(self.factory) as db:
            clip = db.scalars(select(Clip).where(Clip.sha256 == digest)).one()
            clip.poster_key = poster
            for name, value in columns.items():
                setattr(clip, name, value)
            self.data[clip.id] = data
            return clip.id


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
def ingested(settings: Settings, factory: sessionmaker[Session], store: ObjectStore) -> Ingested:
    return Ingested(settings, factory, store)


def category_id(db: Session, code: str) -> int:
    return db.scalars(select(FootageCategory.id).where(FootageCategory.code == code)).one()


def clip(factory: sessionmaker[Session], clip_id: int) -> Clip:
    with factory() as db:
        found = db.get(Clip, clip_id)
        assert found is not None
        db.expunge(found)
        return found


def token(factory: sessionmaker[Session], user: auth.UserAccount) -> dict[str, str]:
    with transaction(factory) as db:
        return {"Authorization": f"Bearer {auth.issue_token(db, user, kind='api', ttl=timedelta(hours=1))}"}


def run_job(settings: Settings, factory: sessionmaker[Session]) -> None:
    """The worker's nightly retention handler, run directly."""
    all_jobs(settings).schedules[RETENTION].handler(factory)


def planned(factory: sessionmaker[Session], clock: FixedClock) -> list[tuple[str, int, str]]:
    with factory() as db:
        return [
            (s.action, s.clip_id, s.rule)
            for s in retention.planned_steps(db, now=clock.now(), window=WINDOW, batch_size=2)
        ]


def row_clip(
    factory: sessionmaker[Session], store: ObjectStore, *, recorded_at: datetime, **columns: object
) -> int:
    """A clip row with a clip and a poster object in the store, as the ingest leaves them (the run reads
    rows and deletes keys: what the bytes are does not matter to it), and ``columns`` set; its id."""
    sha = uuid.uuid4().hex * 2
    storage_key, poster_key = f"clips/{sha}", f"posters/{sha}.jpg"
    for key in (storage_key, poster_key):
        anyio.run(store.put, key, _once(b"bytes"))
    with transaction(factory) as db:
        row = Clip(
            sha256=sha,
            size=5,
            storage_key=storage_key,
            poster_key=poster_key,
            camera_serial="CAM-R",
            ingest_state="ready",
            recorded_at=recorded_at,
            **columns,
        )
        db.add(row)
        db.flush()
        return row.id


def expired_clip(factory: sessionmaker[Session], store: ObjectStore, *, deleted_at: datetime) -> int:
    """A clip the job deleted at ``deleted_at``, its bytes kept."""
    return row_clip(
        factory, store, recorded_at=NOW - timedelta(days=90), deleted_at=deleted_at, deletion_rule=UNTAGGED
    )


def seen(event: Any) -> tuple[object, ...]:
    """An audit event as an auditor reads it: who, what, which, why, and the details."""
    return (
        event.actor_username,
        event.action,
        event.target_type,
        event.target_id,
        event.reason,
        event.details,
    )


def deleted_event(clip_row: Clip, rule: str) -> tuple[object, ...]:
    return (
        "system",
        "footage:clip:deleted",
        "clip",
        str(clip_row.id),
        rule,
        {"sha256": clip_row.sha256, "recorded_at": clip_row.recorded_at.isoformat(), "rule": rule},
    )


def destroyed_event(clip_row: Clip) -> tuple[object, ...]:
    return (
        "system",
        "footage:clip:destroyed",
        "clip",
        str(clip_row.id),
        PASSED,
        {"sha256": clip_row.sha256, "rule": PASSED},
    )


def store_failing_at(monkeypatch: pytest.MonkeyPatch, store: ObjectStore, bad_key: str) -> None:
    """The store goes away when asked to delete ``bad_key``."""
    delete = store.delete

    async def failing(key: str) -> None:
        if key == bad_key:
            raise OSError("store unreachable")
        await delete(key)

    monkeypatch.setattr(store, "delete", failing)


def failing_at_event(monkeypatch: pytest.MonkeyPatch, action: str, nth: int) -> None:
    """The database fails while the ``nth`` audit event ``action`` is written."""
    record, count = audit.record, [0]

    def failing(db: Session, **kwargs: Any) -> Any:
        if kwargs["action"] == action:
            count[0] += 1
            if count[0] == nth:
                raise RuntimeError("database gone")
        return record(db, **kwargs)

    monkeypatch.setattr(audit, "record", failing)


class TestSeededCategories:
    def test_non_evidential_goes_after_31_days_and_evidential_is_kept_under_mopi(self, db: Session) -> None:
        categories = {c.code: c for c in db.scalars(select(FootageCategory))}
        assert categories["non_evidential"].retention_days == 31 and categories["non_evidential"].is_default
        evidential = [c for c in categories.values() if c.code != "non_evidential"]
        assert evidential and all(c.retention_days is None and c.mopi_group in (1, 2, 3) for c in evidential)
        assert categories["public_protection"].mopi_group == 1

    def test_the_job_is_scheduled_nightly(self, settings: Settings) -> None:
        assert all_jobs(settings).schedules[RETENTION].cron == RETENTION_CRON == "30 2 * * *"


class TestDueClips:
    def test_an_untagged_clip_is_due_31_days_after_recording_and_not_before(
        self, ingested: Ingested, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE - timedelta(minutes=2))
        assert planned(factory, clock) == []
        clock.set(DUE)
        assert planned(factory, clock) == [
            ("delete", clip_id, "untagged, kept as non_evidential: deleted 31 days after recording")
        ]

    def test_evidential_flagged_held_and_case_linked_clips_are_never_due(
        self, ingested: Ingested, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with factory() as db:
            incident, non_evidential = category_id(db, "incident"), category_id(db, "non_evidential")
        ingested.clip(category_id=incident)
        ingested.clip(evidence_flag=True)
        ingested.clip(legal_hold=True)
        ingested.clip(case_reference="20/123456/26")
        tagged = ingested.clip(category_id=non_evidential)
        many = [ingested.clip() for _ in range(3)]
        clock.set(RECORDED_AT + timedelta(days=3650))
        found = planned(factory, clock)
        assert found == [
            ("delete", tagged, "non_evidential: deleted 31 days after recording"),
            *[
                ("delete", n, "untagged, kept as non_evidential: deleted 31 days after recording")
                for n in many
            ],
        ]


class TestRetentionRun:
    def test_a_due_clip_is_soft_deleted_hidden_with_its_bytes_kept_and_audited(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        deleted = clip(factory, clip_id)
        assert deleted.deleted_at == DUE and deleted.destroyed_at is None
        assert deleted.deletion_rule == "untagged, kept as non_evidential: deleted 31 days after recording"
        assert read(store, deleted.storage_key) == ingested.data[clip_id]
        with factory() as db:
            [event] = events(db, "footage:clip:deleted")
            [summary] = events(db, "footage:retention:ran")
        assert (event.target_id, event.actor_username, event.reason) == (
            str(clip_id),
            "system",
            deleted.deletion_rule,
        )
        assert summary.details == {"deleted": 1, "destroyed": 0, "purged": 0, "window_days": 7}

    def test_a_deleted_clip_is_hidden_from_the_footage_search(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        client: TestClient,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        search = {"sha256": clip(factory, clip_id).sha256}
        with transaction(factory) as db:
            owner = make_user(db, officer=ingested.officer)
        assert (
            client.get("/api/v1/footage", params=search, headers=token(factory, owner)).json()["total"] == 1
        )
        clock.set(DUE)
        run_job(settings, factory)
        # Tokens last an hour: a new one a month on.
        assert (
            client.get("/api/v1/footage", params=search, headers=token(factory, owner)).json()["total"] == 0
        )

    def test_bytes_are_destroyed_only_after_the_window_and_the_row_is_kept(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        key = clip(factory, clip_id).storage_key
        clock.set(DUE)
        run_job(settings, factory)
        clock.set(DUE + WINDOW - timedelta(minutes=1))
        run_job(settings, factory)
        assert read(store, key) == ingested.data[clip_id]
        clock.set(DUE + WINDOW)
        run_job(settings, factory)
        destroyed = clip(factory, clip_id)
        assert destroyed.destroyed_at == DUE + WINDOW and destroyed.purged_at == DUE + WINDOW
        assert (destroyed.sha256, destroyed.deleted_at) == (
            hashlib.sha256(ingested.data[clip_id]).hexdigest(),
            DUE,
        )
        assert keys(store, "clips/") == [] and keys(store, "posters/") == [] and keys(store, "uploads/") == []
        check = CliRunner().invoke(build_cli(), ["storage", "check"])
        assert (check.exit_code, check.output.strip()) == (0, "Storage is consistent: 0 objects checked.")
        with factory() as db:
            [event] = events(db, "footage:clip:destroyed")
            assert (event.target_id, event.reason) == (str(clip_id), "recoverable window of 7 days passed")
            assert [e.details["destroyed"] for e in events(db, "footage:retention:ran")] == [0, 0, 1]

    def test_flagged_held_and_case_linked_clips_survive_every_run(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        clock: FixedClock,
    ) -> None:
        with factory() as db:
            use_of_force = category_id(db, "use_of_force")
        kept = [
            ingested.clip(category_id=use_of_force),
            ingested.clip(evidence_flag=True),
            ingested.clip(legal_hold=True),
            ingested.clip(case_reference="20/123456/26"),
        ]
        for days in (31, 40, 400, 4000):
            clock.set(RECORDED_AT + timedelta(days=days))
            run_job(settings, factory)
        for clip_id in kept:
            survivor = clip(factory, clip_id)
            assert survivor.deleted_at is None and survivor.destroyed_at is None
            assert read(store, survivor.storage_key) == ingested.data[clip_id]
        with factory() as db:
            assert events(db, "footage:clip:deleted") == [] and events(db, "footage:clip:destroyed") == []

    def test_a_clip_flagged_inside_the_window_is_not_destroyed(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        with transaction(factory) as db:
            from openbwv.footage import tagging

            tagging.set_legal_hold(db, SYSTEM, clip_id, held=True, reason="Preservation order")
        clock.set(DUE + WINDOW * 10)
        run_job(settings, factory)
        held = clip(factory, clip_id)
        assert held.destroyed_at is None and read(store, held.storage_key) == ingested.data[clip_id]

    def test_a_run_cut_short_after_marking_destruction_purges_next_time(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        clock.set(DUE + WINDOW)
        with transaction(factory) as db:
            retention.destroy_expired_batch(db, SYSTEM, now=clock.now(), window=WINDOW)
        assert keys(store, "clips/") != []
        run_job(settings, factory)
        assert keys(store, "clips/") == [] and clip(factory, clip_id).purged_at == DUE + WINDOW

    def test_batches_cover_every_due_clip(
        self, ingested: Ingested, factory: sessionmaker[Session], store: ObjectStore, clock: FixedClock
    ) -> None:
        ids = [ingested.clip() for _ in range(5)]
        clock.set(DUE)
        result = retention.run_retention(factory, store, SYSTEM, now=clock.now(), window=WINDOW, batch_size=2)
        assert result.deleted == 5
        assert all(clip(factory, n).deleted_at == DUE for n in ids)


class TestBacklog:
    """A run over more clips than one batch, read back as an evidence manager and an auditor see it."""

    def test_every_clip_past_its_boundary_goes_in_order_audited_and_the_run_sums_it_up(
        self, factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        with factory() as db:
            non_evidential = category_id(db, "non_evidential")
        # Deleted: created latest deletion first, destroyed oldest deletion first; the window has
        # passed at exactly ``WINDOW`` and not a minute before.
        on_the_dot = expired_clip(factory, store, deleted_at=NOW - WINDOW)
        day_before = expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=1))
        two_days_before = expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=2))
        inside = expired_clip(factory, store, deleted_at=NOW - WINDOW + timedelta(minutes=1))
        # Due: a period ends at exactly 31 days, and a clip is deleted only once it has.
        newer = row_clip(factory, store, recorded_at=NOW - timedelta(days=31, minutes=1))
        older = row_clip(factory, store, recorded_at=NOW - timedelta(days=40))
        tagged = row_clip(
            factory, store, recorded_at=NOW - timedelta(days=31, minutes=1), category_id=non_evidential
        )
        not_yet = row_clip(factory, store, recorded_at=NOW - timedelta(days=31))
        flagged = row_clip(factory, store, recorded_at=NOW - timedelta(days=400), evidence_flag=True)

        result = retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW, batch_size=2)

        assert result == retention.RunResult(deleted=3, destroyed=3, purged=3)
        gone = [clip(factory, n) for n in (two_days_before, day_before, on_the_dot)]
        assert all((c.destroyed_at, c.purged_at) == (NOW, NOW) for c in gone)
        deleted = [clip(factory, n) for n in (tagged, older, newer)]
        assert [(c.deleted_at, c.deletion_rule) for c in deleted] == [
            (NOW, TAGGED),
            (NOW, UNTAGGED),
            (NOW, UNTAGGED),
        ]
        kept = [clip(factory, n) for n in (inside, not_yet, flagged)]
        assert [(c.deleted_at is None, c.destroyed_at) for c in kept] == [
            (False, None),
            (True, None),
            (True, None),
        ]
        assert sorted(keys(store, "clips/")) == sorted(c.storage_key for c in [*deleted, *kept])
        with factory() as db:
            assert [seen(e) for e in events(db, "footage:clip:destroyed")] == [
                destroyed_event(c) for c in gone
            ]
            assert [seen(e) for e in events(db, "footage:clip:deleted")] == [
                deleted_event(deleted[0], TAGGED),
                deleted_event(deleted[1], UNTAGGED),
                deleted_event(deleted[2], UNTAGGED),
            ]
            assert [seen(e) for e in events(db, "footage:retention:ran")] == [
                (
                    "system",
                    "footage:retention:ran",
                    "footage_retention",
                    "2026-11-26",
                    None,
                    {"deleted": 3, "destroyed": 3, "purged": 3, "window_days": 7},
                )
            ]

    def test_a_deletion_batch_stops_at_its_size_across_categories(
        self, factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        with factory() as db:
            non_evidential = category_id(db, "non_evidential")
        tagged = row_clip(factory, store, recorded_at=NOW - timedelta(days=35), category_id=non_evidential)
        newest, middle, oldest = (
            row_clip(factory, store, recorded_at=NOW - timedelta(days=days)) for days in (38, 39, 40)
        )
        with transaction(factory) as db:
            steps = retention.delete_due_batch(db, SYSTEM, now=NOW, batch_size=3)
        rows = {n: clip(factory, n) for n in (tagged, oldest, middle)}
        assert steps == [
            retention.Step("delete", n, rows[n].sha256, rows[n].recorded_at, rule)
            for n, rule in ((tagged, TAGGED), (oldest, UNTAGGED), (middle, UNTAGGED))
        ]
        assert all(r.deleted_at == NOW for r in rows.values())
        assert clip(factory, newest).deleted_at is None

    def test_a_destruction_batch_stops_at_its_size(
        self, factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        last, first, second = (
            expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=days)) for days in (1, 3, 2)
        )
        with transaction(factory) as db:
            steps = retention.destroy_expired_batch(db, SYSTEM, now=NOW, window=WINDOW, batch_size=2)
        rows = [clip(factory, n) for n in (first, second)]
        assert steps == [retention.Step("destroy", r.id, r.sha256, r.recorded_at, PASSED) for r in rows]
        assert [r.destroyed_at for r in rows] == [NOW, NOW]
        assert clip(factory, last).destroyed_at is None


class TestPlannedSteps:
    """What a run would do, as the dry run lists it: every destruction, then every deletion, read a
    batch at a time with nothing skipped or repeated."""

    def test_every_destruction_then_every_deletion_category_by_category_in_order(
        self, factory: sessionmaker[Session], store: ObjectStore
    ) -> None:
        with transaction(factory) as db:
            briefing = FootageCategory(code="briefing", label="Briefing", retention_days=60)
            db.add(briefing)
            db.flush()
            briefing_id, non_evidential = briefing.id, category_id(db, "non_evidential")
        expired = [
            expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=days))
            for days in (10, 9, 8, 8, 8, 7, 6)
        ]
        untagged = [
            row_clip(factory, store, recorded_at=NOW - timedelta(days=d)) for d in (50, 49, 48, 48, 47)
        ]
        briefed = row_clip(factory, store, recorded_at=NOW - timedelta(days=61), category_id=briefing_id)
        tagged = row_clip(factory, store, recorded_at=NOW - timedelta(days=40), category_id=non_evidential)
        rows = {n: clip(factory, n) for n in [*expired, *untagged, briefed, tagged]}

        def step(action: str, n: int, rule: str) -> retention.Step:
            return retention.Step(action, n, rows[n].sha256, rows[n].recorded_at, rule)

        with factory() as db:
            # Bounded: a plan that pages wrongly could run on for ever.
            steps = list(islice(retention.planned_steps(db, now=NOW, window=WINDOW, batch_size=3), 50))
        assert steps == [
            *(step("destroy", n, PASSED) for n in expired),
            step("delete", briefed, "briefing: deleted 60 days after recording"),
            step("delete", tagged, TAGGED),
            *(step("delete", n, UNTAGGED) for n in untagged),
        ]

    @pytest.mark.parametrize("keep", ["evidence", "hold", "case"])
    def test_a_deleted_clip_flagged_held_or_linked_to_a_case_is_never_destroyed(
        self, factory: sessionmaker[Session], store: ObjectStore, keep: str
    ) -> None:
        kept = expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=1))
        with transaction(factory) as db:
            if keep == "evidence":
                tagging.set_evidence_flag(db, SYSTEM, kept, flagged=True, reason="Complaint received")
            elif keep == "hold":
                tagging.set_legal_hold(db, SYSTEM, kept, held=True, reason="Preservation order")
            else:
                tagging.link_case(db, SYSTEM, kept, case_reference="20/123456/26", reason="Charged")
        with factory() as db:
            assert list(retention.planned_steps(db, now=NOW, window=WINDOW)) == []
        result = retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW)
        assert result == retention.RunResult(deleted=0, destroyed=0, purged=0)
        assert clip(factory, kept).destroyed_at is None
        assert read(store, clip(factory, kept).storage_key) == b"bytes"


class TestRunCutShort:
    """Each batch commits on its own: a run that fails part-way keeps what its finished batches did,
    and the next run carries on."""

    def test_a_store_failure_keeps_the_earlier_purges_of_a_previous_runs_leftovers(
        self, factory: sessionmaker[Session], store: ObjectStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Destroyed by runs cut short before their purge; purged oldest destruction first.
        latest, middle, earliest = (
            row_clip(
                factory,
                store,
                recorded_at=NOW - timedelta(days=90),
                deleted_at=NOW - timedelta(days=20),
                destroyed_at=NOW - timedelta(hours=hours),
            )
            for hours in (1, 2, 3)
        )
        store_failing_at(monkeypatch, store, clip(factory, latest).storage_key)
        with pytest.raises(OSError, match="store unreachable"):
            retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW, batch_size=2)
        assert [clip(factory, n).purged_at for n in (earliest, middle, latest)] == [NOW, NOW, None]
        monkeypatch.undo()
        result = retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW, batch_size=2)
        assert result == retention.RunResult(deleted=0, destroyed=0, purged=0)
        assert clip(factory, latest).purged_at == NOW and keys(store, "clips/") == []

    def test_a_store_failure_keeps_the_destructions_and_the_earlier_purges(
        self, factory: sessionmaker[Session], store: ObjectStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = [expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=1)) for _ in range(3)]
        store_failing_at(monkeypatch, store, clip(factory, ids[-1]).storage_key)
        with pytest.raises(OSError, match="store unreachable"):
            retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW, batch_size=2)
        assert [(clip(factory, n).destroyed_at, clip(factory, n).purged_at) for n in ids] == [
            (NOW, NOW),
            (NOW, NOW),
            (NOW, None),
        ]
        with factory() as db:
            assert (
                len(events(db, "footage:clip:destroyed")) == 3 and events(db, "footage:retention:ran") == []
            )

    @pytest.mark.parametrize("action", ["footage:clip:destroyed", "footage:clip:deleted"])
    def test_a_database_failure_keeps_the_batches_already_committed(
        self, factory: sessionmaker[Session], store: ObjectStore, monkeypatch: pytest.MonkeyPatch, action: str
    ) -> None:
        if action == "footage:clip:destroyed":
            ids = [
                expired_clip(factory, store, deleted_at=NOW - WINDOW - timedelta(days=d)) for d in (3, 2, 1)
            ]
        else:
            ids = [row_clip(factory, store, recorded_at=NOW - timedelta(days=d)) for d in (42, 41, 40)]
        failing_at_event(monkeypatch, action, 3)
        with pytest.raises(RuntimeError, match="database gone"):
            retention.run_retention(factory, store, SYSTEM, now=NOW, window=WINDOW, batch_size=2)
        changed = [
            (c.destroyed_at if action == "footage:clip:destroyed" else c.deleted_at) == NOW
            for c in (clip(factory, n) for n in ids)
        ]
        assert changed == [True, True, False]
        with factory() as db:
            assert [e.target_id for e in events(db, action)] == [str(n) for n in ids[:2]]


def _restore(client: TestClient, headers: dict[str, str], clip_id: int, reason: str = "Tagged late") -> Any:
    return client.post(f"/api/v1/footage/{clip_id}/restore", json={"reason": reason}, headers=headers)


class TestRestore:
    def test_inside_the_window_the_clip_comes_back_byte_identical_and_audited(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        store: ObjectStore,
        client: TestClient,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        listed = client.get("/api/v1/footage/deleted", headers=headers).json()
        assert [i["id"] for i in listed["items"]] == [clip_id]
        clock.set(DUE + WINDOW - timedelta(minutes=1))
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        response = client.post(
            f"/api/v1/footage/{clip_id}/restore", json={"reason": "Complaint received"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert (response.json()["deleted_at"], response.json()["deletion_rule"]) == (None, None)
        clock.set(DUE + WINDOW * 3)
        run_job(settings, factory)
        restored = clip(factory, clip_id)
        assert restored.deleted_at is None and restored.destroyed_at is None
        assert read(store, restored.storage_key) == ingested.data[clip_id]
        assert hashlib.sha256(read(store, restored.storage_key)).hexdigest() == restored.sha256
        with factory() as db:
            [event] = events(db, "footage:clip:restored")
        assert (event.target_type, event.target_id, event.reason, event.details) == (
            "clip",
            str(clip_id),
            "Complaint received",
            {"sha256": restored.sha256, "deleted_at": DUE.isoformat(), "deletion_rule": UNTAGGED},
        )

    def test_a_restored_clip_gets_its_period_again_from_the_restore(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        client: TestClient,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        assert _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), clip_id).status_code == 200
        clock.set(DUE + timedelta(days=31, minutes=1))
        run_job(settings, factory)
        assert clip(factory, clip_id).deleted_at == DUE + timedelta(days=31, minutes=1)

    def test_after_the_window_restore_is_refused(
        self,
        ingested: Ingested,
        settings: Settings,
        factory: sessionmaker[Session],
        client: TestClient,
        clock: FixedClock,
    ) -> None:
        clip_id = ingested.clip()
        clock.set(DUE)
        run_job(settings, factory)
        clock.set(DUE + WINDOW)
        response = _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), clip_id)
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "window_passed",
            "message": "The clip's recoverable window has passed: its bytes are destroyed or about to be.",
        }
        run_job(settings, factory)
        response = _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), clip_id)
        assert response.status_code == 409

    def test_a_clip_not_deleted_cannot_be_restored_and_officers_may_not(
        self, ingested: Ingested, factory: sessionmaker[Session], client: TestClient
    ) -> None:
        clip_id = ingested.clip()
        response = _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), clip_id)
        assert response.status_code == 409
        assert response.json()["detail"] == {"rule": "not_deleted", "message": "The clip is not deleted."}
        blank = _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), clip_id, reason="   ")
        assert blank.status_code == 422
        assert blank.json()["detail"] == [
            {"loc": ["body", "reason"], "msg": "Say why.", "type": "value_error"}
        ]
        assert _restore(client, headers_for(factory, Role.OFFICER), clip_id).status_code == 403
        assert _restore(client, headers_for(factory, Role.EVIDENCE_MANAGER), 999_999).status_code == 404


class TestDeletedList:
    def test_the_recoverable_clips_oldest_deletion_first_a_page_at_a_time_with_the_total(
        self, factory: sessionmaker[Session], store: ObjectStore, client: TestClient
    ) -> None:
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        empty = client.get("/api/v1/footage/deleted", headers=headers).json()
        assert (empty["items"], empty["total"]) == ([], 0)
        latest, earliest, middle = (
            expired_clip(factory, store, deleted_at=NOW - timedelta(days=days)) for days in (1, 3, 2)
        )
        row_clip(
            factory,
            store,
            recorded_at=NOW - timedelta(days=90),
            deleted_at=NOW - timedelta(days=30),
            destroyed_at=NOW - timedelta(days=20),
        )
        row_clip(factory, store, recorded_at=NOW - timedelta(days=1))

        def page(**params: int) -> tuple[list[tuple[int, str | None]], int]:
            found = client.get("/api/v1/footage/deleted", params=params, headers=headers).json()
            return [(i["id"], i["deletion_rule"]) for i in found["items"]], found["total"]

        assert page(limit=2) == ([(earliest, UNTAGGED), (middle, UNTAGGED)], 3)
        assert page(limit=2, offset=2) == ([(latest, UNTAGGED)], 3)

    def test_clips_deleted_by_one_run_are_paged_in_id_order_none_skipped_none_repeated(
        self, factory: sessionmaker[Session], store: ObjectStore, client: TestClient
    ) -> None:
        ids = [expired_clip(factory, store, deleted_at=NOW - timedelta(days=1)) for _ in range(5)]
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        pages = [
            client.get(
                "/api/v1/footage/deleted", params={"limit": 2, "offset": offset}, headers=headers
            ).json()
            for offset in (0, 2, 4)
        ]
        assert [i["id"] for page in pages for i in page["items"]] == ids


class TestCli:
    def test_dry_run_lists_what_would_go_and_why_and_changes_nothing(
        self, ingested: Ingested, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        gone = ingested.clip()
        ingested.clip(evidence_flag=True)
        clock.set(DUE)
        result = CliRunner().invoke(build_cli(), ["footage", "retention", "--dry-run"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith(f"delete   clip {gone:<8}")
        assert lines[0].endswith("untagged, kept as non_evidential: deleted 31 days after recording")
        assert lines[1] == "Dry run: 1 clip would go; nothing was changed."
        assert clip(factory, gone).deleted_at is None
        with factory() as db:
            assert events(db, "footage:clip:deleted") == []

    def test_the_real_run_deletes_and_says_so(
        self, ingested: Ingested, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        gone = ingested.clip()
        clock.set(DUE)
        result = CliRunner().invoke(build_cli(), ["footage", "retention"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            "Retention run: 1 deleted (recoverable for 7 days), 0 destroyed, 0 purged from the store."
        ]
        assert clip(factory, gone).deleted_at == DUE
