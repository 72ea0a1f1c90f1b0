"""Telemetry from a force's cameras through the real Mosquitto broker: how long a message takes to
reach the map's state in a server process, and how many are lost on the way to it and to the history.

``OPENBWV_BENCH_TELEMETRY_CAMERAS`` cameras (50,000), registered in a PostgreSQL database of the
benchmark's own (``openbwv_bench_live``) by the fleet's import, each publish once a second for
``OPENBWV_BENCH_TELEMETRY_SECONDS`` (60) on ``openbwv/cameras/{serial}/telemetry`` at QoS 0.

Processes, all on this machine and sharing its cores with the broker and PostgreSQL:

- Publishers (``OPENBWV_BENCH_TELEMETRY_PUBLISHERS``, 2): each one MQTT connection sending its share
  of the cameras' messages, spread evenly over each second in 50 ticks, as pre-built packets with the
  wall clock at the tick as the message's ``ts``. A camera's cost is its own, so they do the least
  work they can.
- The map: one process running the server's own subscription (``MapSubscriber`` into
  ``LatestPositions``) and, as a control room's open map does, the map's shared read with every
  moved camera shaped as its GeoJSON feature, asked by one stream every half second. Lag: the clock when a message is
  in the map's state less its ``ts``, for every message kept.
- The history: ``OPENBWV_BENCH_TELEMETRY_CONSUMERS`` (2) ``openbwv live consume`` processes sharing
  the subscription and writing the latest state and the positions to PostgreSQL. Stored: the rows in
  the position table once they stop growing.

Baseline, in the same run before the measured pass: the same publishers and one bare gmqtt
subscriber that only reads each message's ``ts`` (no check, no state, no map, no history).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.report import update_section

CAMERAS = int(os.environ.get("OPENBWV_BENCH_TELEMETRY_CAMERAS", 50_000))
SECONDS = int(os.environ.get("OPENBWV_BENCH_TELEMETRY_SECONDS", 60))
PUBLISHERS = int(os.environ.get("OPENBWV_BENCH_TELEMETRY_PUBLISHERS", 2))
CONSUMERS = int(os.environ.get("OPENBWV_BENCH_TELEMETRY_CONSUMERS", 2))
MQTT_URL = os.environ.get("OPENBWV_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SERVER = os.environ.get("OPENBWV_BENCH_POSTGRES_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "openbwv_bench_live"
URL = f"{SERVER}/{DATABASE}"
TICKS_PER_SECOND = 50
TARGET_P99_S = 1.0
# How long the map and the history are given to take what is still on its way when publishing ends.
DRAIN_SECONDS = 120
# What the map's child sent before it was stopped is taken within this.
APPLY_WAIT_SECONDS = 0.5
ROOT = Path(__file__).resolve().parents[1]


def _serial(n: int) -> str:
    return f"BWV{n:06d}"


def _broker() -> tuple[str, int]:
    from openbwv.live.broker import parse_broker_url

    broker = parse_broker_url(MQTT_URL)
    return broker.host, broker.port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(ordered: Sequence[float], share: float) -> float:
    """The ``share`` percentile of values already in order."""
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# -- the publishers -------------------------------------------------------------------------------


def _remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        digit, length = length % 128, length // 128
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def _connect_packet(client_id: str) -> bytes:
    ident = client_id.encode()
    # MQTT 3.1.1, clean session, no keep-alive (the connection lives as long as the run).
    variable = b"\x00\x04MQTT\x04\x02\x00\x00" + len(ident).to_bytes(2, "big") + ident
    return b"\x10" + _remaining_length(len(variable)) + variable


TS_LENGTH = len("2026-12-01T11:00:00.000+00:00")


def _packet_parts(n: int) -> tuple[bytes, bytes]:
    """A camera's QoS 0 PUBLISH packet around its ``ts``: what comes before it and after it."""
    topic = f"openbwv/cameras/{_serial(n)}/telemetry".encode()
    lat, lon = 52.40 + (n % 400) * 0.0005, -2.10 + (n // 400) * 0.004
    tail = (
        f'","lat":{lat:.5f},"lon":{lon:.5f},"accuracy_m":5,"recording":{"true" if n % 7 == 0 else "false"},'
        f'"battery_pct":{40 + n % 60},"storage_pct":{n % 90}}}'
    ).encode()
    body_length = 2 + len(topic) + len(b'{"ts":"') + TS_LENGTH + len(tail)
    head = b"\x30" + _remaining_length(body_length) + len(topic).to_bytes(2, "big") + topic + b'{"ts":"'
    return head, tail


def publish(first: int, count: int, seconds: int, start_at: float) -> None:
    """Publish ``count`` cameras' telemetry once a second from ``start_at`` for ``seconds``; print
    how many messages were sent and how late the last tick ran."""
    parts = [_packet_parts(n) for n in range(first, first + count)]
    connection = socket.create_connection(_broker())
    connection.sendall(_connect_packet(f"bench-pub-{uuid.uuid4().hex[:8]}"))
    assert connection.recv(4)[:2] == b"\x20\x02", "the broker refused the connection"
    per_tick = -(-count // TICKS_PER_SECOND)
    sent, late = 0, 0.0
    for tick in range(seconds * TICKS_PER_SECOND):
        due = start_at + tick / TICKS_PER_SECOND
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        else:
            late = max(late, -wait)
        ts = datetime.now(UTC).isoformat(timespec="milliseconds").encode()
        chunk = parts[(tick % TICKS_PER_SECOND) * per_tick : (tick % TICKS_PER_SECOND + 1) * per_tick]
        connection.sendall(b"".join(b"".join((head, ts, tail)) for head, tail in chunk))
        sent += len(chunk)
    connection.sendall(b"\xe0\x00")  # DISCONNECT
    connection.close()
    print(json.dumps({"sent": sent, "late_s": late}), flush=True)


# -- the map's process, and the bare baseline -----------------------------------------------------


def follow_map(database_url: str, out: str, *, bare: bool) -> None:
    """The server's subscription and map read (or, ``bare``, a subscriber that only reads each
    message's time) until SIGTERM; then write what it received and each lag to ``out``."""
    from gmqtt import Client

    lags = array("d")
    received = [0]

    async def run() -> None:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stopped.set)
        if bare:
            client = Client(f"bench-bare-{uuid.uuid4().hex[:8]}")

            def on_message(client: Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
                received[0] += 1
                ts = datetime.fromisoformat(json.loads(payload)["ts"])
                lags.append(time.time() - ts.timestamp())
                return 0

            client.on_message = on_message
            client.on_connect = lambda c, *_: c.subscribe("openbwv/cameras/+/telemetry", qos=0)
            await client.connect(*_broker())
            await asyncio.sleep(1.0)
            print("ready", flush=True)
            await stopped.wait()
            await client.disconnect()
            return
        await _follow_with_the_servers_code(database_url, stopped, lags, received)

    asyncio.run(run())
    Path(out).write_text(json.dumps({"received": received[0]}))
    with open(f"{out}.lags", "wb") as lag_file:
        lags.tofile(lag_file)


async def _follow_with_the_servers_code(
    database_url: str, stopped: asyncio.Event, lags: array[float], received: list[int]
) -> None:
    """The server's own start of the map (``follow_map_in_app``), and one stream's polls."""
    from types import SimpleNamespace

    import anyio

    from openbwv.config import Settings
    from openbwv.db import make_engine, make_session_factory
    from openbwv.domains import ServiceContext
    from openbwv.live.api import feature_text
    from openbwv.live.feed import POLL_SECONDS, SharedMapRead
    from openbwv.live.map_state import follow_map_in_app
    from openbwv.observability import Metrics

    def kept(readings: Sequence[Any], at: datetime) -> None:
        lags.extend((at - r.ts).total_seconds() for r in readings)

    settings = Settings(database_url=database_url, mqtt_url=MQTT_URL, secret_key="bench")
    factory = make_session_factory(make_engine(database_url))
    state = SimpleNamespace()
    metrics = Metrics()
    async with follow_map_in_app(ServiceContext(settings, factory, metrics, state), applied=kept):
        shared = SharedMapRead(state.live_map, stale_after=timedelta(minutes=2), shape=feature_text)
        await asyncio.sleep(2.0)
        children = [p for p in _children(os.getpid()) if p != os.getpid()]
        print("ready", *children, flush=True)
        version = 0
        while not stopped.is_set():
            version, _, _ = await anyio.to_thread.run_sync(shared.since, version)
            await asyncio.sleep(POLL_SECONDS)
        await asyncio.sleep(APPLY_WAIT_SECONDS)
        accepted = metrics.registry.get_sample_value
        received[0] = len(lags) + int(
            sum(
                accepted("openbwv_live_map_ignored_total", {"reason": reason}) or 0
                for reason in ("malformed", "impossible", "stale")
            )
        )


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started, from any of its threads."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


# -- the run --------------------------------------------------------------------------------------


def _admin_url() -> str:
    return f"{SERVER.replace('+psycopg', '')}/postgres"


def _seed() -> float:
    """A fresh database with ``CAMERAS`` cameras, by the fleet's import; seconds taken."""
    from openbwv.db import make_engine, make_session_factory, transaction
    from openbwv.fleet import imports
    from openbwv.migrate import upgrade
    from openbwv.policy import SYSTEM

    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    upgrade(URL)
    started = time.perf_counter()
    lines = ["kind,serial,model"] + [f"camera,{_serial(n)},Axon Body 3" for n in range(CAMERAS)]
    factory = make_session_factory(make_engine(URL))
    with transaction(factory) as db:
        assert imports.import_devices(db, SYSTEM, text="\n".join(lines) + "\n").imported == CAMERAS
    return time.perf_counter() - started


def _stored() -> int:
    with psycopg.connect(URL.replace("+psycopg", "")) as connection:
        row = connection.execute("SELECT count(*) FROM live_position").fetchone()
        return int(row[0]) if row else 0


def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", **(env or {})},
    )


def _mosquitto_pid() -> int | None:
    found = subprocess.run(["pgrep", "-x", "mosquitto"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def _start_consumers() -> list[subprocess.Popen[str]]:
    env = {
        "OPENBWV_DATABASE_URL": URL,
        "OPENBWV_MQTT_URL": MQTT_URL,
        "OPENBWV_LIVE_MQTT_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "OPENBWV_SECRET_KEY": "bench",
        "OPENBWV_LOG_LEVEL": "WARNING",
    }
    consumers = [
        _python("-c", "from openbwv.cli import run; run()", "live", "consume", env=env)
        for _ in range(CONSUMERS)
    ]
    for consumer in consumers:
        assert consumer.stdout is not None and consumer.stdout.readline().startswith("Consuming")
    time.sleep(1.0)
    return consumers


def _postgres_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def _publish_all() -> tuple[int, float, float, float]:
    """Publish every camera's telemetry for ``SECONDS``: messages sent, the latest tick, the
    publishers' CPU seconds and the pass's seconds."""
    start_at = time.time() + 2.0
    share = -(-CAMERAS // PUBLISHERS)
    publishers = [
        _python("-m", "bench.bench_live_telemetry", "publish", str(first),
                str(min(share, CAMERAS - first)), str(SECONDS), str(start_at))
        for first in range(0, CAMERAS, share)
    ]  # fmt: skip
    sent, late, cpu = 0, 0.0, 0.0
    for publisher in publishers:
        assert publisher.stdout is not None
        figures = json.loads(publisher.stdout.readline())
        cpu += _cpu_seconds(publisher.pid)
        sent, late = sent + figures["sent"], max(late, figures["late_s"])
        publisher.wait()
    return sent, late, cpu, time.time() - start_at


def run_pass(tmp: Path, mode: str) -> dict[str, Any]:
    """One pass, ``mode`` being ``bare`` (the baseline subscriber), ``map`` (the server's map state)
    or ``history`` (the consumers writing to PostgreSQL), while the publishers send for ``SECONDS``."""
    out = tmp / f"{mode}.json"
    watched: dict[str, int] = {}
    follower = consumers = None
    stored_before = 0
    if mode in ("bare", "map"):
        follower = _python("-m", "bench.bench_live_telemetry", "follow", URL, str(out), mode)
        assert follower.stdout is not None
        ready = follower.stdout.readline().split()
        assert ready[:1] == ["ready"], ready
        watched[mode] = follower.pid
        watched |= {f"child {pid}": int(pid) for pid in ready[1:]}
    else:
        stored_before = _stored()
        consumers = _start_consumers()
        watched |= {f"consumer {n + 1}": c.pid for n, c in enumerate(consumers)}
        watched |= {f"postgres {pid}": pid for pid in _postgres_pids()}
    if (broker := _mosquitto_pid()) is not None:
        watched["mosquitto"] = broker
    cpu_before = {name: _cpu_seconds(pid) for name, pid in watched.items() if Path(f"/proc/{pid}").exists()}
    sent, late, publisher_cpu, elapsed = _publish_all()
    cpu_used = {
        name: _cpu_seconds(pid) - cpu_before[name]
        for name, pid in watched.items()
        if name in cpu_before and Path(f"/proc/{pid}").exists()
    }
    cpu = {
        name: used / elapsed for name, used in cpu_used.items() if not name.startswith(("postgres", "child"))
    }
    if children := [used for name, used in cpu_used.items() if name.startswith("child")]:
        cpu["map's subscription (child process)"] = sum(children) / elapsed
    if mode == "history":
        # Every PostgreSQL process, those the consumers started since counted from nothing.
        postgres = 0.0
        for pid in _postgres_pids():
            with suppress(FileNotFoundError):
                postgres += _cpu_seconds(pid) - cpu_before.get(f"postgres {pid}", 0.0)
        cpu["postgres"] = postgres / elapsed
    cpu["publishers"] = publisher_cpu / elapsed
    result: dict[str, Any] = {"mode": mode, "sent": sent, "publisher_late_s": late, "cpu": cpu}
    if consumers is not None:
        ended = time.monotonic()
        stored, steady_since = _stored(), time.monotonic()
        while time.monotonic() - ended < DRAIN_SECONDS and time.monotonic() - steady_since < 3:
            time.sleep(0.5)
            if (now_stored := _stored()) != stored:
                stored, steady_since = now_stored, time.monotonic()
        for consumer in consumers:
            consumer.send_signal(signal.SIGINT)
        for consumer in consumers:
            consumer.wait(60)
        return result | {"stored": stored - stored_before, "history_behind_s": steady_since - ended}
    assert follower is not None
    time.sleep(3.0)
    follower.send_signal(signal.SIGTERM)
    follower.wait(60)
    lags = array("d")
    with open(f"{out}.lags", "rb") as lag_file:
        lags.frombytes(lag_file.read())
    ordered = sorted(lags)
    return result | {
        "received": json.loads(out.read_text())["received"],
        "kept": len(ordered),
        "p50": _percentile(ordered, 0.50),
        "p95": _percentile(ordered, 0.95),
        "p99": _percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else float("nan"),
    }


def _report(seed_s: float, passes: dict[str, dict[str, Any]]) -> str:
    bare, measured, history = passes["bare"], passes["map"], passes["history"]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:,.0f} ms"

    def lost(arrived: int, sent: int) -> str:
        return f"{sent - arrived:,} ({(sent - arrived) / sent:.2%})"

    lines = [
        "## Telemetry through the broker (`bench/bench_live_telemetry.py`)",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}. {CAMERAS:,} cameras (registered "
        f"by the fleet's import in {seed_s:.1f} s), each publishing once a second for {SECONDS} s at "
        f"QoS 0 through Mosquitto on loopback ({CAMERAS:,} messages a second from {PUBLISHERS} "
        "publishing processes). Lag: the subscriber's clock when a message is in its state less the "
        "message's time. Three passes, one after the other: a bare subscriber (baseline), the "
        "server's map state with one open map's stream asking for changes every half second, and the history's "
        f"{CONSUMERS} consumers sharing the subscription into PostgreSQL.",
        "",
        "| | Bare subscriber (baseline) | The server's map state |",
        "|---|---|---|",
        f"| Messages sent | {bare['sent']:,} | {measured['sent']:,} |",
        f"| Lost before the state | {lost(bare['received'], bare['sent'])} | "
        f"{lost(measured['received'], measured['sent'])} |",
        f"| Lag p50 | {ms(bare['p50'])} | {ms(measured['p50'])} |",
        f"| Lag p95 | {ms(bare['p95'])} | {ms(measured['p95'])} |",
        f"| Lag p99 (target under {TARGET_P99_S:.0f} s) | {ms(bare['p99'])} | {ms(measured['p99'])} |",
        f"| Lag, most | {ms(bare['max'])} | {ms(measured['max'])} |",
        f"| Publishers' latest tick | {ms(bare['publisher_late_s'])} | {ms(measured['publisher_late_s'])} |",
        "",
        f"History: {history['stored']:,} positions stored of {history['sent']:,} sent (lost "
        f"{lost(history['stored'], history['sent'])}); the last stored {history['history_behind_s']:.1f} s "
        "after publishing ended.",
        "",
        "CPU while publishing, in cores (user + system over the pass):",
        "",
        "| Process | Bare subscriber | Map state | History |",
        "|---|---|---|---|",
    ]
    names = sorted({name for result in passes.values() for name in result["cpu"]})
    for name in names:
        cells = [result["cpu"].get(name) for result in (bare, measured, history)]
        lines.append(f"| {name} | " + " | ".join("—" if c is None else f"{c:.2f}" for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    seed_s = _seed()
    with tempfile.TemporaryDirectory() as tmp:
        passes = {mode: run_pass(Path(tmp), mode) for mode in ("bare", "map", "history")}
    update_section("bench_live_telemetry", _report(seed_s, passes))
    print(json.dumps(passes, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publish":
        publish(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "follow":
        follow_map(sys.argv[2], sys.argv[3], bare=sys.argv[4] == "bare")
    else:
        main()
