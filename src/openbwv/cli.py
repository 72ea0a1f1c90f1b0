"""The ``openbwv`` command: serve, worker, demo and the database, with each domain's own commands."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Annotated

import typer
import uvicorn

from openbwv.config import ConfigError, Settings, load_settings
from openbwv.db import make_engine, make_session_factory
from openbwv.domains import Domain, cli_of, installed_domains
from openbwv.errors import OpenbwvError
from openbwv.migrate import upgraded_settings
from openbwv.observability import configure_logging

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _serve(settings: Settings, host: str, port: int) -> None:
    from openbwv.app import create_app

    configure_logging(settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


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


def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Seed the demo force, then exit.")] = False,
    clips: Annotated[
        int, typer.Option(help="Clips of footage to seed over the last 60 days, the first time.", min=0)
    ] = 2500,
) -> None:
    """Seed a believable demo force (safe to re-run), print its logins and serve it."""
    from openbwv.demo import DEMO_SIMULATED_CAMERAS, DockAgentProcess, seed_demo, simulated_cameras

    settings = upgraded_settings()
    factory = make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )
    logins = seed_demo(factory, settings, clips=clips)
    typer.echo(f"Demo force: {settings.force_name}. Logins (username / password / role):")
    for login in logins:
        typer.echo(f"  {login.username:<24} {login.password:<22} {login.role}")
    if seed_only:
        return
    # The demo's cameras record into the demo dock's folder, and its dock agent uploads them.
    settings = settings.model_copy(update={"demo_cameras": True})
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    # Other cameras walk the town centres' streets, report where they are and stream while recording.
    children = [
        DockAgentProcess(factory, settings, base_url=f"http://{local}:{port}"),
        simulated_cameras(f"http://{local}:{port}"),
    ]
    typer.echo(
        f"Serving on http://{host}:{port}/ (Ctrl+C stops); demo cameras dock every minute, and "
        f"{DEMO_SIMULATED_CAMERAS} simulated cameras move on the live map."
    )
    for child in children:
        child.start()
    try:
        _serve(settings, host, port)
    finally:
        for child in children:
            child.stop()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration not yet applied."""
    settings = upgraded_settings()
    typer.echo(f"Database is up to date ({settings.resolved_database_url.split('@')[-1]}).")


CORE_COMMANDS = ("serve", "worker", "demo", "db")


def build_cli(domains: Sequence[Domain] | None = None) -> typer.Typer:
    """The ``openbwv`` command: its own commands, and the sub-apps ``domains`` (default: every
    installed domain) declare; a command name declared twice is refused."""
    cli = typer.Typer(
        help="openbwv: body-worn video, Taser and oversight management for a police force.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for command in (serve, worker, demo):
        cli.command()(command)
    cli.add_typer(db_app, name="db")
    sub_apps = cli_of(installed_domains() if domains is None else domains, reserved=CORE_COMMANDS)
    for name, sub_app in sub_apps.items():
        cli.add_typer(sub_app, name=name)
    return cli


app = build_cli()


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


def run() -> None:
    """The ``openbwv`` program: :func:`main`, then out of the process without finalising the interpreter.

    The object store (obstore) completes each awaited call from one of its Tokio threads, through the
    event loop's ``call_soon_threadsafe``, and that thread may still be inside it (waking the loop)
    when ``asyncio.run`` returns. If the interpreter is finalising by the time the thread wants the
    GIL back, CPython before 3.14 ends the thread with ``pthread_exit``, whose unwinding through Rust
    frames aborts the process (exit status 134) after all the work is done. Neither obstore nor
    pyo3-async-runtimes can stop that runtime (PyO3/pyo3-async-runtimes#40; CPython gh-87135 makes
    such threads wait instead, from 3.14). So once the command has finished, the other Python threads
    are joined and the exit functions run as the interpreter would (``threading._shutdown`` is what
    it calls itself), the output is flushed, and ``os._exit`` ends the process with the command's
    status, skipping only the finalisation that races with those threads.
    """
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = _exit_status(exit_.code)
    threading_shutdown: Callable[[], None] = getattr(threading, "_shutdown")  # noqa: B009
    threading_shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


def _exit_status(code: object) -> int:
    """The status ``SystemExit(code)`` gives a process: a message goes to stderr and gives 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
