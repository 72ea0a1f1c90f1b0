from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.audit.models import AuditEvent
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.policy import SYSTEM
from tests.builders import make_officer, make_unit


class TestCreateOfficer:
    def test_creates_officer_in_unit_at_rank_and_audits(self, db: Session) -> None:
        unit = make_unit(db, code="cov-npt", name="Coventry Neighbourhood")
        officer = people.create_officer(
            db, SYSTEM, collar_number="ab12", name=" Priya Singh ", rank="sergeant", unit="COV-NPT"
        )
        assert (officer.collar_number, officer.name, officer.rank.name, officer.unit_id) == (
            "AB12",
            "Priya Singh",
            "Sergeant",
            unit.id,
        )
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == "AB12")).all()
        assert actions == ["people:officer:created"]

    def test_duplicate_collar_number_is_refused(self, db: Session) -> None:
        make_officer(db, collar="1234")
        with pytest.raises(Conflict, match="Collar number 1234 is already in use"):
            make_officer(db, collar="1234")

    def test_unknown_rank_lists_the_valid_ones(self, db: Session) -> None:
        make_unit(db, code="RESP")
        with pytest.raises(InvalidInput, match="unknown rank 'admiral'; valid ranks are police_staff, pcso"):
            people.create_officer(db, SYSTEM, collar_number="1", name="A", rank="admiral", unit="RESP")

    def test_unknown_unit_is_refused(self, db: Session) -> None:
        with pytest.raises(InvalidInput, match="no unit has the code 'NOWHERE'"):
            people.create_officer(db, SYSTEM, collar_number="1", name="A", rank="constable", unit="nowhere")


class TestListOfficers:
    def test_filters_by_search_unit_rank_and_status(self, db: Session) -> None:
        response = make_unit(db, code="RESP")
        cid = make_unit(db, code="CID", name="CID", kind="cid")
        make_officer(db, collar="100", name="Ann Baker", unit=response)
        make_officer(db, collar="101", name="Bob Baker", unit=cid, rank="sergeant")
        left = make_officer(db, collar="102", name="Cat Jones", unit=response)
        people.mark_leaver(db, SYSTEM, collar_number=left.collar_number, left_on=date(2026, 1, 31))

        def collars(**kwargs: object) -> list[str]:
            rows, _ = people.list_officers(db, where=people.OfficerFilter(**kwargs), limit=50, offset=0)  # type: ignore[arg-type]
            return [o.collar_number for o in rows]

        assert collars(search="baker") == ["100", "101"]
        assert collars(search="10", unit="cid") == ["101"]
        assert collars(rank="sergeant") == ["101"]
        assert collars(active=False) == ["102"]

    def test_pages_with_a_total(self, db: Session) -> None:
        for n in range(5):
            make_officer(db, collar=f"20{n}")
        rows, total = people.list_officers(db, where=people.OfficerFilter(), limit=2, offset=2)
        assert total == 5
        assert [o.collar_number for o in rows] == ["202", "203"]


class TestMarkLeaver:
    def test_leaving_twice_is_refused_and_keeps_the_first_date(self, db: Session) -> None:
        make_officer(db, collar="300")
        people.mark_leaver(db, SYSTEM, collar_number="300", left_on=date(2026, 3, 1))
        with pytest.raises(Conflict) as refused:
            people.mark_leaver(db, SYSTEM, collar_number="300", left_on=date(2026, 4, 1))
        assert (refused.value.status_code, refused.value.rule, refused.value.message) == (
            409,
            "already_left",
            "Officer 300 already left on 2026-03-01.",
        )
        db.expire_all()
        stored = people.get_officer(db, "300")
        assert stored is not None and (stored.is_active, stored.left_on) == (False, date(2026, 3, 1))
        updates = db.scalars(select(AuditEvent.details).where(AuditEvent.action == "people:officer:updated"))
        assert updates.all() == [{"left_on": "2026-03-01"}]

    def test_unknown_officer_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound):
            people.mark_leaver(db, SYSTEM, collar_number="nobody", left_on=date(2026, 3, 1))
