"""The fleet's part of the home page: an officer's own record with lapse warnings, and device counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from openbwv import fleet
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass

TODAY = date(2026, 11, 26)


class TestOwnRecord:
    def _authority(self, db: Session, passed_on: date) -> fleet.OwnAuthority:
        officer = make_officer(db)
        make_pass(db, officer, "taser_initial", passed_on)
        (authority,) = fleet.own_record(db, officer.id, today=TODAY).authorities
        return authority

    def test_lapsing_in_29_days_is_warned_of(self, db: Session) -> None:
        authority = self._authority(db, date(2025, 12, 25))
        assert authority.expires_on == date(2026, 12, 25)
        assert authority.in_date and authority.lapses_soon and authority.needs_warning

    def test_lapsing_in_30_days_is_not_yet(self, db: Session) -> None:
        # The same window as the training manager's daily check: lapsing before today + 30 days.
        authority = self._authority(db, date(2025, 12, 26))
        assert authority.in_date and not authority.needs_warning

    def test_lapsing_today_is_lapsed(self, db: Session) -> None:
        authority = self._authority(db, date(2025, 11, 26))
        assert not authority.in_date and not authority.lapses_soon and authority.needs_warning

    def test_an_authority_that_does_not_expire_needs_no_warning(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "bwv_user", date(2020, 1, 1))
        (authority,) = fleet.own_record(db, officer.id, today=TODAY).authorities
        assert authority.expires_on is None and not authority.needs_warning


class TestFleetFigures:
    def test_counts_every_kind_and_state(self, db: Session) -> None:
        officer = make_officer(db)
        make_device(db, serial="OV-CAM-1")
        make_device(db, serial="OV-CAM-2")
        make_device(db, kind="dock", serial="OV-DOCK-1")
        make_pass(db, officer, "bwv_user", date(2026, 1, 10))
        fleet.issue_device(
            db, SYSTEM, device_serial="OV-CAM-1", collar_number=officer.collar_number, kind="personal"
        )
        figures = {k.kind: k for k in fleet.fleet_figures(db).kinds}
        assert figures["camera"].by_state["issued"] == 1
        assert figures["camera"].by_state["in_stock"] == 1
        assert figures["camera"].total == 2
        assert figures["dock"].total == 1
        assert figures["taser"].total == 0
