"""Footage over loopback tus to one ``openbwv serve`` process until every clip is ingested and
probed, beside ``sha256sum`` + ``cp``, plain ``cp`` and ``cp`` + ``sync`` of the same files in the
same run; and 500 docks at once.

The files: 20 real H.264 clips of about 100 MiB (720p, 25 frames a second, noisy enough to need the
bytes). One clip is encoded, and each file is that clip with a ``free`` box of its own appended, so
the files differ (content addressing would store equal files once) and each is a clip PyAV reads.
Ingest is timed from the first byte sent until the last clip is probed: received and hashed as it
streams, parts sealed and written with ``fsync``, the clip composed of its parts and recorded, then
probed (facts, poster, thumbnails). Four uploads at a time, 16 MiB chunks. The server runs on
SQLite with its jobs inside, the store a folder on the same disk as the copies.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import av
from sqlalchemy import func, select

from bench.report import update_section
from openbwv import clock
from openbwv.db import make_engine, make_session_factory
from openbwv.footage.models import Clip
from openbwv.migrate import upgrade
from tests.builders import device_headers_for
from tests.server_process import ServerProcess
from tests.uploads.swarm import upload_all

MIB = 1024 * 1024
CLIPS = 20
CLIP_SECONDS = 12
CHUNK = 16 * MIB
AT_ONCE = 4
SWARM = 500


def _encode_clip(path: Path) -> None:
    """A 720p H.264 clip: a moving test pattern with fresh noise in every frame."""
    graph = av.filter.Graph()
    source = graph.add("testsrc2", f"size=1280x720:rate=25:duration={CLIP_SECONDS}")
    noise = graph.add("noise", "alls=12:allf=t")
    pixels = graph.add("format", "yuv420p")
    sink = graph.add("buffersink")
    source.link_to(noise)
    noise.link_to(pixels)
    pixels.link_to(sink)
    graph.configure()
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream(
            "libx264", rate=25, options={"preset": "ultrafast", "crf": "18", "g": "50"}
        )
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        index = 0
        while True:
            try:
                frame = cast(av.VideoFrame, sink.pull())
            except (av.error.EOFError, av.error.BlockingIOError):
                break
            frame.pts = index
            index += 1
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def _files(folder: Path) -> list[Path]:
    folder.mkdir()
    base = folder / "base.mp4"
    _encode_clip(base)
    clip = base.read_bytes()
    base.unlink()
    paths = []
    for _ in range(CLIPS):
        own = os.urandom(16)
        data = clip + (8 + len(own)).to_bytes(4, "big") + b"free" + own
        path = folder / f"{hashlib.sha256(data).hexdigest()}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def _timed(*commands: list[str]) -> float:
    subprocess.run(["sync"], check=True)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _server(root: Path, name: str) -> tuple[ServerProcess, str, list[dict[str, str]]]:
    data_dir = root / name
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'openbwv.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    docks = [
        device_headers_for(make_session_factory(engine), kind="dock", serial=f"DOCK-{n}") for n in range(5)
    ]
    engine.dispose()
    server = ServerProcess(database_url=url, data_dir=data_dir, log_path=root / f"{name}.log")
    server.wait_ready()
    return server, url, docks


def _wait_for_clips(url: str, count: int, *, probed: bool = False) -> float:
    """When ``count`` clips are recorded (``probed``: and probed, or failed)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    query = select(func.count()).select_from(Clip)
    if probed:
        query = query.where((Clip.probed_at.is_not(None)) | (Clip.ingest_state == "failed"))
    try:
        while True:
            with factory() as db:
                if (db.scalar(query) or 0) >= count:
                    return time.perf_counter()
            time.sleep(0.05)
    finally:
        engine.dispose()


def _discarded(files: list[Path], auths: list[dict[str, str]]) -> float:
    """Seconds to send ``files`` with the same client to a server that throws the bytes away."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.discard:app", "--port", str(port), "--log-level", "warning"],
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the discarding server did not start"
                time.sleep(0.1)
        outcome = asyncio.run(upload_all(base_url, auths, files, chunk=CHUNK, concurrency=AT_ONCE))
        assert outcome.failures == [], outcome.failures
        return outcome.seconds
    finally:
        server.terminate()
        server.wait(timeout=30)


def _probed(url: str) -> int:
    """How many clips were probed (the rest failed to read as video)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            return db.scalar(select(func.count()).select_from(Clip).where(Clip.probed_at.is_not(None))) or 0
    finally:
        engine.dispose()


