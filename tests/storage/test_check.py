"""``check_objects`` and ``openbwv storage check``: objects against the rows that name them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openbwv.cli import build_cli
from openbwv.config import Settings
from openbwv.domains import Domain
from openbwv.storage import StorageReport, check_objects, open_store
from openbwv.storage.cli import make_storage_app
from openbwv.storage.sealing import HEADER, SealedStore
from openbwv.storage.store import RawStore
from tests.storage.conftest import MASTER_KEY, put, read, run


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def damage(raw: RawStore, key: str) -> None:
    stored = bytearray(read(raw, key))
    stored[HEADER.size + 3] ^= 1
    put(raw, key, bytes(stored))


class TestCheckObjects:
    def test_a_consistent_store_reports_nothing(self, raw_store: RawStore) -> None:
        store = SealedStore(raw_store, MASTER_KEY, chunk_size=1024)
        objects = {f"clips/{n}": os.urandom(3000 * n) for n in range(3)}
        for key, data in objects.items():
            put(store, key, data)

        report = run(check_objects(store, {key: sha(data) for key, data in objects.items()}))

        assert report == StorageReport(checked=3)
        assert report.consistent

    def test_orphans_missing_and_corrupt_objects_are_found(self, raw_store: RawStore) -> None:
        store = SealedStore(raw_store, MASTER_KEY, chunk_size=1024)
        for key in ("clips/good", "clips/orphan", "clips/wrong-hash", "clips/damaged", "uploads/1/0"):
            put(store, key, key.encode() * 500)
        damage(raw_store, "clips/damaged")
        expected = {
            "clips/good": sha(b"clips/good" * 500),
            "clips/missing": sha(b"gone"),
            "clips/wrong-hash": sha(b"something else"),
            "clips/damaged": sha(b"clips/damaged" * 500),
        }

        report = run(check_objects(store, expected, prefixes=["clips/"]))

        assert report.orphans == ("clips/orphan",)
        assert report.missing == ("clips/missing",)
        assert [key for key, _ in report.corrupt] == ["clips/damaged", "clips/wrong-hash"]
        assert "chunk 0 fails authentication" in report.corrupt[0][1]
        assert report.corrupt[1][1] == (
            f"SHA-256 is {sha(b'clips/wrong-hash' * 500)}, its row says {sha(b'something else')}."
        )
        assert report.checked == 4
        assert report.problems() == [
            "Orphan object (no row names it): clips/orphan",
            "Missing object (a row names it): clips/missing",
            f"Corrupt object: clips/damaged: {report.corrupt[0][1]}",
            f"Corrupt object: clips/wrong-hash: {report.corrupt[1][1]}",
        ]

    def test_an_expected_object_outside_the_prefixes_is_looked_up(self, raw_store: RawStore) -> None:
        store = SealedStore(raw_store, MASTER_KEY)
        put(store, "other/a", b"a")

        report = run(check_objects(store, {"other/a": sha(b"a"), "other/b": sha(b"b")}, prefixes=["clips/"]))

        assert report.missing == ("other/b",)
        assert report.checked == 1


class TestStorageCheckCommand:
    @pytest.fixture
    def settings(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
        monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path / "var"))
        for name in ("OPENBWV_DATABASE_URL", "OPENBWV_STORAGE_URL", "OPENBWV_STORAGE_MASTER_KEY"):
            monkeypatch.delenv(name, raising=False)
        return Settings()

    def _invoke(self, expected: dict[str, str], *args: str) -> tuple[int, str]:
        seen: list[Session] = []

        def expected_objects(db: Session) -> Mapping[str, str]:
            seen.append(db)
            return expected

        domain = Domain(
            name="footage-like", cli={"storage": make_storage_app(expected_objects, prefixes=("clips/",))}
        )
        result = CliRunner().invoke(build_cli([domain]), ["storage", "check", *args])
        assert len(seen) == 1 and isinstance(seen[0], Session)
        return result.exit_code, result.output

    def test_a_consistent_store_exits_0(self, settings: Settings) -> None:
        store = open_store(settings)
        put(store, "clips/a", b"a")
        put(store, "clips/b", b"b")
        put(store, "uploads/1/0", b"partial upload, outside the prefixes")

        code, output = self._invoke({"clips/a": sha(b"a"), "clips/b": sha(b"b")})

        assert (code, output) == (0, "Storage is consistent: 2 objects checked.\n")

    def test_each_problem_is_one_line_and_exits_1(self, settings: Settings) -> None:
        store = open_store(settings)
        put(store, "clips/a", b"a")
        put(store, "clips/orphan", b"o")

        code, output = self._invoke({"clips/a": sha(b"x"), "clips/gone": sha(b"g")})

        assert code == 1
        assert output.splitlines() == [
            "Orphan object (no row names it): clips/orphan",
            "Missing object (a row names it): clips/gone",
            f"Corrupt object: clips/a: SHA-256 is {sha(b'a')}, its row says {sha(b'x')}.",
        ]

    def test_prefix_narrows_the_check(self, settings: Settings) -> None:
        store = open_store(settings)
        put(store, "clips/ab/1", b"1")
        put(store, "clips/cd/2", b"2")

        code, output = self._invoke(
            {"clips/ab/1": sha(b"1"), "clips/cd/2": sha(b"x")}, "--prefix", "clips/ab/"
        )

        assert (code, output) == (0, "Storage is consistent: 1 object checked.\n")
