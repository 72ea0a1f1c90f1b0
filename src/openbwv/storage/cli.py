"""``openbwv storage check``: the stored objects against the rows that name them.

The platform does not know which rows name objects; the domain that owns them (footage) builds the
sub-app with :func:`make_storage_app`, passing a function that reads them, and declares it in its
``Domain(cli={"storage": ...})``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.migrate import upgraded_settings
from openbwv.storage.check import check_objects
from openbwv.storage.store import open_store

# Every object key the database names, with the SHA-256 (hex) of its plaintext where it records one.
ExpectedObjects = Callable[[Session], Mapping[str, str | None]]


def make_storage_app(expected_objects: ExpectedObjects, *, prefixes: Sequence[str] = ("",)) -> typer.Typer:
    """The ``storage`` sub-app, checking the objects under ``prefixes`` against ``expected_objects``."""
    storage_app = typer.Typer(help="Stored objects: encrypted footage bytes.", no_args_is_help=True)

    @storage_app.callback()
    def storage() -> None:
        """Stored objects: encrypted footage bytes."""

    @storage_app.command("check")
    def check(
        prefix: Annotated[
            list[str] | None,
            typer.Option("--prefix", help="Check only keys starting with this; repeat for several."),
        ] = None,
    ) -> None:
        """Find objects no row names, rows naming no object, and objects whose bytes are wrong."""
        settings = upgraded_settings()
        engine = make_engine(settings.resolved_database_url)
        try:
            # The rows are read first and the session closed: reading every object takes long.
            with transaction(make_session_factory(engine)) as db:
                expected = dict(expected_objects(db))
        finally:
            engine.dispose()
        chosen = tuple(prefix) if prefix else tuple(prefixes)
        if prefix:
            expected = {key: sha for key, sha in expected.items() if key.startswith(chosen)}
        report = asyncio.run(check_objects(open_store(settings), expected, prefixes=chosen))
        if not report.consistent:
            for line in report.problems():
                typer.echo(line)
            raise typer.Exit(1)
        typer.echo(
            f"Storage is consistent: {report.checked} object{'s' if report.checked != 1 else ''} checked."
        )

    return storage_app
