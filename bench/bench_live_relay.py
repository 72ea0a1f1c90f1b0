"""Live video through the embedded relay: cameras streaming at once, several viewers each, and the
delay from the camera's clock to the viewer's decoded picture.

``openbwv serve`` in a child process (SQLite). ``OPENBWV_BENCH_LIVE_STREAMS`` cameras (20) report
that they record, then each pushes ``simulator.live_stream`` (H.264 in MPEG-TS, 320x180 at 10
frames a second, made in real time with the wall clock in its squares) to its ingest route for
``OPENBWV_BENCH_LIVE_SECONDS`` (30); ``OPENBWV_BENCH_LIVE_VIEWERS`` (5) control room users per
camera each open a live view and read the WebSocket, decoding the fragmented MP4 with PyAV as it
arrives. Glass-to-glass: the wall clock when a picture is decoded less the clock burnt into it
(every fifth picture). CPU: the server process's user + system time over the streaming. Baseline,
in the same run: the same encoders each piped straight into a decoder in this process, no server.
Everything (encoders, viewers, decoders, server) shares this machine's cores.
"""

from __future__ import annotations

import os
import platform
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx2
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bench.report import update_section
from openbwv import auth, fleet, people
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import credentials
from openbwv.live import simulator
from openbwv.live.relay import FRAGMENT_MICROSECONDS, _BodyReader
from openbwv.migrate import upgrade
from openbwv.policy import SYSTEM
from tests.server_process import ServerProcess

STREAMS = int(os.environ.get("OPENBWV_BENCH_LIVE_STREAMS", 20))
VIEWERS = int(os.environ.get("OPENBWV_BENCH_LIVE_VIEWERS", 5))
SECONDS = float(os.environ.get("OPENBWV_BENCH_LIVE_SECONDS", 30))
# Viewers of each camera that decode what they receive and time it; the others only read it, as a
# browser on a machine of its own would, so that a hundred decoders do not share the server's cores.
DECODING = int(os.environ.get("OPENBWV_BENCH_LIVE_DECODING", 1))
SAMPLE_EVERY = 5
# A player's settings: no probing ahead, no buffering, one decoding thread (frame threads hold
# pictures back); the first two seconds of each viewer, while it starts, are not measured.
LOW_DELAY = {"fflags": "nobuffer", "probesize": "32768", "analyzeduration": "0"}
WARM_UP_PICTURES = 2 * simulator.FRAMES_PER_SECOND
CLOCK_MODULUS = 2**simulator.CLOCK_BITS


def _now_ms() -> int:
    return int(time.time() * 1000) % CLOCK_MODULUS


@dataclass
class Delays:
    """Glass-to-glass delays measured, in milliseconds, and what else the viewers saw."""

    ms: list[float] = field(default_factory=list)
    frames: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def decode(self, reader: _BodyReader, container: str) -> None:
        """Decode what ``reader`` receives, timing every ``SAMPLE_EVERY``-th picture."""
        try:
            with av.open(reader, "r", format=container, options=LOW_DELAY) as source:
                video = source.streams.video[0]
                video.codec_context.thread_count = 1
                for n, frame in enumerate(source.decode(video)):
                    if n >= WARM_UP_PICTURES and n % SAMPLE_EVERY == 0:
                        delay = (_now_ms() - simulator.read_clock(frame)) % CLOCK_MODULUS
                        with self.lock:
                            self.ms.append(delay)
                    with self.lock:
                        self.frames += 1
        except av.error.FFmpegError:
            return


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _seed(url: str) -> tuple[dict[str, str], list[str]]:
    """Cameras with credentials, and control room users' tokens, through the services."""
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    cameras: dict[str, str] = {}
    tokens: list[str] = []
    with transaction(factory) as db:
        for n in range(STREAMS):
            serial = f"LIVE{n:03d}"
            fleet.create_device(db, SYSTEM, kind="camera", serial=serial, model="Axon Body 3")
            cameras[serial] = credentials.issue_credential(db, SYSTEM, serial=serial)[1]
        for n in range(VIEWERS):
            account = people.create_account(
                db, SYSTEM, username=f"control{n}", password="bench password", roles=["control_room"]
            )
            tokens.append(auth.issue_token(db, account, kind="api", ttl=timedelta(hours=1)))
    return cameras, tokens


