"""``openbwv dock --server URL --credential FILE DIR``: the dock agent, watching a folder or, with
``--once``, uploading what is there and exiting."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from openbwv.dock.agent import DockAgent, DockError, FileOutcome, read_credential
from openbwv.dock.settle import FolderEvents, Settling, signature

dock_app = typer.Typer(
    help="The dock agent: upload a docked camera's files and mark each safe to wipe.",
    invoke_without_command=True,
    no_args_is_help=True,
)

# How often a watching agent looks again without a change in the folder (a server that was down).
RETRY_S = 30.0


@dataclass
class Run:
    """One agent run: what it left in place, so a watching agent does not retry an unchanged file,
    and the files waiting to stop changing."""

    agent: DockAgent
    console: Console
    settling: Settling
    left: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: int = 0

    def _waiting(self) -> list[Path]:
        return [p for p in self.agent.candidates() if self.left.get(p) != signature(p)]

    def sweep(self) -> None:
        """Upload every file in the folder that has been quiet for the settle time; the others go on
        waiting. A DockError stops the sweep."""
        for path in self.settling.settled(self._waiting(), time.monotonic()):
            self._one(path)

    def sweep_once(self) -> None:
        """Upload every file in the folder that stays quiet for the settle time from now: the wait ends
        at that moment, and a change event or a new size or modification time meanwhile leaves the
        file for a later run. A DockError stops the sweep."""
        waiting = self._waiting()
        start = time.monotonic()
        ready = self.settling.settled(waiting, start)
        if self.settling.next_due(start) is not None:
            deadline = start + self.settling.settle_s
            with FolderEvents(self.agent.folder) as events:
                while (batch := events.next(deadline - time.monotonic())) is not None:
                    self.settling.changed(batch, time.monotonic())
            ready += self.settling.settled(waiting, max(time.monotonic(), deadline))
        for path in ready:
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
            sign = signature(path)
            if sign is not None:
                self.left[path] = sign


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
            DockAgent(server=server, credential=read_credential(credential), folder=folder),
            console,
            Settling(settle),
        )
        if once:
            run.sweep_once()
        else:
            console.print(f"Watching {folder} for video files; Ctrl-C stops.")
            _watch(run)
    except DockError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    if run.problems:
        raise typer.Exit(1)


def _watch(run: Run) -> None:
    """Sweep now, then again on every change to the folder, when a waiting file will have been quiet
    for the settle time, and every ``RETRY_S`` without either (a server that was down)."""
    with FolderEvents(run.agent.folder) as events:
        wait = 0.0
        while True:
            changed = events.next(wait)
            if changed:
                run.settling.changed(changed, time.monotonic())
            try:
                run.sweep()
            except DockError as error:
                if error.fatal:
                    raise
                typer.echo(f"Error: {error} Trying again later.", err=True)
                wait = RETRY_S
                continue
            due = run.settling.next_due(time.monotonic())
            wait = RETRY_S if due is None else min(due, RETRY_S)
