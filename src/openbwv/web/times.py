"""Times on pages: stored and served in UTC, shown and typed in the force's time zone.

The database and the API keep UTC. Pages show each time in the force's zone
(``OPENBWV_TIME_ZONE``) with the zone's abbreviation beside it (``2026-07-01 09:30 BST``), and read
the times typed into their forms in that zone. Around a change of the clocks a typed time may name
no moment (the hour skipped in spring), which is refused, or two (the hour repeated in autumn), which
is read as the first of them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
"""What a ``datetime-local`` field sends and is prefilled with (``:%S`` more where it has seconds)."""


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive time (as SQLite gives them back) already means UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def to_local(at: datetime, zone: ZoneInfo) -> datetime:
    """A stored time as the force's clocks showed it."""
    return as_utc(at).astimezone(zone)


def local_text(at: datetime, zone: ZoneInfo, pattern: str = DISPLAY_FORMAT) -> str:
    """A stored time in the force's zone with the zone's abbreviation: ``2026-07-01 09:30 BST``."""
    local = to_local(at, zone)
    return f"{local.strftime(pattern)} {local.tzname()}"


_UTC_IN_A_SENTENCE = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")


def local_in_sentence(sentence: str, zone: ZoneInfo) -> str:
    """A sentence shared with the API (a refusal, say), its UTC times (``2026-07-01 08:30 UTC``) put
    on the force's clocks (``2026-07-01 09:30 BST``) for a page."""

    def local(match: re.Match[str]) -> str:
        try:
            at = datetime.strptime(match.group(1), DISPLAY_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return match.group(0)
        return local_text(at, zone)

    return _UTC_IN_A_SENTENCE.sub(local, sentence)


def utc_iso(at: datetime) -> str:
    """The machine-readable form, in UTC (for ``<time datetime=...>``)."""
    return as_utc(at).isoformat()


def input_value(at: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """A ``datetime-local`` field's value for ``at``, in the force's zone ("" for none)."""
    if at is None:
        return ""
    return to_local(at, zone).strftime(INPUT_FORMAT + (":%S" if seconds else ""))


class MissingLocalTime(ValueError):
    """A local time the clocks skipped when they went forward."""


def from_local(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC moment a wall-clock time in ``zone`` names. An aware time is only converted. A time
    repeated when the clocks go back is the first of the two (summer time); a time skipped when they
    go forward raises ``MissingLocalTime``."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    first = local.replace(tzinfo=zone, fold=0)
    at = first.astimezone(UTC)
    if at.astimezone(zone).replace(tzinfo=None) != local:
        raise MissingLocalTime(
            f"{local:%Y-%m-%d %H:%M} did not happen in {zone.key}: the clocks went forward then; "
            "give a time before or after the skipped hour"
        )
    return at


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """A form's ``datetime-local`` value (or an ISO time with its own offset) as a UTC moment;
    ``ValueError`` with a sentence for what cannot be read."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("give a date and time, such as 2026-11-26T08:00") from None
    return from_local(moment, zone)
