"""``openbwv reasons``: the force's reason codes for access to footage and live video."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from openbwv.access import reasons
from openbwv.access.models import AccessKind, AccessReason
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM

reasons_app = typer.Typer(help="Reasons for access to footage and live video.", no_args_is_help=True)


def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(upgraded_settings().resolved_database_url))


def _line(reason: AccessReason) -> str:
    permits = ",".join(reason.permits)
    forbids = f"  forbids {','.join(reason.forbids)}" if reason.forbids else ""
    state = "" if reason.active else "  (deactivated)"
    return f"{reason.code:<26} {reason.label:<42} permits {permits}{forbids}{state}"


@reasons_app.command("list")
def reasons_list(
    include_inactive: Annotated[bool, typer.Option("--all", help="Also the deactivated reasons.")] = False,
) -> None:
    """List the reason codes and the kinds of access each permits and forbids."""
    with transaction(_factory()) as db:
        rows = reasons.list_reasons(db, include_inactive=include_inactive)
        for reason in rows:
            typer.echo(_line(reason))
    typer.echo(f"{len(rows)} reason{'s' if len(rows) != 1 else ''}.")


Kinds = ", ".join(AccessKind)


@reasons_app.command("add")
def reasons_add(
    code: Annotated[str, typer.Argument(help="Short slug: lower-case words joined by '-'.")],
    label: Annotated[str, typer.Option(help="What the reason is called in the app.")],
    permits: Annotated[list[str], typer.Option("--permits", help=f"A kind it permits ({Kinds}); repeat.")],
    forbids: Annotated[
        list[str] | None, typer.Option("--forbids", help="A kind it forbids outright; repeat.")
    ] = None,
    description: Annotated[str, typer.Option(help="When to use it.")] = "",
) -> None:
    """Add a reason code; it may not both permit and forbid a kind of access."""
    with transaction(_factory()) as db:
        reason = reasons.create_reason(
            db,
            SYSTEM,
            code=code,
            label=label,
            description=description,
            permits=permits,
            forbids=forbids or [],
        )
        line = _line(reason)
    typer.echo(f"Added: {line}")


Code = Annotated[str, typer.Argument(help="The reason's code.")]


@reasons_app.command("deactivate")
def reasons_deactivate(code: Code) -> None:
    """Deactivate a reason: no new grants or renewals name it; grants made under it keep it."""
    with transaction(_factory()) as db:
        reasons.set_reason_active(db, SYSTEM, code=code, active=False)
    typer.echo(f"Deactivated {code}.")


@reasons_app.command("activate")
def reasons_activate(code: Code) -> None:
    """Bring a deactivated reason back into use."""
    with transaction(_factory()) as db:
        reasons.set_reason_active(db, SYSTEM, code=code, active=True)
    typer.echo(f"Brought back {code}.")
