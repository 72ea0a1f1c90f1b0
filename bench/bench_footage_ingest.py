"""Joining an upload's parts into one content-addressed clip, hashing on the way.

Ingest reads an upload's parts in order and writes them once under ``clips/<sha256>``, hashing the
bytes as they pass so that only verified bytes land there. Measured on the sealed local store (as ``open_store`` gives it) beside the
baseline of a plain copy of the same parts into one file (no hashing, no store), with the peak
memory the join allocates (it must stay about one chunk, whatever the clip's size).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from bench.report import update_section
from openbwv.footage.ingest import IngestRequest, _join_verified
from openbwv.storage import ObjectStore
from openbwv.storage.backends import LocalStore
from openbwv.storage.sealing import SealedStore

CLIP_MIB = 512
PART_MIB = 64


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _parts(store: ObjectStore) -> tuple[list[str], str, int]:
    digest = hashlib.sha256()
    keys = []
    block = os.urandom(PART_MIB * 1024 * 1024)
    for n in range(CLIP_MIB // PART_MIB):
        key = f"uploads/bench/{n:012d}"
        anyio.run(store.put, key, _once(block))
        digest.update(block)
        keys.append(key)
    return keys, digest.hexdigest(), CLIP_MIB * 1024 * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        # As open_store gives it: every object sealed under the master key.
        store = SealedStore(LocalStore(root), os.urandom(32))
        keys, sha, size = _parts(store)
        request = IngestRequest.from_payload(
            {
                "source": "tus",
                "upload_id": "bench",
                "parts": keys,
                "size": size,
                "sha256_received": sha,
                "metadata": {
                    "camera_serial": "BENCH",
                    "recorded_at": "2026-11-26T08:00:00+00:00",
                    "sha256": sha,
                },
            }
        )
        started = time.perf_counter()
        with (root / "baseline").open("wb") as out:
            for key in keys:
                with (root / key).open("rb") as part:
                    shutil.copyfileobj(part, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        baseline = time.perf_counter() - started

        tracemalloc.start()
        started = time.perf_counter()
        anyio.run(_join_verified, store, request, f"clips/{sha}")
        joined = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert (root / "clips" / sha).stat().st_size == size

    mib_s = CLIP_MIB / joined
    update_section(
        "footage-ingest",
        f"""
## Footage ingest: joining an upload's parts into one clip (`bench/bench_footage_ingest.py`)

A {CLIP_MIB} MiB clip in {CLIP_MIB // PART_MIB} parts of {PART_MIB} MiB on the local store, joined into
`clips/<sha256>` with the bytes hashed on the way; {platform.python_implementation()}
{platform.python_version()}, {os.cpu_count()} CPUs.

| | seconds | MiB/s | peak memory allocated |
| --- | --- | --- | --- |
| join, hash and store (ingest) | {joined:.2f} | {mib_s:.0f} | {peak / 1024 / 1024:.1f} MiB |
| baseline: plain copy of the parts into one file | {baseline:.2f} | {CLIP_MIB / baseline:.0f} | n/a |

Memory stays a few chunks whatever the clip's size: the join streams. The copy is the price of one
object per clip (simple range reads for playback, one key to seal, keep or delete); an object store
that can compose parts server-side could skip it.
""",
    )
    print(
        f"footage ingest: join {joined:.2f} s ({mib_s:.0f} MiB/s, peak {peak / 1024 / 1024:.1f} MiB), copy {baseline:.2f} s"
    )


if __name__ == "__main__":
    main()
