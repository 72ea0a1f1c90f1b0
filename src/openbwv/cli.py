"""The ``openbwv`` command: serve, worker, demo, database and user administration."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated

import typer
import uvicorn

from openbwv.access.cli import reasons_app
from openbwv.audit.cli import audit_app
from openbwv.config import ConfigError, Settings, load_settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.errors import OpenbwvError
from openbwv.fleet.cli import devices_app, import_app, training_app
from openbwv.migrate import upgraded_settings
from openbwv.observability import configure_logging
from openbwv.policy import SYSTEM, Role

app = typer.Typer(
    help="openbwv: body-worn video, Taser and oversight management for a police force.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(training_app, name="training")
app.add_typer(import_app, name="import")
app.add_typer(devices_app, name="devices")
app.add_typer(audit_app, name="audit")
app.add_typer(reasons_app, name="reasons")


def _serve(settings: Settings, host: str, port: int) -> None:
    from openbwv.app import create_app

    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Bring the database up to date and serve the web app and API."""
    _serve(upgraded_settings(), host, port)


async def _work_until_signalled(settings: Settings, batch_size: int) -> None:
    from openbwv.app import all_jobs
    from openbwv.jobs import run_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, all_jobs(settings), stop=stop, batch_size=batch_size)


@app.command()
def worker(
    batch_size: Annotated[
        int,
        typer.Option(help="Jobs taken at once; larger runs more short jobs a second, less fairly.", min=1),
    ] = 10,
) -> None:
    """Bring the database up to date and run background jobs until SIGTERM or Ctrl+C (PostgreSQL only).

    Run as many as the load needs, apart from 'serve'; each schedule still runs once per tick.
    """
    if load_settings().is_sqlite:
        raise ConfigError(
            "OPENBWV_DATABASE_URL must name PostgreSQL for separate workers; "
            "with SQLite, `openbwv serve` runs the jobs itself."
        )
    settings = upgraded_settings()
    configure_logging(settings.log_level)
    asyncio.run(_work_until_signalled(settings, batch_size))


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Seed the demo force, then exit.")] = False,
) -> None:
    """Seed a believable demo force (safe to re-run), print its logins and serve it."""
    from openbwv.demo import seed_demo

    settings = upgraded_settings()
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    logins = seed_demo(factory, settings)
    typer.echo(f"Demo force: {settings.force_name}. Logins (username / password / role):")
    for login in logins:
        typer.echo(f"  {login.username:<24} {login.password:<22} {login.role}")
    if not seed_only:
        typer.echo(f"Serving on http://{host}:{port}/ (Ctrl+C stops).")
        _serve(settings, host, port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration not yet applied."""
    settings = upgraded_settings()
    typer.echo(f"Database is up to date ({settings.resolved_database_url.split('@')[-1]}).")


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
    from openbwv import people

    settings = upgraded_settings()
    password = _read_password(password_stdin)
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with transaction(factory) as db:
        user = people.create_account(
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
    from openbwv import people

    settings = upgraded_settings()
    factory = make_session_factory(make_engine(settings.resolved_database_url))
    with transaction(factory) as db:
        users, total = people.list_accounts(db, search=search, role=role, limit=100_000, offset=0)
        for user in users:
            roles = ",".join(sorted(r.role for r in user.roles))
            state = "" if user.is_active else " (disabled)"
            typer.echo(f"{user.username:<30} {roles}{state}")
    typer.echo(f"{total} user{'s' if total != 1 else ''}.")


def main() -> None:
    """Run the CLI, turning a refusal or bad configuration into one sentence and exit code 2 or 1."""
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    except OpenbwvError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