def _stream_until(base: str, serial: str, credential: str, stop: threading.Event) -> None:
    body = simulator.live_stream(serial, (40, 60, 90), stop)
    with httpx2.Client(timeout=None) as client:
        client.post(
            f"{base}/api/v1/live/streams/{serial}/ingest",
            content=body,
            headers={"Authorization": f"Bearer {credential}", "Content-Type": "video/mp2t"},
        )


def _watch(url: str, token: str, delays: Delays, closes: list[int], *, decode: bool) -> None:
    """Read a live view's WebSocket; ``decode``: decode it and time its pictures as well."""
    reader = _BodyReader()
    decoder = threading.Thread(target=delays.decode, args=(reader, "mp4"), daemon=True)
    if decode:
        decoder.start()
    try:
        with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None) as socket:
            for message in socket:
                if decode:
                    reader.chunks.put(bytes(message))  # type: ignore[arg-type]
            # Iteration ends quietly when the server closes normally.
            closes.append(socket.close_code if socket.close_code is not None else -1)
    except ConnectionClosed as closed:
        closes.append(closed.rcvd.code if closed.rcvd else -1)
    finally:
        reader.chunks.put(None)
        if decode:
            decoder.join(30)


def run_relay(tmp: Path) -> dict[str, object]:
    url = f"sqlite:///{tmp}/relay.sqlite3"
    cameras, tokens = _seed(url)
    server = ServerProcess(database_url=url, data_dir=tmp / "data", log_path=tmp / "server.log")
    stop = threading.Event()
    delays = Delays()
    closes: list[int] = []
    try:
        server.wait_ready()
        base = server.base_url
        with httpx2.Client(base_url=base, timeout=30) as api:
            for credential in cameras.values():
                reading = {"ts": datetime.now(UTC).isoformat(), "lat": 52.48, "lon": -1.9, "accuracy_m": 5,
                           "recording": True, "battery_pct": 80, "storage_pct": 20}  # fmt: skip
                answer = api.post(
                    "/api/v1/live/telemetry", json=reading, headers={"Authorization": f"Bearer {credential}"}
                )
                assert answer.status_code == 202, answer.text
            senders = [
                threading.Thread(target=_stream_until, args=(base, serial, credential, stop), daemon=True)
                for serial, credential in cameras.items()
            ]
            for sender in senders:
                sender.start()
            time.sleep(2.0)
            viewers = []
            for serial in cameras:
                for n, token in enumerate(tokens):
                    view = api.post(
                        "/api/v1/live/views",
                        json={
                            "camera_serial": serial,
                            "reason_code": "officer-safety",
                            "incident_number": "BENCH-1",
                        },
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert view.status_code == 201, view.text
                    ws = base.replace("http://", "ws://") + view.json()["stream_url"]
                    viewers.append(
                        threading.Thread(
                            target=_watch,
                            args=(ws, token, delays, closes),
                            kwargs={"decode": n < DECODING},
                            daemon=True,
                        )
                    )
        cpu_before, started = _cpu_seconds(server._process.pid), time.monotonic()
        for viewer in viewers:
            viewer.start()
        time.sleep(SECONDS)
        cpu = _cpu_seconds(server._process.pid) - cpu_before
        elapsed = time.monotonic() - started
        stop.set()
        for thread in (*senders, *viewers):
            thread.join(30)
    finally:
        stop.set()
        server.stop()
    return {"delays": delays, "cpu_s": cpu, "elapsed_s": elapsed, "closes": closes}


def run_baseline() -> Delays:
    """Each encoder piped straight into a decoder: the delay of encoding, muxing and decoding alone."""
    stop = threading.Event()
    delays = Delays()

    def pipe(serial: str) -> None:
        reader = _BodyReader()
        decoder = threading.Thread(target=delays.decode, args=(reader, "mpegts"), daemon=True)
        decoder.start()
        for chunk in simulator.live_stream(serial, (40, 60, 90), stop):
            reader.chunks.put(chunk)
        reader.chunks.put(None)
        decoder.join(30)

    threads = [threading.Thread(target=pipe, args=(f"BASE{n:03d}",), daemon=True) for n in range(STREAMS)]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(30)
    return delays


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def write_doc(relay: dict[str, object], baseline: Delays, loads: dict[str, str]) -> str:
    delays = relay["delays"]
    assert isinstance(delays, Delays)
    cpu, elapsed = float(relay["cpu_s"]), float(relay["elapsed_s"])  # type: ignore[arg-type]
    closes = relay["closes"]
    assert isinstance(closes, list)
    early = sum(1 for code in closes if code != 1000)
    return "\n".join(
        [
            "## Live video through the embedded relay (`bench/bench_live_relay.py`)",
            "",
            f"Python {platform.python_version()}, PyAV {av.__version__}, {os.cpu_count()} cores shared by "
            f"everything below; run on {datetime.now(UTC).date().isoformat()}. {STREAMS} cameras each "
            f"streaming H.264 in MPEG-TS (320x180, {simulator.FRAMES_PER_SECOND} frames a second, a "
            f"keyframe a second, made in real time) to `openbwv serve` (a child process, SQLite; fragments "
            f"cut at least every {FRAGMENT_MICROSECONDS // 1000} ms), {VIEWERS} control room viewers per "
            f"camera ({STREAMS * VIEWERS} WebSockets) for {SECONDS:.0f} s, {DECODING} of each camera's "
            "decoding the fragmented MP4 as it arrives and the others only reading it (as browsers on "
            "machines of their own would). Glass-to-glass is the wall clock at decoding less the clock "
            f"burnt into the picture, every {SAMPLE_EVERY}th picture after each viewer's first two "
            "seconds, decoded as a live player does (no probing ahead, no buffering, one decoding "
            "thread). The encoders, viewers and decoders run in the benchmark's own process on the same "
            "two cores as the server.",
            "",
            "| | p50 | p95 | p99 | pictures decoded | measured |",
            "|---|---|---|---|---|---|",
            f"| Through the relay (load {loads['relay']}) | {_percentile(delays.ms, 0.5):.0f} ms | "
            f"{_percentile(delays.ms, 0.95):.0f} ms | {_percentile(delays.ms, 0.99):.0f} ms | "
            f"{delays.frames:,} | {len(delays.ms):,} |",
            f"| Baseline: encoder piped into a decoder, no server (load {loads['baseline']}) | "
            f"{_percentile(baseline.ms, 0.5):.0f} ms | {_percentile(baseline.ms, 0.95):.0f} ms | "
            f"{_percentile(baseline.ms, 0.99):.0f} ms | {baseline.frames:,} | {len(baseline.ms):,} |",
            "",
            f"Server CPU while streaming: {cpu:.1f} s in {elapsed:.1f} s, {100 * cpu / elapsed:.0f}% of one "
            f"core, {100 * cpu / elapsed / STREAMS:.1f}% of a core per stream (remuxing, {VIEWERS} "
            f"WebSockets each, telemetry checks). Viewers whose connection closed other than by the stream "
            f"ending (1000): {early} of {len(closes)}.",
        ]
    )


def main() -> None:
    loads: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        before = _load()
        relay = run_relay(Path(tmp))
        loads["relay"] = f"{before} → {_load()}"
    before = _load()
    baseline = run_baseline()
    loads["baseline"] = f"{before} → {_load()}"
    delays = relay["delays"]
    assert isinstance(delays, Delays)
    print(
        f"relay: p50 {_percentile(delays.ms, 0.5):.0f} ms p95 {_percentile(delays.ms, 0.95):.0f} ms "
        f"({len(delays.ms)} measured); baseline p50 {_percentile(baseline.ms, 0.5):.0f} ms "
        f"p95 {_percentile(baseline.ms, 0.95):.0f} ms; server CPU {relay['cpu_s']:.1f} s in "
        f"{relay['elapsed_s']:.1f} s; closes {relay['closes']}"
    )
    update_section("bench_live_relay", write_doc(relay, baseline, loads))
    print("Figures written to docs/PERFORMANCE.md.")


if __name__ == "__main__":
    main()
