"""Times on pages: a stored UTC time shown on the force's clocks with the zone's abbreviation, and a
time typed into a form read on them, across both changes of the clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from openbwv.clock import FixedClock
from openbwv.web.render import templates
from openbwv.web.times import MissingLocalTime, from_local, input_value, local_in_sentence, parse_local

LONDON = ZoneInfo("Europe/London")


def _shown(at: datetime | None, expression: str = "at|local_time", zone: ZoneInfo = LONDON) -> str:
    return templates.env.from_string("{{ " + expression + " }}").render(at=at, time_zone=zone)


class TestLocalTimeFilter:
    @pytest.mark.parametrize(
        ("utc", "shown"),
        [
            # Spring 2026: at 01:00 UTC on 29 March the clocks go from 01:00 GMT to 02:00 BST.
            (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "2026-03-29 00:59 GMT"),
            (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "2026-03-29 02:00 BST"),
            (datetime(2026, 7, 1, 8, 30, tzinfo=UTC), "2026-07-01 09:30 BST"),
            # Autumn 2026: at 01:00 UTC on 25 October they go back from 02:00 BST to 01:00 GMT.
            (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "2026-10-25 01:59 BST"),
            (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "2026-10-25 01:00 GMT"),
            (datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "2026-11-26 08:00 GMT"),
        ],
    )
    def test_a_stored_time_on_the_forces_clocks(self, clock: FixedClock, utc: datetime, shown: str) -> None:
        clock.set(utc)
        assert _shown(clock.now()) == shown

    def test_a_naive_time_as_sqlite_gives_it_back_is_utc(self) -> None:
        assert _shown(datetime(2026, 7, 1, 8, 30)) == "2026-07-01 09:30 BST"

    def test_a_pattern_with_seconds_and_another_zone(self) -> None:
        at = datetime(2026, 7, 1, 8, 30, 5, tzinfo=UTC)
        assert _shown(at, 'at|local_time("%H:%M:%S")') == "09:30:05 BST"
        assert _shown(at, "at|local_time", ZoneInfo("UTC")) == "2026-07-01 08:30 UTC"

    def test_nothing_shows_nothing(self) -> None:
        assert _shown(None) == ""

    def test_the_machine_readable_time_stays_utc(self) -> None:
        at = datetime(2026, 7, 1, 9, 30, tzinfo=LONDON)
        assert _shown(at, "at|utc_iso") == "2026-07-01T08:30:00+00:00"

    def test_a_prefilled_field_shows_local_time(self) -> None:
        at = datetime(2026, 7, 1, 8, 30, 5, tzinfo=UTC)
        assert input_value(at, LONDON) == "2026-07-01T09:30"
        assert input_value(at, LONDON, seconds=True) == "2026-07-01T09:30:05"

    def test_a_template_without_the_zone_is_a_mistake_not_utc(self) -> None:
        with pytest.raises(RuntimeError, match="time zone"):
            templates.env.from_string("{{ at|local_time }}").render(at=datetime(2026, 7, 1, tzinfo=UTC))


class TestTypedTimes:
    def test_a_summer_time_is_an_hour_ahead_of_utc(self) -> None:
        assert parse_local("2026-07-01T09:30", LONDON) == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)

    def test_a_winter_time_is_utc(self) -> None:
        assert parse_local("2026-11-26T08:00", LONDON) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def test_a_time_with_its_own_offset_keeps_it(self) -> None:
        assert parse_local("2026-07-01T09:30Z", LONDON) == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)

    def test_the_hour_skipped_in_spring_is_refused_in_a_sentence(self) -> None:
        with pytest.raises(MissingLocalTime, match="2026-03-29 01:30 did not happen in Europe/London"):
            from_local(datetime(2026, 3, 29, 1, 30), LONDON)

    def test_the_hour_repeated_in_autumn_is_its_first_the_summer_time(self) -> None:
        assert from_local(datetime(2026, 10, 25, 1, 30), LONDON) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)

    def test_either_side_of_the_changes(self) -> None:
        assert from_local(datetime(2026, 3, 29, 0, 59), LONDON) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
        assert from_local(datetime(2026, 3, 29, 2, 0), LONDON) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
        assert from_local(datetime(2026, 10, 25, 2, 0), LONDON) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)

    def test_what_is_no_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="give a date and time"):
            parse_local("last tuesday", LONDON)


class TestRefusalsOnPages:
    def test_a_sentences_utc_times_go_on_the_forces_clocks(self) -> None:
        said = "Grant 4 expired at 2026-07-01 08:30 UTC; ended at 2026-11-26 08:00 UTC."
        assert local_in_sentence(said, LONDON) == (
            "Grant 4 expired at 2026-07-01 09:30 BST; ended at 2026-11-26 08:00 GMT."
        )

    def test_what_is_no_time_stays_as_it_was(self) -> None:
        said = "Recorded 2026-02-30 08:30 UTC, then 2026-07-01 08:30 UTCX and 2026-07-01 UTC."
        assert local_in_sentence(said, LONDON) == said
