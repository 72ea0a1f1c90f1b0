"""Sealed objects: round trips, ranges that open only their chunks, and tampering that is caught."""

from __future__ import annotations

import os

import pytest

from openbwv.storage.sealing import HEADER, TAG_SIZE, SealedObjectError, SealedStore
from openbwv.storage.store import RawStore
from tests.storage.conftest import MASTER_KEY, RecordingStore, failing_after, keys, put, read, run

CHUNK = 4096
SEALED = CHUNK + TAG_SIZE


def sealed(raw: RawStore, master_key: bytes = MASTER_KEY) -> SealedStore:
    return SealedStore(raw, master_key, chunk_size=CHUNK)


def raw_bytes(raw: RawStore, key: str) -> bytes:
    return read(raw, key)


def rewrite(raw: RawStore, key: str, data: bytes) -> None:
    put(raw, key, data)


class TestRoundTrip:
    @pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * 1024 * 1024 + 17])
    def test_bytes_come_back_as_written(self, raw_store: RawStore, size: int) -> None:
        store = sealed(raw_store)
        data = os.urandom(size)

        stored = put(store, "clips/x", data)

        assert stored.size == size
        assert read(store, "clips/x") == data
        assert run(store.size("clips/x")) == size

    def test_what_is_stored_is_not_the_plaintext(self, raw_store: RawStore) -> None:
        data = b"officer 1234 at the scene " * 1000

        put(sealed(raw_store), "clips/x", data)

        stored = raw_bytes(raw_store, "clips/x")
        assert b"officer 1234" not in stored
        assert len(stored) == HEADER.size + len(data) + 7 * TAG_SIZE

    def test_the_same_bytes_seal_differently_each_time(self, raw_store: RawStore) -> None:
        store = sealed(raw_store)
        put(store, "a", b"same")
        put(store, "b", b"same")

        assert raw_bytes(raw_store, "a") != raw_bytes(raw_store, "b")

    def test_objects_written_with_another_chunk_size_still_read(self, raw_store: RawStore) -> None:
        data = os.urandom(10_000)
        put(SealedStore(raw_store, MASTER_KEY, chunk_size=1000), "x", data)

        assert read(sealed(raw_store), "x", 2500, 7777) == data[2500:7777]

    def test_a_put_whose_bytes_fail_midway_leaves_no_object(self, raw_store: RawStore) -> None:
        store = sealed(raw_store)

        with pytest.raises(ConnectionResetError):
            put(store, "clips/half", failing_after(os.urandom(5 * CHUNK)))

        assert run(store.size("clips/half")) is None
        assert keys(store) == []


class TestRanges:
    DATA = os.urandom(10 * CHUNK + 100)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (0, 1),
            (0, CHUNK),
            (CHUNK - 1, CHUNK + 1),
            (CHUNK, 2 * CHUNK),
            (3 * CHUNK + 5, 7 * CHUNK - 5),
            (10 * CHUNK, None),
            (10 * CHUNK + 99, None),
            (5, 5),
            (len(DATA), None),
            (0, len(DATA) + 10_000),
        ],
    )
    def test_a_range_gives_those_bytes(self, raw_store: RawStore, start: int, end: int | None) -> None:
        store = sealed(raw_store)
        put(store, "x", self.DATA)

        assert read(store, "x", start, end) == self.DATA[start:end]

    @pytest.mark.parametrize(
        ("start", "end", "chunks"),
        [
            (0, CHUNK, (0, 1)),
            (CHUNK, 2 * CHUNK, (1, 2)),
            (CHUNK - 1, CHUNK + 1, (0, 2)),
            (3 * CHUNK + 5, 7 * CHUNK - 5, (3, 7)),
            (10 * CHUNK, None, (10, 11)),
        ],
    )
    def test_a_range_fetches_only_the_chunks_it_touches(
        self, raw_store: RawStore, start: int, end: int | None, chunks: tuple[int, int]
    ) -> None:
        recording = RecordingStore(raw_store)
        store = sealed(recording)
        put(store, "x", self.DATA)

        read(store, "x", start, end)

        stored_size = HEADER.size + len(self.DATA) + 11 * TAG_SIZE
        first, stop = chunks
        expected_end = min(HEADER.size + stop * SEALED, stored_size)
        # The header, then the chunks.
        assert recording.ranges == [(0, HEADER.size), (HEADER.size + first * SEALED, expected_end)]

    def test_a_range_that_is_not_one_is_refused(self, raw_store: RawStore) -> None:
        store = sealed(raw_store)
        put(store, "x", b"abc")

        with pytest.raises(ValueError, match="not a byte range"):
            read(store, "x", 2, 1)
        with pytest.raises(ValueError, match="not a byte range"):
            read(store, "x", -1)


