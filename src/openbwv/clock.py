"""The one clock every rule about dates and times reads.

Services take ``now``/``today`` from here (or from an argument that defaults to it), never from
``datetime.now()`` or ``date.today()``, so that a test can fix the time for everything at once and no
test mixes a fixed date with the wall clock. The process runs on the system clock; tests install a
``FixedClock``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware and in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is moved: for tests and for replaying a past day."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, by: timedelta) -> None:
        self._at += by


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a clock needs an aware time")
    return at.astimezone(UTC)


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time in UTC from the installed clock."""
    return _current.now()


def today() -> date:
    """Today's date in UTC from the installed clock."""
    return _current.now().date()


def install(clock: Clock) -> Clock:
    """Make ``clock`` the one every caller reads; returns the clock it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for the length of a ``with`` block."""
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)
