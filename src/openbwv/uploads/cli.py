"""``openbwv docks``: register the docks that upload footage, each with its credential."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.errors import Conflict
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM

docks_app = typer.Typer(help="Docks: the stations' upload points for footage.", no_args_is_help=True)


def _factory() -> sessionmaker[Session]:
    settings = upgraded_settings()
    return make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )


@docks_app.command("add")
def add_dock(
    serial: Annotated[str, typer.Argument(help="The dock's serial.")],
    station: Annotated[str, typer.Option("--station", help="The station the dock stands in.")],
    model: Annotated[str, typer.Option("--model", help="The dock's model.")] = "Dock",
) -> None:
    """Register a dock at a station and issue its credential (upload and telemetry); the credential is
    printed once, as the last word of the last line."""
    try:
        with transaction(_factory()) as db:
            dock = fleet.create_device(db, SYSTEM, kind="dock", serial=serial, model=model, station=station)
            _, raw = fleet.issue_credential(db, SYSTEM, serial=dock.serial)
            scopes = ", ".join(sorted(fleet.SCOPES_BY_KIND["dock"]))
    except Conflict as refusal:
        if refusal.rule != "serial_taken":
            raise
        raise Conflict(
            f"{refusal.message} Nothing was changed; `openbwv devices credential "
            f"{serial.strip().upper()}` issues it a new credential.",
            rule="serial_taken",
        ) from None
    typer.echo(f"Registered dock {dock.serial} at {station}; its credential may {scopes}.")
    typer.echo("Put it in the dock now; it is not shown again:")
    typer.echo(f"  {raw}")