class TestTampering:
    DATA = os.urandom(4 * CHUNK + 10)

    def _stored(self, raw: RawStore) -> bytes:
        put(sealed(raw), "x", self.DATA)
        return raw_bytes(raw, "x")

    def test_a_changed_byte_fails_with_the_chunk_named(self, raw_store: RawStore) -> None:
        stored = bytearray(self._stored(raw_store))
        stored[HEADER.size + 2 * SEALED + 100] ^= 1
        rewrite(raw_store, "x", bytes(stored))

        with pytest.raises(SealedObjectError, match="'x' is damaged: chunk 2 fails authentication"):
            read(sealed(raw_store), "x")
        # A range clear of the damaged chunk still opens.
        assert read(sealed(raw_store), "x", 0, 2 * CHUNK) == self.DATA[: 2 * CHUNK]

    def test_a_changed_header_fails(self, raw_store: RawStore) -> None:
        stored = bytearray(self._stored(raw_store))
        stored[HEADER.size - 1] ^= 1  # the nonce base
        rewrite(raw_store, "x", bytes(stored))

        with pytest.raises(SealedObjectError, match="chunk 0 fails authentication"):
            read(sealed(raw_store), "x")

    def test_swapped_chunks_fail(self, raw_store: RawStore) -> None:
        stored = self._stored(raw_store)
        body = [stored[HEADER.size + i * SEALED : HEADER.size + (i + 1) * SEALED] for i in range(5)]
        body[1], body[2] = body[2], body[1]
        rewrite(raw_store, "x", stored[: HEADER.size] + b"".join(body))

        with pytest.raises(SealedObjectError, match="chunk 1 fails authentication"):
            read(sealed(raw_store), "x")

    def test_a_chunk_from_another_object_fails(self, raw_store: RawStore) -> None:
        stored = self._stored(raw_store)
        put(sealed(raw_store), "y", self.DATA)
        other = raw_bytes(raw_store, "y")
        chunk = slice(HEADER.size + SEALED, HEADER.size + 2 * SEALED)
        rewrite(raw_store, "x", stored[: chunk.start] + other[chunk] + stored[chunk.stop :])

        with pytest.raises(SealedObjectError, match="chunk 1 fails authentication"):
            read(sealed(raw_store), "x")

    def test_cut_at_a_chunk_boundary_fails(self, raw_store: RawStore) -> None:
        stored = self._stored(raw_store)
        rewrite(raw_store, "x", stored[: HEADER.size + 3 * SEALED])

        with pytest.raises(SealedObjectError, match="chunk 2 fails authentication"):
            read(sealed(raw_store), "x")

    @pytest.mark.parametrize("cut", [1, TAG_SIZE, SEALED - 1])
    def test_cut_within_a_chunk_fails(self, raw_store: RawStore, cut: int) -> None:
        stored = self._stored(raw_store)
        rewrite(raw_store, "x", stored[: HEADER.size + 3 * SEALED + cut])

        with pytest.raises(SealedObjectError):
            read(sealed(raw_store), "x")

    def test_cut_to_the_header_fails(self, raw_store: RawStore) -> None:
        stored = self._stored(raw_store)
        rewrite(raw_store, "x", stored[: HEADER.size])

        with pytest.raises(SealedObjectError, match="cut short"):
            read(sealed(raw_store), "x")
        with pytest.raises(SealedObjectError, match="cut short"):
            run(sealed(raw_store).size("x"))

    def test_an_object_that_was_never_sealed_is_refused(self, raw_store: RawStore) -> None:
        put(raw_store, "x", b"plain bytes written around the store")

        with pytest.raises(SealedObjectError, match="not a sealed object"):
            read(sealed(raw_store), "x")

    def test_another_master_key_is_named_as_such(self, raw_store: RawStore) -> None:
        self._stored(raw_store)

        with pytest.raises(
            SealedObjectError, match=r"sealed under master key [0-9a-f]{16}, not this store's"
        ):
            read(sealed(raw_store, os.urandom(32)), "x")

    def test_a_damaged_wrapped_key_is_named_as_such(self, raw_store: RawStore) -> None:
        stored = bytearray(self._stored(raw_store))
        stored[30] ^= 1  # inside the wrapped data key
        rewrite(raw_store, "x", bytes(stored))

        with pytest.raises(SealedObjectError, match="its data key does not unwrap"):
            read(sealed(raw_store), "x")


class TestMisuse:
    def test_a_master_key_of_the_wrong_length_is_refused(self, raw_store: RawStore) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            SealedStore(raw_store, b"short")

    def test_a_missing_object_raises_file_not_found(self, raw_store: RawStore) -> None:
        store = sealed(raw_store)

        with pytest.raises(FileNotFoundError):
            read(store, "nothing")
        assert run(store.size("nothing")) is None

    def test_delete_and_keys_pass_through(self, raw_store: RawStore) -> None:
        store = sealed(raw_store)
        put(store, "clips/a", b"1")
        put(store, "clips/b", b"2")

        run(store.delete("clips/a"))

        assert keys(store, "clips/") == ["clips/b"]
