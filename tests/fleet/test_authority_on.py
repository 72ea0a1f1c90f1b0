"""An officer's authority as it stood on a past day: a later pass does not reach back."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.fleet import training
from openbwv.policy import SYSTEM
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

    def test_the_status_lapses_on_its_expiry_day_and_names_the_pass(self, db: Session) -> None:
        officer = make_officer(db, collar="4803")
        make_pass(db, officer, "taser_initial", date(2025, 6, 1))
        assert training.authority_on(
            db, officer.id, "taser", on=date(2026, 5, 31)
        ) == training.AuthorityStatus(
            authority="taser", last_passed_on=date(2025, 6, 1), expires_on=date(2026, 6, 1), in_date=True
        )
        on_the_day = training.authority_on(db, officer.id, "taser", on=date(2026, 6, 1))
        assert on_the_day is not None and not on_the_day.in_date

    def test_only_the_officers_own_passes_of_that_authority_count(self, db: Session) -> None:
        officer, colleague = make_officer(db, collar="4804"), make_officer(db, collar="4805")
        make_pass(db, officer, "bwv_user", date(2026, 11, 1))
        make_pass(db, colleague, "taser_initial", date(2026, 11, 1))
        assert training.authority_on(db, officer.id, "taser", on=date(2026, 11, 20)) is None

    def test_the_latest_day_counts_whatever_order_the_passes_were_recorded_in(self, db: Session) -> None:
        officer = make_officer(db, collar="4806")
        make_pass(db, officer, "taser_refresher", date(2026, 9, 1))
        make_pass(db, officer, "taser_initial", date(2025, 3, 1))
        status = training.authority_on(db, officer.id, "taser", on=date(2026, 11, 20))
        assert status is not None
        assert (status.last_passed_on, status.expires_on) == (date(2026, 9, 1), date(2027, 9, 1))

    def test_of_two_passes_on_one_day_the_one_recorded_last_stands(self, db: Session) -> None:
        """A force's own two-year course and the annual refresher passed the same day: the pass recorded
        last decides the expiry, as it does on the training record."""
        training.create_course(
            db, SYSTEM, code="taser_cadre", name="Taser cadre course", authority="taser", validity_months=24
        )
        officer = make_officer(db, collar="4807")
        make_pass(db, officer, "taser_cadre", date(2026, 9, 1))
        make_pass(db, officer, "taser_refresher", date(2026, 9, 1))
        status = training.authority_on(db, officer.id, "taser", on=date(2026, 11, 20))
        assert status is not None and status.expires_on == date(2027, 9, 1)
