"""The raw stores, local disk and S3 (moto's server), through the same tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openbwv.storage.backends import PART_SIZE, LocalStore
from openbwv.storage.store import RawStore
from tests.storage.conftest import failing_after, keys, put, read, run

DATA = os.urandom(300_000)


class TestPut:
    def test_bytes_come_back_whole_and_by_range(self, raw_store: RawStore) -> None:
        stored = put(raw_store, "clips/ab/one", DATA)

        assert stored.size == len(DATA)
        assert read(raw_store, "clips/ab/one") == DATA
        assert read(raw_store, "clips/ab/one", 1000, 2000) == DATA[1000:2000]
        assert read(raw_store, "clips/ab/one", len(DATA) - 5) == DATA[-5:]
        assert read(raw_store, "clips/ab/one", len(DATA)) == b""
        assert read(raw_store, "clips/ab/one", 10, 10) == b""
        assert read(raw_store, "clips/ab/one", 10, len(DATA) + 100) == DATA[10:]
        assert run(raw_store.size("clips/ab/one")) == len(DATA)

    def test_an_empty_object_is_an_object(self, raw_store: RawStore) -> None:
        assert put(raw_store, "empty", b"").size == 0

        assert read(raw_store, "empty") == b""
        assert run(raw_store.size("empty")) == 0

    def test_an_object_of_several_parts(self, raw_store: RawStore) -> None:
        data = os.urandom(PART_SIZE + 123_457)

        put(raw_store, "big", data)

        assert read(raw_store, "big") == data

    def test_a_second_put_replaces_the_first(self, raw_store: RawStore) -> None:
        put(raw_store, "k", b"first")
        put(raw_store, "k", b"second")

        assert read(raw_store, "k") == b"second"

    @pytest.mark.parametrize("size", [len(DATA), PART_SIZE + 300_000], ids=["one-part", "multipart"])
    def test_a_put_whose_bytes_fail_midway_leaves_no_object(self, raw_store: RawStore, size: int) -> None:
        with pytest.raises(ConnectionResetError):
            put(raw_store, "clips/half", failing_after(os.urandom(size), 256 * 1024))

        assert run(raw_store.size("clips/half")) is None
        assert keys(raw_store) == []

    def test_a_failed_put_keeps_the_object_it_would_have_replaced(self, raw_store: RawStore) -> None:
        put(raw_store, "k", b"kept")

        with pytest.raises(ConnectionResetError):
            put(raw_store, "k", failing_after(DATA))

        assert read(raw_store, "k") == b"kept"

    @pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "./a", ".staging/x"])
    def test_a_key_that_is_not_a_relative_path_is_refused(self, raw_store: RawStore, key: str) -> None:
        with pytest.raises(ValueError, match="not an object key"):
            put(raw_store, key, b"x")


class TestLocalStore:
    def test_a_failed_put_leaves_no_file_behind(self, tmp_path: Path) -> None:
        store = LocalStore(tmp_path / "storage")

        with pytest.raises(ConnectionResetError):
            put(store, "clips/half", failing_after(DATA))

        assert [path for path in (tmp_path / "storage").rglob("*") if path.is_file()] == []

    def test_objects_are_files_under_the_root(self, tmp_path: Path) -> None:
        store = LocalStore(tmp_path / "storage")

        put(store, "clips/ab/one", b"bytes")

        assert (tmp_path / "storage" / "clips" / "ab" / "one").read_bytes() == b"bytes"


class TestRead:
    def test_a_missing_object_raises_file_not_found(self, raw_store: RawStore) -> None:
        with pytest.raises(FileNotFoundError):
            read(raw_store, "nothing")
        with pytest.raises(FileNotFoundError):
            read(raw_store, "nothing", 5, 10)

    def test_a_missing_object_has_no_size(self, raw_store: RawStore) -> None:
        assert run(raw_store.size("nothing")) is None


class TestKeysAndDelete:
    def test_keys_lists_by_prefix_even_within_a_name(self, raw_store: RawStore) -> None:
        for key in ("clips/ab/1", "clips/ab/2", "clips/ac/3", "uploads/9/0"):
            put(raw_store, key, b"x")

        assert keys(raw_store) == ["clips/ab/1", "clips/ab/2", "clips/ac/3", "uploads/9/0"]
        assert keys(raw_store, "clips/") == ["clips/ab/1", "clips/ab/2", "clips/ac/3"]
        assert keys(raw_store, "clips/ab") == ["clips/ab/1", "clips/ab/2"]
        assert keys(raw_store, "clips/ab/") == ["clips/ab/1", "clips/ab/2"]
        assert keys(raw_store, "nothing/") == []

    def test_delete_removes_and_deleting_nothing_is_fine(self, raw_store: RawStore) -> None:
        put(raw_store, "clips/ab/1", b"x")

        run(raw_store.delete("clips/ab/1"))
        run(raw_store.delete("clips/ab/1"))

        assert keys(raw_store) == []
        assert run(raw_store.size("clips/ab/1")) is None
