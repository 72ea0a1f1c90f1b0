from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.orm import Session

from openbwv.clock import FixedClock
from openbwv.fleet import devices, find_authority_exceptions
from openbwv.fleet.demo import seed_fleet
from tests.builders import make_officer, make_unit

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _clock_on_today(clock: FixedClock) -> None:
    clock.set(datetime.combine(TODAY, time(8, 0), tzinfo=UTC))


class TestSeedFleet:
    def test_seeds_once_with_one_lapsed_authority_and_a_taser_out(self, db: Session) -> None:
        unit = make_unit(db, code="DEMO-RESP", kind="response")
        unit.station = "Birmingham"
        collars = [make_officer(db, unit=unit).collar_number for _ in range(24)]
        seed_fleet(db, collars, today=TODAY)
        seed_fleet(db, collars, today=TODAY)
        found = find_authority_exceptions(db, today=TODAY)
        assert [x.tasers_held for x in found.lapsed_with_taser] == [["DEMO-X2-0001"]]
        assert len(found.lapsing) == 4
        _, pooled = devices.list_devices(db, where=devices.DeviceFilter(state="pooled"), limit=1, offset=0)
        assert pooled == 3
