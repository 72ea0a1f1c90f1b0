"""Device telemetry: what a camera signing in with its own credential costs per report.

Cameras report their battery health through ``POST /api/v1/device/telemetry`` with their device
credential; the baseline is the same reading reported by an equipment manager with a person's token
through ``POST /api/v1/devices/{serial}/health``, in the same run, alternating request by request.
Both go through the app in process (no network), each reading changing the value, so both write
the device row, a movement and an audit event; telemetry also writes its own audit event and marks
the credential used. Writes the figures to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from bench.report import update_section
from openbwv import auth, fleet, people
from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import credentials
from openbwv.jobs import JobRegistry
from openbwv.migrate import upgrade
from openbwv.policy import SYSTEM

CAMERAS = 20
REPORTS = 600
POSTGRES_URL = os.environ.get(
    "OPENBWV_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run_backend(url: str, data_dir: Path) -> dict[str, list[float]]:
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    device_headers: list[dict[str, str]] = []
    with transaction(factory) as db:
        manager = people.create_account(
            db, SYSTEM, username="stores", password="bench password", roles=["equipment_manager"]
        )
        token = auth.issue_token(db, manager, kind="api", ttl=timedelta(hours=1))
        for n in range(CAMERAS):
            fleet.create_device(db, SYSTEM, kind="camera", serial=f"CAM{n:04d}", model="Axon Body 3")
            _, raw = credentials.issue_credential(db, SYSTEM, serial=f"CAM{n:04d}")
            device_headers.append({"Authorization": f"Bearer {raw}"})
    person = {"Authorization": f"Bearer {token}"}
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="bench")
    timings: dict[str, list[float]] = {"device": [], "person": []}
    with TestClient(
        create_app(settings, factory, jobs=JobRegistry()), base_url="https://testserver"
    ) as client:

        def timed(path: str, body: dict[str, int], headers: dict[str, str]) -> float:
            began = time.perf_counter()
            response = client.post(path, json=body, headers=headers)
            elapsed = time.perf_counter() - began
            assert response.status_code == 200, response.text
            return elapsed

        for n in range(REPORTS):
            camera = n % CAMERAS
            timings["device"].append(
                timed("/api/v1/device/telemetry", {"battery_health": n % 101}, device_headers[camera])
            )
            timings["person"].append(
                timed(f"/api/v1/devices/CAM{camera:04d}/health", {"storage_health": n % 101}, person)
            )
    return timings


def _with_schema(work: Callable[[str], dict[str, list[float]]]) -> dict[str, list[float]]:
    admin_url = POSTGRES_URL.replace("+psycopg", "")
    schema = f"bench_telemetry_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return work(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _figures(seconds: list[float]) -> tuple[float, float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return len(ms) / sum(seconds), statistics.median(ms), ms[int(len(ms) * 0.99) - 1]


def write_doc(results: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "## Device telemetry (`bench/bench_device_telemetry.py`)",
        "",
        f"{REPORTS} battery readings from {CAMERAS} cameras, each signed in with its own device credential",
        "(`POST /api/v1/device/telemetry`), alternating request by request with the baseline: the same",
        "kind of reading reported by an equipment manager with a person's token",
        "(`POST /api/v1/devices/{serial}/health`). In process through the whole app (guard, caller",
        "resolution in its own read-only session, commit before the answer); every reading changes the",
        "value, so both write the device, a movement and an audit event, and telemetry also its own",
        "audit event and the credential's last use.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"run on {time.strftime('%Y-%m-%d')}.",
        "",
        "| Backend | Caller | Reports per second | p50 | p99 |",
        "|---|---|---:|---:|---:|",
    ]
    for backend, timings in results.items():
        for caller, label in (("person", "manager token (baseline)"), ("device", "device credential")):
            rate, p50, p99 = _figures(timings[caller])
            lines.append(f"| {backend} | {label} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms |")
    return "\n".join(lines)


def main() -> None:
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run_backend(f"sqlite:///{tmp}/bench.sqlite3", Path(tmp) / "data")
        results["PostgreSQL"] = _with_schema(lambda url: run_backend(url, Path(tmp) / "data-pg"))
    for backend, timings in results.items():
        for caller in ("person", "device"):
            rate, p50, p99 = _figures(timings[caller])
            print(f"{backend} {caller}: {rate:,.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    update_section("bench_device_telemetry", write_doc(results))
    print("Figures written to docs/PERFORMANCE.md.")


if __name__ == "__main__":
    main()
