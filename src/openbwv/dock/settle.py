"""When a camera's file has stopped changing: the folder's change events, and each file's size and
modification time, quiet for the settle time.

A camera may write a file in place, under its final name; the agent must not send it until the
camera is done. :class:`FolderEvents` turns watchfiles' change events into batches that a caller
waits on with a deadline, and :class:`Settling` says which files have had neither a change event
nor a new size or modification time for ``settle_s``, and when the next one will have: the agent
waits for an event or that moment, never for a fixed time. The signature check stays the safety
net for an event missed (one before the watcher started, say).
"""

from __future__ import annotations

import collections
import os
import select
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import watchfiles

Signature = tuple[int, int]

# watchfiles' own defaults: a batch ends once no change has come for STEP_MS, or after DEBOUNCE_MS.
DEBOUNCE_MS = 1600
STEP_MS = 50


def signature(path: Path) -> Signature | None:
    """The file's size and modification time (ns), or None when it is gone."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


class FolderEvents:
    """The changes to the files directly in ``folder``, watched on a thread of its own from entering
    the ``with`` block to leaving it.

    The watcher hands batches over with a byte written to a pipe, and :meth:`next` waits on the pipe
    with ``select``: a relative timeout, where a lock's timed wait (``queue.Queue.get``) waits for an
    absolute moment of the monotonic clock, which a shifted clock (faketime) puts days away."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._batches: collections.deque[set[Path]] = collections.deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="openbwv-dock-watch", daemon=True)
        self._ready, self._signal = os.pipe()

    def __enter__(self) -> FolderEvents:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._ready)
        os.close(self._signal)

    def _watch(self) -> None:
        for changes in watchfiles.watch(
            self.folder,
            recursive=False,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self._stop,
            raise_interrupt=False,
        ):
            # Named as the agent lists the folder (``folder / name``), whatever path the watcher gives.
            self._batches.append({self.folder / Path(changed).name for _, changed in changes})
            os.write(self._signal, b"\0")

    def next(self, timeout: float) -> set[Path] | None:
        """The files in the next batch of changes, or None when ``timeout`` seconds pass first."""
        readable, _, _ = select.select([self._ready], [], [], max(timeout, 0.0))
        if not readable:
            return None
        os.read(self._ready, 1)
        return self._batches.popleft()


class Settling:
    """Which files have been quiet (no change event, the same size and modification time) for
    ``settle_s`` seconds; times are the caller's monotonic clock."""

    def __init__(self, settle_s: float) -> None:
        self.settle_s = settle_s
        # Each file waiting to settle: its signature, and since when nothing about it has changed.
        self._quiet: dict[Path, tuple[Signature, float]] = {}

    def changed(self, paths: Iterable[Path], now: float) -> None:
        """Change events for ``paths`` at ``now``: each one's quiet time starts again."""
        for path in paths:
            if path in self._quiet and (sign := signature(path)) is not None:
                self._quiet[path] = (sign, now)

    def settled(self, paths: Iterable[Path], now: float) -> list[Path]:
        """Those of ``paths`` quiet for ``settle_s`` by ``now``, handed out once; the others wait,
        each from when it was last seen to change. Files not in ``paths`` are no longer waited for."""
        waiting = {}
        ready = []
        for path in paths:
            sign = signature(path)
            if sign is None:
                continue
            seen = self._quiet.get(path)
            if seen is None or seen[0] != sign:
                seen = (sign, now)
            if now - seen[1] >= self.settle_s:
                ready.append(path)
            else:
                waiting[path] = seen
        self._quiet = waiting
        return ready

    def next_due(self, now: float) -> float | None:
        """Seconds from ``now`` until the first waiting file will have been quiet long enough, if any waits."""
        if not self._quiet:
            return None
        return max(min(since for _, since in self._quiet.values()) + self.settle_s - now, 0.0)
