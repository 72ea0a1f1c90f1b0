"""The one clock: a fixed one for tests, installed for a block and handed back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from openbwv import clock as app_clock
from openbwv.clock import FixedClock, SystemClock


class TestFixedClock:
    def test_stands_still_until_moved(self) -> None:
        fixed = FixedClock(datetime(2028, 2, 29, 23, 30, tzinfo=UTC))
        assert fixed.now() == fixed.now() == datetime(2028, 2, 29, 23, 30, tzinfo=UTC)
        fixed.advance(timedelta(hours=1))
        assert fixed.now() == datetime(2028, 3, 1, 0, 30, tzinfo=UTC)
        fixed.set(datetime(2030, 1, 1, tzinfo=UTC))
        assert fixed.now() == datetime(2030, 1, 1, tzinfo=UTC)

    def test_a_time_in_another_zone_is_read_as_utc(self) -> None:
        fixed = FixedClock(datetime(2028, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))))
        assert fixed.now() == datetime(2028, 2, 29, 23, 0, tzinfo=UTC)
        assert fixed.now().tzinfo is UTC

    def test_refuses_a_naive_time(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            FixedClock(datetime(2028, 2, 29, 23, 30))
        fixed = FixedClock(datetime(2028, 2, 29, tzinfo=UTC))
        with pytest.raises(ValueError, match="aware"):
            fixed.set(datetime(2028, 3, 1))
        assert fixed.now() == datetime(2028, 2, 29, tzinfo=UTC)


class TestInstalledClock:
    def test_every_test_starts_on_the_fixed_test_clock(self, clock: FixedClock) -> None:
        clock.set(datetime(2040, 2, 29, 23, 59, tzinfo=UTC))
        assert app_clock.now() == datetime(2040, 2, 29, 23, 59, tzinfo=UTC)
        assert app_clock.today() == date(2040, 2, 29)

    def test_using_restores_the_previous_clock_even_after_an_error(self) -> None:
        before = app_clock.now()
        inner = FixedClock(datetime(2001, 1, 1, tzinfo=UTC))
        with pytest.raises(RuntimeError), app_clock.using(inner):
            assert app_clock.today() == date(2001, 1, 1)
            raise RuntimeError("boom")
        assert app_clock.now() == before

    def test_install_hands_back_the_clock_it_replaces(self, clock: FixedClock) -> None:
        other = FixedClock(datetime(2001, 1, 1, tzinfo=UTC))
        assert app_clock.install(other) is clock
        assert app_clock.install(clock) is other

    def test_the_system_clock_reads_aware_utc(self) -> None:
        moment = SystemClock().now()
        assert moment.tzinfo is UTC
        assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)
