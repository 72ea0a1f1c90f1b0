"""Retention on each database: what is due and why, soft deletion, destruction after the recoverable
window, restoration inside it; flagged, held and case-linked clips survive whatever their age. Clips
arrive through the real ingest (composed of their upload's parts) into the sealed store."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import auth
from openbwv.app import all_jobs
from openbwv.cli import build_cli
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage import retention
from openbwv.footage.jobs import RETENTION, RETENTION_CRON
from openbwv.footage.models import Clip, FootageCategory
from openbwv.policy import SYSTEM, Role
from openbwv.storage import ObjectStore, open_store
from tests.builders import headers_for, make_user
from tests.footage.helpers import RECORDED_AT, events, holder_of_camera, keys, read, run_ingest, upload
from tests.uploads.helpers import source_bytes

WINDOW = timedelta(days=7)
# The moment an untagged clip recorded at ``RECORDED_AT`` is due (31 days on).
DUE = RECORDED_AT + timedelta(days=31, minutes=1)


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
        assert response.json()["deleted_at"] is None
        clock.set(DUE + WINDOW * 3)
        run_job(settings, factory)
        restored = clip(factory, clip_id)
        assert restored.deleted_at is None and restored.destroyed_at is None
        assert read(store, restored.storage_key) == ingested.data[clip_id]
        assert hashlib.sha256(read(store, restored.storage_key)).hexdigest() == restored.sha256
        with factory() as db:
            [event] = events(db, "footage:clip:restored")
        assert (event.reason, event.details["deletion_rule"]) == (
            "Complaint received",
            "untagged, kept as non_evidential: deleted 31 days after recording",
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
        assert response.json()["detail"]["rule"] == "window_passed"
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
