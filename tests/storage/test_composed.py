"""Composed objects: an upload's parts become one object, read whole or by range, without their
bytes being copied; deleting it deletes them; its manifest cannot be swapped unnoticed."""

from __future__ import annotations

import itertools
import os
import random

import pytest

from openbwv.storage.sealing import SealedObjectError, SealedStore
from openbwv.storage.store import RawStore
from tests.storage.conftest import MASTER_KEY, RecordingStore, keys, put, read, run

CHUNK = 4096
# Parts of sizes a client's PATCHes give: unrelated to the chunk size, one of a single byte.
CUTS = [0, 1, 5000, 5001, 3 * CHUNK + 7, 20_000]
DATA = os.urandom(CUTS[-1])


def composed(raw: RawStore) -> tuple[SealedStore, list[str]]:
    """A sealed store holding ``DATA`` as the object ``clips/x`` composed of parts moved under it."""
    store = SealedStore(raw, MASTER_KEY, chunk_size=CHUNK)
    placed = []
    for index, (start, end) in enumerate(itertools.pairwise(CUTS)):
        put(store, f"uploads/u/{index}", DATA[start:end])
        assert run(store.move(f"uploads/u/{index}", f"clips/x.parts/{index}"))
        placed.append(f"clips/x.parts/{index}")
    stored = run(store.compose("clips/x", placed))
    assert stored.size == len(DATA)
    return store, placed


class TestComposed:
    def test_reads_whole_and_by_any_range_give_the_parts_bytes_in_order(self, raw_store: RawStore) -> None:
        store, _ = composed(raw_store)
        assert read(store, "clips/x") == DATA
        assert run(store.size("clips/x")) == len(DATA)
        rng = random.Random(7)
        edges = [*CUTS, *(c - 1 for c in CUTS[1:]), *(c + 1 for c in CUTS[:-1])]
        for _ in range(60):
            start = rng.choice([*edges, rng.randrange(len(DATA))])
            end = rng.choice([*edges, rng.randrange(len(DATA) + 1), len(DATA) + 50])
            start, end = min(start, end), max(start, end)
            assert read(store, "clips/x", start, end) == DATA[start:end], (start, end)

    def test_a_range_reads_only_the_parts_it_touches(self, raw_store: RawStore) -> None:
        recording = RecordingStore(raw_store)
        store, placed = composed(recording)
        recording.ranges.clear()
        opened: list[str] = []
        real_read = recording.inner.read

        def noting(key: str, start: int = 0, end: int | None = None):  # type: ignore[no-untyped-def]
            opened.append(key)
            return real_read(key, start, end)

        recording.inner.read = noting  # type: ignore[method-assign]
        assert read(store, "clips/x", CUTS[3] + 10, CUTS[3] + 20) == DATA[CUTS[3] + 10 : CUTS[3] + 20]
        assert set(opened) == {"clips/x", placed[3]}

    def test_moving_twice_finds_nothing_the_second_time(self, raw_store: RawStore) -> None:
        store = SealedStore(raw_store, MASTER_KEY, chunk_size=CHUNK)
        put(store, "uploads/u/0", b"footage")
        assert run(store.move("uploads/u/0", "clips/y.parts/0"))
        assert not run(store.move("uploads/u/0", "clips/y.parts/0"))
        assert read(store, "clips/y.parts/0") == b"footage"
        assert keys(store, "uploads/") == []

    def test_deleting_it_deletes_its_parts(self, raw_store: RawStore) -> None:
        store, placed = composed(raw_store)
        assert run(store.constituents("clips/x")) == ["clips/x", *placed]
        run(store.delete("clips/x"))
        assert keys(store) == []

    def test_a_missing_part_reads_as_missing(self, raw_store: RawStore) -> None:
        store, placed = composed(raw_store)
        run(raw_store.delete(placed[2]))
        with pytest.raises(FileNotFoundError, match=placed[2]):
            read(store, "clips/x")

    def test_an_altered_manifest_fails_to_open(self, raw_store: RawStore) -> None:
        """The manifest is sealed like any object: changed by hand to name other parts, it does
        not open."""
        store, _ = composed(raw_store)
        sealed = bytearray(read(raw_store, "clips/x"))
        sealed[-20] ^= 0x01
        put(raw_store, "clips/x", bytes(sealed))
        with pytest.raises(SealedObjectError, match="fails authentication"):
            read(store, "clips/x")

    def test_a_part_must_hold_bytes(self, raw_store: RawStore) -> None:
        store, _ = composed(raw_store)
        with pytest.raises(ValueError, match="itself composed"):
            run(store.compose("clips/z", ["clips/x"]))
