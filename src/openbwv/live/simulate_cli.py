"""``openbwv simulate cameras``: drive simulated cameras against a server, for the demo and for load."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from openbwv import fleet
from openbwv.config import load_settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.live.simulator import HttpTelemetry, MqttTelemetry, Streams, TelemetrySink, cameras_for, simulate
from openbwv.policy import SYSTEM

simulate_app = typer.Typer(help="Simulated devices, for the demo and for load.", no_args_is_help=True)


def issued_camera_credentials(count: int) -> dict[str, str]:
    """A fresh device credential (replacing the last) for each of the first ``count`` cameras
    issued to officers, by serial, from this installation's database."""
    settings = load_settings()
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with transaction(factory) as db:
        devices, _ = fleet.list_devices(
            db, where=fleet.DeviceFilter(kind="camera", state="issued"), limit=count, offset=0
        )
        return {
            device.serial: fleet.issue_credential(db, SYSTEM, serial=device.serial)[1] for device in devices
        }


@simulate_app.command("cameras")
def cameras(
    count: Annotated[int, typer.Option(help="How many cameras to drive.", min=1, max=100_000)] = 20,
    server: Annotated[
        str, typer.Option(help="The openbwv server, for telemetry without a broker and for live streams.")
    ] = "http://127.0.0.1:8000",
    mqtt_url: Annotated[
        str,
        typer.Option(
            "--mqtt", help="Publish telemetry to this broker (mqtt://host:1883) instead of over HTTP."
        ),
    ] = "",
    interval: Annotated[
        float, typer.Option(help="Seconds between a camera's reports.", min=0.05, max=3600)
    ] = 1.0,
    streams: Annotated[
        int, typer.Option(help="At most this many recording cameras push a live stream at once.", min=0)
    ] = 4,
    duration: Annotated[
        float, typer.Option(help="Stop after this many seconds (0: until Ctrl+C).", min=0)
    ] = 0.0,
) -> None:
    """Drive cameras issued to officers in this installation's fleet: each walks a town centre's
    streets, starts and stops recording, reports where it is, and pushes a live stream while it
    records. Each gets a new device credential (its last one stops working)."""
    credentials = issued_camera_credentials(count)
    if not credentials:
        typer.echo(
            "No camera is issued to an officer in this installation's fleet: issue some first.", err=True
        )
        raise typer.Exit(1)
    sink: TelemetrySink = MqttTelemetry(mqtt_url) if mqtt_url else HttpTelemetry(server)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"Driving {len(credentials)} cameras (Ctrl+C stops).")
    sent = simulate(
        cameras_for(credentials),
        sink,
        Streams(server, streams),
        interval_s=interval,
        stop=stop,
        duration_s=duration,
    )
    typer.echo(f"Sent {sent} readings.")
