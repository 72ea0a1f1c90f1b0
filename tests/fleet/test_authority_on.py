"""An officer's authority as it stood on a past day: a later pass does not reach back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.fleet import training
from tests.builders import make_officer, make_pass


class TestAuthorityOn:
    def test_a_day_before_the_first_pass_has_no_authority(self, db: Session) -> None:
        today = clock.today()
        officer = make_officer(db, collar="4801")
        make_pass(db, officer, "taser_initial", today - timedelta(days=5))
        assert training.authority_on(db, officer.id, "taser", on=today - timedelta(days=6)) is None
        status = training.authority_on(db, officer.id, "taser", on=today - timedelta(days=5))
        assert status is not None and status.in_date

    def test_a_lapse_stays_a_lapse_after_a_later_refresher(self, db: Session) -> None:
        today = clock.today()
        officer = make_officer(db, collar="4802")
        make_pass(db, officer, "taser_initial", today - timedelta(days=420))
        make_pass(db, officer, "taser_refresher", today - timedelta(days=2))
        lapsed = training.authority_on(db, officer.id, "taser", on=today - timedelta(days=10))
        assert lapsed is not None and not lapsed.in_date
        assert lapsed.last_passed_on == today - timedelta(days=420)
        current = training.authority_on(db, officer.id, "taser", on=today)
        assert current is not None and current.in_date
