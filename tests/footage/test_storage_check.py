"""``openbwv storage check`` over what footage ingest stored: the real command, the real rows and
the sealed store, on each database."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv.cli import build_cli
from openbwv.config import Settings
from openbwv.footage.models import Clip
from openbwv.storage import ObjectStore, open_store
from tests.footage.helpers import holder_of_camera, run_ingest, upload
from tests.uploads.helpers import source_bytes

CLIPS = [source_bytes(300_000, seed=n) for n in range(2)]
WRONG = source_bytes(1000, seed=9)


@pytest.fixture
def store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """The store, with the command pointed at the test's database and data directory."""
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    for name in ("OPENBWV_STORAGE_URL", "OPENBWV_STORAGE_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    return open_store(settings)


@pytest.fixture
def ingested(settings: Settings, factory: sessionmaker[Session], store: ObjectStore) -> list[str]:
    """Two clips ingested and one delivery quarantined; the clips' keys."""
    _, serial = holder_of_camera(factory)
    for data in CLIPS:
        run_ingest(settings, factory, upload(store, data, camera_serial=serial))
    run_ingest(settings, factory, upload(store, WRONG, camera_serial=serial, device_sha256="0" * 64))
    with factory() as db:
        keys = [db.scalar(select(Clip.storage_key).where(Clip.sha256 == sha256(data))) for data in CLIPS]
    assert all(
        key is not None and key.startswith(f"clips/{sha256(data)}/")
        for key, data in zip(keys, CLIPS, strict=True)
    )
    return [str(key) for key in keys]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check() -> tuple[int, list[str]]:
    result = CliRunner().invoke(build_cli(), ["storage", "check"])
    return result.exit_code, result.output.splitlines()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class TestStorageCheckAfterIngest:
    def test_clean_after_ingest(self, ingested: list[str]) -> None:
        assert check() == (0, ["Storage is consistent: 3 objects checked."])

    def test_a_deleted_clip_is_missing(self, ingested: list[str], store: ObjectStore) -> None:
        anyio.run(store.delete, ingested[0])
        assert check() == (1, [f"Missing object (a row names it): {ingested[0]}"])

    def test_an_extra_object_under_clips_is_an_orphan(self, ingested: list[str], store: ObjectStore) -> None:
        anyio.run(store.put, "clips/" + "f" * 64, _once(b"nobody's"))
        assert check() == (1, ["Orphan object (no row names it): clips/" + "f" * 64])

    def test_a_missing_part_of_a_clip_is_named(self, ingested: list[str], settings: Settings) -> None:
        part = f"{ingested[0]}.parts/000000"
        (Path(settings.data_dir) / "storage" / part).unlink()
        assert check() == (1, [f"Missing object (a row names it): {ingested[0]} (its part {part})"])

    def test_a_tampered_clip_is_corrupt(self, ingested: list[str], settings: Settings) -> None:
        # The sealed bytes on disk, changed in the middle, as by a failing disk or a hand.
        path = Path(settings.data_dir) / "storage" / f"{ingested[1]}.parts/000000"
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
        code, lines = check()
        assert code == 1
        [line] = lines
        assert line.startswith(f"Corrupt object: {ingested[1]}: ")
