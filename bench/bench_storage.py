"""Sealed storage on local disk beside a plain file copy of the same bytes, in the same run.

256 MiB of random bytes, fed in 256 KiB pieces as an upload would be, written and read back
through: a plain copy (write, fsync, rename; read in 1 MiB pieces), the raw obstore-backed
``LocalStore`` (no encryption) and the ``SealedStore`` over it (AES-256-GCM in 1 MiB chunks).
Then 1 MiB ranged reads at random offsets from the sealed object, beside the same reads from the
plain file. Reads come from the page cache in every case, so the figures compare the work done
on the bytes, not the disk.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

from bench.report import update_section
from openbwv import clock
from openbwv.storage.backends import LocalStore
from openbwv.storage.sealing import SealedStore
from openbwv.storage.store import RawStore

SIZE = 256 * 1024 * 1024
PIECE = 256 * 1024
READ_PIECE = 1024 * 1024
ROUNDS = 3
RANGES = 200
RANGE_SIZE = 1024 * 1024


async def _pieces(source: Path) -> AsyncIterator[bytes]:
    with source.open("rb") as handle:
        while piece := handle.read(PIECE):
            yield piece


async def _plain_put(source: Path, target: Path) -> None:
    staged = target.with_name(target.name + ".part")
    with staged.open("wb") as handle:
        async for piece in _pieces(source):
            handle.write(piece)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, target)


async def _plain_read(target: Path) -> int:
    total = 0
    with target.open("rb") as handle:
        while piece := handle.read(READ_PIECE):
            total += len(piece)
    return total


async def _plain_range(target: Path, start: int) -> bytes:
    with target.open("rb") as handle:
        handle.seek(start)
        return handle.read(RANGE_SIZE)


async def _store_read(store: RawStore, key: str, start: int = 0, end: int | None = None) -> int:
    total = 0
    async for chunk in store.read(key, start, end):
        total += len(chunk)
    return total


async def _timed(run: Awaitable[object]) -> float:
    started = time.perf_counter()
    await run
    return time.perf_counter() - started


async def _measure(source: Path, root: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    raw = LocalStore(root / "raw")
    sealed = SealedStore(LocalStore(root / "sealed"), os.urandom(32))
    plain = root / "plain"
    writes: dict[str, list[float]] = {"plain": [], "raw": [], "sealed": []}
    reads: dict[str, list[float]] = {"plain": [], "raw": [], "sealed": []}
    # Alternating round by round, so a change in the machine's load touches each alike.
    for _ in range(ROUNDS):
        writes["plain"].append(await _timed(_plain_put(source, plain)))
        reads["plain"].append(await _timed(_plain_read(plain)))
        for name, store in (("raw", raw), ("sealed", sealed)):
            writes[name].append(await _timed(store.put("clip", _pieces(source))))
            reads[name].append(await _timed(_store_read(store, "clip")))
    ranges: dict[str, list[float]] = {"plain": [], "sealed": []}
    for _ in range(RANGES):
        start = random.randrange(0, SIZE - RANGE_SIZE)
        ranges["plain"].append(await _timed(_plain_range(plain, start)))
        ranges["sealed"].append(await _timed(_store_read(sealed, "clip", start, start + RANGE_SIZE)))
    return writes, reads | {f"range {name}": values for name, values in ranges.items()}


def _rate(seconds: float) -> str:
    return f"{SIZE / seconds / 2**20:,.0f} MiB/s ({seconds:.2f} s)"


def main() -> None:
    today = clock.today()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        source = root / "source"
        with source.open("wb") as handle:
            for _ in range(SIZE // (16 * 2**20)):
                handle.write(os.urandom(16 * 2**20))
        times, reads = asyncio.run(_measure(source, root))
        plain_ranges, sealed_ranges = reads.pop("range plain"), reads.pop("range sealed")
        stored = (root / "sealed" / "clip").stat().st_size

    def row(label: str, name: str) -> str:
        write, read = statistics.median(times[name]), statistics.median(reads[name])
        ratio = f"{write / statistics.median(times['plain']):.1f}x / {read / statistics.median(reads['plain']):.1f}x"
        return f"| {label} | {_rate(write)} | {_rate(read)} | {'—' if name == 'plain' else ratio} |"

    def ms(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=100)[int(q) - 1] * 1000:.1f} ms"

    markdown = "\n".join(
        [
            "## Storage: sealed objects on local disk (`bench/bench_storage.py`)",
            "",
            "256 MiB of random bytes fed in 256 KiB pieces, as an upload arrives, then read back whole.",
            "Baseline: a plain copy of the same bytes in the same run (write, fsync, rename; read in",
            "1 MiB pieces). **Raw** is the obstore-backed `LocalStore` alone (staged write, fsync,",
            "rename); **sealed** is `SealedStore` over it, as `open_store` gives (AES-256-GCM per 1 MiB",
            "chunk). Reads come from the page cache in every case, so the figures compare the work done",
            "on the bytes rather than the disk.",
            "",
            f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; run on {today.isoformat()}; "
            f"load average {load:.1f} when it started; each figure the median of {ROUNDS} rounds.",
            "",
            "| Path | Write | Read whole | Write / read against the copy |",
            "|---|---:|---:|---:|",
            row("Plain file copy (baseline)", "plain"),
            row("Raw `LocalStore` (obstore)", "raw"),
            row("Sealed store", "sealed"),
            "",
            f"Stored size of the sealed object: {stored:,} bytes for {SIZE:,} ({stored - SIZE:,} bytes of header and tags).",
            "",
            f"| {RANGES} reads of 1 MiB at random offsets | p50 | p95 |",
            "|---|---:|---:|",
            f"| Plain file (baseline) | {ms(plain_ranges, 50)} | {ms(plain_ranges, 95)} |",
            f"| Sealed store (two chunks opened each) | {ms(sealed_ranges, 50)} | {ms(sealed_ranges, 95)} |",
        ]
    )
    update_section("bench_storage", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