def main() -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as scratch:
        root = Path(scratch)
        files = _files(root / "source")
        total = sum(path.stat().st_size for path in files)
        names = [str(path) for path in files]
        for folder in ("cp", "synced", "hashed"):
            (root / folder).mkdir()
        cp_s = _timed(["cp", *names, str(root / "cp")])
        synced_s = _timed(["cp", *names, str(root / "synced")], ["sync"])
        hash_cp_s = _timed(["sha256sum", *names], ["cp", *names, str(root / "hashed")])
        for folder in ("cp", "synced", "hashed"):
            shutil.rmtree(root / folder)

        discard_s = _discarded(files, [{"Authorization": "Bearer none"}])

        server, url, docks = _server(root, "ingest")
        try:
            subprocess.run(["sync"], check=True)
            started = time.perf_counter()
            outcome = asyncio.run(upload_all(server.base_url, docks, files, chunk=CHUNK, concurrency=AT_ONCE))
            assert outcome.failures == [], outcome.failures
            received_s = outcome.seconds
            stored_s = _wait_for_clips(url, len(files)) - started
            ingest_s = _wait_for_clips(url, len(files), probed=True) - started
            probed = _probed(url)
            ingest_rss = server.peak_rss_bytes or 0
            print(
                f"cp {cp_s:.1f} s, cp + sync {synced_s:.1f} s, sha256sum + cp {hash_cp_s:.1f} s, "
                f"ingest {ingest_s:.1f} s ({total / MIB:.0f} MiB, {probed} of {len(files)} probed)"
            )
        finally:
            server.stop()
        shutil.rmtree(root / "ingest")

        rng = random.Random(1)
        small = [rng.randbytes(256 * 1024 + rng.randint(0, 64 * 1024)) for _ in range(SWARM)]
        server, url, docks = _server(root, "swarm")
        try:
            started = time.perf_counter()
            swarm = asyncio.run(upload_all(server.base_url, docks, small, chunk=128 * 1024))
            assert swarm.failures == [], swarm.failures[:5]
            swarm_ingested_s = _wait_for_clips(url, SWARM) - started
            swarm_rss = server.peak_rss_bytes or 0
        finally:
            server.stop()

    mib = total / MIB
    discard_mib_s = mib / discard_s
    rows = [
        ("plain `cp` (baseline)", cp_s),
        ("`cp` then `sync` (a durable copy)", synced_s),
        ("`sha256sum` then `cp`", hash_cp_s),
        ("the same client to a server that discards the bytes (the HTTP ceiling)", discard_s),
        ("tus over loopback until every clip is probed", ingest_s),
    ]
    table = "\n".join(
        f"| {what} | {seconds:.1f} | {mib / seconds:.0f} | {cp_s / seconds:.0%} | {synced_s / seconds:.0%} |"
        for what, seconds in rows
    )
    markdown = f"""
## Footage ingest over tus, beside `cp` (`bench/bench_ingest.py`)

{len(files)} files, {mib:,.0f} MiB in all: real H.264 clips of {CLIP_SECONDS} s at 720p, about
{mib / len(files):.0f} MiB each (one clip encoded, each file that clip with a `free` box of its own
appended, so no two are equal and each is a clip PyAV reads). Ingest: `openbwv serve` (SQLite, jobs
inside, the sealed store on local disk) receives each file over loopback tus ({AT_ONCE} uploads at a
time, {CHUNK // MIB} MiB chunks, one asyncio client), hashing it as it streams and writing it sealed
(AES-256-GCM) as parts, each synced before its PATCH is answered; the ingest job composes the clip of
its parts (no byte copied) and writes its row; the probe reads the clip by ranges for its facts,
poster and thumbnails. Timed from the first byte to the last clip probed ({probed} of {len(files)}
probed without error). The baselines copy the same files in the same run from the page cache; plain `cp` leaves
them unsynced, `cp` then `sync` waits until they are on the disk.

Machine: {os.cpu_count()} cores shared by client and server, Python {platform.python_version()}; run on
{clock.today().isoformat()}; load average {load:.1f} when it started.

| | seconds | MiB/s | share of plain `cp` | share of `cp` then `sync` |
|---|---|---|---|---|
{table}

The last PATCH was answered {received_s:.1f} s after the first byte ({mib / received_s:.0f} MiB/s
received); every clip was recorded at {stored_s:.1f} s and probed at {ingest_s:.1f} s. Server peak RSS
during ingest: {ingest_rss / MIB:.0f} MiB (the probe pool's processes not counted).

Reading it: the issue's target, 80% of plain `cp`, is not met, and cannot be over loopback HTTP on
this machine: the same client sending the same files to a server that does nothing but read and drop
the bytes reached {discard_mib_s:.0f} MiB/s, {cp_s / discard_s:.0%} of plain `cp`. Plain `cp` copies
within the kernel's page cache; an upload crosses a socket twice (client and server on the same two
cores) and HTTP parsing in Python. Against that ceiling ingest ran at {discard_s / ingest_s:.0%}: on top of
receiving, the server hashes each byte as it arrives, seals it, writes and syncs each part before
answering, composes the clip, and probes it (decoding ten frames of 720p). No byte is read or written
twice. `sha256sum` (coreutils, without the CPU's SHA instructions) ran at
{mib / max(hash_cp_s - cp_s, 0.001):.0f} MiB/s here; the server's hashing (OpenSSL through `hashlib`)
is several times faster.

### 500 docks at once

{SWARM} uploads of 256 to 320 KiB from 5 dock credentials, all at once from one asyncio client, to one
server process as above, in chunks of 128 KiB.

| | Result |
|---|---|
| Uploads completed | {len(swarm.urls)} of {SWARM} |
| All uploads answered complete | {swarm.seconds:.1f} s ({SWARM / swarm.seconds:.0f} uploads/s) |
| All {SWARM} clips ingested | {swarm_ingested_s:.1f} s ({SWARM / swarm_ingested_s:.0f} clips/s) |
| Server peak RSS (`VmHWM`, the serve process; the probe pool's processes not counted) | {swarm_rss / MIB:.0f} MiB |
"""
    update_section("bench_ingest", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
