"""``openbwv axis`` commands: the connection file an Axis body worn manager imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openbwv.axis import connection
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM

axis_app = typer.Typer(help="Axis body worn systems.", no_args_is_help=True)

DEFAULT_SERIAL = "AXIS-BWS"


@axis_app.command("connection-file")
def connection_file(
    base_url: Annotated[
        str, typer.Option("--base-url", help="This site's address as the Axis system reaches it.")
    ],
    serial: Annotated[
        str,
        typer.Option("--serial", help="The Axis system's serial in the fleet (registered as a dock if new)."),
    ] = DEFAULT_SERIAL,
    container_type: Annotated[
        str, typer.Option("--container-type", help="The clip format the system sends: mp4 or mkv.")
    ] = "mp4",
    certificate: Annotated[
        Path | None,
        typer.Option(
            "--certificate",
            exists=True,
            dir_okay=False,
            help="PEM file of the HTTPS certificate(s) to trust.",
        ),
    ] = None,
) -> None:
    """Print the JSON connection file for the Axis body worn manager to import.

    It carries a new device credential for the system, revoking the one it had: import the new file
    at once. It is printed once and not stored here."""
    connection.base_url_of(base_url)
    if container_type not in ("mp4", "mkv"):
        raise typer.BadParameter("mp4 or mkv", param_hint="--container-type")
    certificates = connection.certificates_of(certificate.read_text()) if certificate else None
    settings = upgraded_settings()
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with transaction(factory) as db:
        system_serial, credential = connection.prepare_system(db, SYSTEM, serial=serial)
    typer.echo(
        connection.connection_file(
            base_url=base_url,
            serial=system_serial,
            credential=credential,
            site_name=settings.force_name,
            container_type=container_type,
            certificates=certificates,
        )
    )
