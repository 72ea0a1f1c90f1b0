"""``openbwv dock --server URL --credential FILE DIR``: the dock agent, watching a folder or, with
``--once``, uploading what is there and exiting."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
import watchfiles
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from openbwv.dock.agent import DockAgent, DockError, FileOutcome, read_credential

dock_app = typer.Typer(
    help="The dock agent: upload a docked camera's files and mark each safe to wipe.",
    invoke_without_command=True,
    no_args_is_help=True,
)

# How often a watching agent looks again without a change in the folder (a server that was down).
RETRY_MS = 30_000


@dataclass
class Run:
    """One agent run: what it left in place, so a watching agent does not retry an unchanged file."""

    agent: DockAgent
    console: Console
    settle_s: float
    left: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: int = 0

    def sweep(self) -> None:
        """Upload every settled file in the folder once; a DockError stops the sweep."""
        waiting = [p for p in self.agent.candidates() if self.left.get(p) != _signature(p)]
        for path in self.agent.settled(waiting, self.settle_s):
            self._one(path)

    def _one(self, path: Path) -> None:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self.console,
            transient=False,
        ) as progress:
            task = progress.add_task(path.name, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            outcome, sentence = self.agent.process(path, update)
        self.console.print(sentence)
        if outcome != FileOutcome.RELEASED:
            self.problems += 1
            signature = _signature(path)
            if signature is not None:
                self.left[path] = signature


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


@dock_app.callback()
def run_dock(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="The folder where the docked camera's files appear.")
    ],
    server: Annotated[
        str, typer.Option("--server", help="The openbwv server's address, e.g. https://bwv.example")
    ],
    credential: Annotated[
        Path, typer.Option("--credential", help="A file holding the credential `openbwv docks add` printed.")
    ],
    once: Annotated[bool, typer.Option("--once", help="Upload what is there now, then exit.")] = False,
    settle: Annotated[
        float,
        typer.Option("--settle", min=0, help="Seconds a file's size must stay still before it is sent."),
    ] = 2.0,
) -> None:
    """Upload each finished video file in DIR with resume and a progress bar, check the server's
    SHA-256 of it and only then move it to DIR/uploaded/. Exit 1 if any file was left in place."""
    console = Console()
    try:
        if not folder.is_dir():
            raise DockError(f"{folder} is not a folder.", exit_code=2)
        if not server.startswith(("http://", "https://")):
            raise DockError(f"--server must be an http:// or https:// address, not {server!r}.", exit_code=2)
        run = Run(
            DockAgent(server=server, credential=read_credential(credential), folder=folder), console, settle
        )
        if once:
            run.sweep()
        else:
            _watch(run)
    except DockError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    if run.problems:
        raise typer.Exit(1)


def _watch(run: Run) -> None:
    """Sweep now, then again on every change to the folder and every ``RETRY_MS`` without one."""
    changes = watchfiles.watch(
        run.agent.folder, recursive=False, rust_timeout=RETRY_MS, yield_on_timeout=True
    )
    for _ in itertools.chain([set()], changes):
        try:
            run.sweep()
        except DockError as error:
            if error.fatal:
                raise
            typer.echo(f"Error: {error} Trying again later.", err=True)
