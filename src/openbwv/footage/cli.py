"""``openbwv footage retention [--dry-run]``: the nightly retention run, on demand; ``openbwv footage
places [--all]``: clips placed again for search once stations have positions."""

from __future__ import annotations

from typing import Annotated

import typer

from openbwv import clock
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.footage import place, retention
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM
from openbwv.storage import open_store

footage_app = typer.Typer(
    help="Footage: the retention run, and placing clips for search.", no_args_is_help=True
)


@footage_app.callback()
def footage() -> None:
    """Footage: the retention run, and placing clips for search."""


@footage_app.command("retention")
def run_retention(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what would be deleted or destroyed, and why; change nothing."),
    ] = False,
) -> None:
    """Delete the clips now due (hidden, bytes kept) and destroy those whose recoverable window has
    passed, as the nightly job does; flagged, held and case-linked clips are never touched."""
    settings = upgraded_settings()
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    now, window = clock.now(), retention.recovery_window(settings)
    try:
        if dry_run:
            count = 0
            # A read-only session: on SQLite, listing a long backlog must not hold the writer lock.
            with transaction(make_session_factory(engine, read_only=True)) as db:
                for step in retention.planned_steps(db, now=now, window=window):
                    count += 1
                    typer.echo(
                        f"{step.action:<8} clip {step.clip_id:<8} {step.sha256[:16]}  "
                        f"recorded {step.recorded_at:%Y-%m-%d %H:%M}  {step.rule}"
                    )
            typer.echo(f"Dry run: {count} clip{'s' if count != 1 else ''} would go; nothing was changed.")
            return
        result = retention.run_retention(factory, open_store(settings), SYSTEM, now=now, window=window)
    finally:
        engine.dispose()
    typer.echo(
        f"Retention run: {result.deleted} deleted (recoverable for {window.days} days), "
        f"{result.destroyed} destroyed, {result.purged} purged from the store."
    )


@footage_app.command("places")
def place_clips(
    every_clip: Annotated[
        bool, typer.Option("--all", help="Place every clip again, not only those with no GPS track.")
    ] = False,
) -> None:
    """Place clips again for search by place: those with no GPS track are placed at their camera's
    station, so run this after setting stations' positions or moving cameras between stations."""
    settings = upgraded_settings()
    engine = make_engine(settings.resolved_database_url)
    done = 0
    try:
        for done in place.reindex_places(make_session_factory(engine), every_clip=every_clip):
            typer.echo(f"{done} clips placed", err=True)
    finally:
        engine.dispose()
    typer.echo(f"Placed {done} clip{'s' if done != 1 else ''} for search.")
