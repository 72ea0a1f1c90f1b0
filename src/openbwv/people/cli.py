"""``openbwv users`` commands: user accounts from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.migrate import upgraded_settings
from openbwv.people import service
from openbwv.policy import SYSTEM, Role

users_app = typer.Typer(help="User accounts.", no_args_is_help=True)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, '.', '_' or '-'.")],
    role: Annotated[list[str], typer.Option("--role", "-r", help="A role; repeat for several.")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of standard input."),
    ] = False,
    collar: Annotated[
        str | None, typer.Option(help="Link the account to this officer's collar number.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Full name shown in the app.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Organisation of an external user.")] = None,
) -> None:
    """Create a user account with one or more roles; the password is never echoed."""
    settings = upgraded_settings()
    password = _read_password(password_stdin)
    factory = make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )
    with transaction(factory) as db:
        user = service.create_account(
            db,
            SYSTEM,
            username=username,
            password=password,
            roles=role,
            display_name=name,
            collar_number=collar,
            organisation=organisation,
        )
        roles = ", ".join(sorted(r.role for r in user.roles))
    typer.echo(f"Created user {user.username} with roles {roles}.")


@users_app.command("list")
def users_list(
    role: Annotated[Role | None, typer.Option(help="Only users with this role.")] = None,
    search: Annotated[str | None, typer.Option(help="Username or name fragment.")] = None,
) -> None:
    """List user accounts and their roles."""
    settings = upgraded_settings()
    factory = make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )
    with transaction(factory) as db:
        users, total = service.list_accounts(db, search=search, role=role, limit=100_000, offset=0)
        for user in users:
            roles = ",".join(sorted(r.role for r in user.roles))
            state = "" if user.is_active else " (disabled)"
            typer.echo(f"{user.username:<30} {roles}{state}")
    typer.echo(f"{total} user{'s' if total != 1 else ''}.")
