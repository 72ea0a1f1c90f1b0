"""``openbwv training``, ``openbwv import`` and ``openbwv devices`` commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import credentials, imports
from openbwv.fleet.authority import run_daily_authority_check
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM

training_app = typer.Typer(help="Training authority.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk import from CSV.", no_args_is_help=True)
devices_app = typer.Typer(help="Device credentials for cameras and docks.", no_args_is_help=True)


def _factory() -> sessionmaker[Session]:
    settings = upgraded_settings()
    return make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )


@training_app.command("check-lapses")
def check_lapses(
    on: Annotated[
        str | None, typer.Option("--date", help="Run as of this day (YYYY-MM-DD); default today.")
    ] = None,
) -> None:
    """Run the daily authority check once: notify, and print lapsing authorities and Tasers to recover
    (lapsed, or held by officers the eligibility policy has made ineligible)."""
    try:
        today = datetime.strptime(on, "%Y-%m-%d").date() if on else clock.today()
    except ValueError:
        raise typer.BadParameter("give the date as YYYY-MM-DD", param_hint="--date") from None
    with transaction(_factory()) as db:
        found = run_daily_authority_check(db, SYSTEM, today=today)
    typer.echo(f"Authority check for {today.isoformat()}:")
    typer.echo(f"Lapsed with a Taser still issued ({len(found.lapsed_with_taser)}):")
    for line in found.lapsed_with_taser:
        typer.echo(
            f"  {line.collar_number:<8} {line.name:<28} {line.unit:<12} lapsed {line.expires_on}  "
            f"Taser {', '.join(line.tasers_held)}"
        )
    typer.echo(
        f"Not eligible under the policy, with a Taser still issued ({len(found.ineligible_with_taser)}):"
    )
    for ineligible in found.ineligible_with_taser:
        typer.echo(
            f"  {ineligible.collar_number:<8} {ineligible.name:<28} {ineligible.unit:<12} "
            f"not eligible from {ineligible.effective_from} ({ineligible.reason})  "
            f"Taser {', '.join(ineligible.tasers_held)}"
        )
    typer.echo(f"Lapsing within 30 days ({len(found.lapsing)}):")
    for line in found.lapsing:
        typer.echo(f"  {line.collar_number:<8} {line.name:<28} {line.unit:<12} lapses {line.expires_on}")
    typer.echo(f"{found.notifications_added} notification(s) added.")


def _run_import(what: str, file: Path, dry_run: bool, skip_bad: bool) -> None:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        typer.echo("The file must be UTF-8 text; nothing was imported.", err=True)
        raise typer.Exit(1) from None
    importer = imports.import_officers if what == "officers" else imports.import_devices
    rejected = False
    try:
        with transaction(_factory()) as db:
            report = importer(db, SYSTEM, text=text, dry_run=dry_run, skip_bad=skip_bad)
    except imports.CsvRejected as refusal:
        report, rejected = refusal.report, True
    for error in report.errors:
        typer.echo(f"  line {error.line}: {error.reason}", err=True)
    verb = "would import" if dry_run else "imported"
    typer.echo(
        f"{report.rows} row(s), {len(report.errors)} bad; {verb} "
        f"{report.rows - len(report.errors) if dry_run else report.imported} {what}"
        f"{f', skipped {report.skipped}' if report.skipped else ''}."
    )
    if rejected:
        # --skip-bad cannot skip past a file that does not read as rows.
        advice = "" if skip_bad else " or pass --skip-bad"
        typer.echo(f"Nothing was imported; fix the rows above{advice}.", err=True)
        raise typer.Exit(1)


DryRun = Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="Import the good rows and skip the bad ones.")]
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")]


@import_app.command("officers")
def import_officers(file: CsvFile, dry_run: DryRun = False, skip_bad: SkipBad = False) -> None:
    """Import officers from an HR export: collar_number, name, rank, unit."""
    _run_import("officers", file, dry_run, skip_bad)


@import_app.command("devices")
def import_devices(file: CsvFile, dry_run: DryRun = False, skip_bad: SkipBad = False) -> None:
    """Import devices from a delivery note: kind, serial, model[, firmware, station, pooled]."""
    _run_import("devices", file, dry_run, skip_bad)


Serial = Annotated[str, typer.Argument(help="The camera's or dock's serial.")]


@devices_app.command("credential")
def device_credential(serial: Serial) -> None:
    """Issue a camera or dock a new credential, revoking the one it had; it is printed once, as the
    last word of the last line."""
    with transaction(_factory()) as db:
        device, raw = credentials.issue_credential(db, SYSTEM, serial=serial)
        scopes = ", ".join(sorted(credentials.SCOPES_BY_KIND[device.kind]))
    typer.echo(f"Issued {device.kind} {device.serial} a credential that may {scopes}.")
    typer.echo("Put it in the device now; it is not shown again:")
    typer.echo(f"  {raw}")


@devices_app.command("revoke")
def device_revoke(serial: Serial) -> None:
    """Revoke a device's credential: it stops working at once."""
    with transaction(_factory()) as db:
        credential = credentials.revoke_credential(db, SYSTEM, serial=serial)
    typer.echo(f"Revoked the credential of {credential.device_serial}.")
