"""The training rules at the service: when an authority lapses, which eligibility rule decides for an
officer, the volunteers register, and the audit event each change writes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.audit.models import AuditEvent
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet import training
from openbwv.fleet.training.models import EligibilityRule
from openbwv.people.models import Officer
from openbwv.policy import Actor
from tests.builders import make_officer, make_pass, make_unit

TODAY = date(2026, 11, 26)
TRAINER = Actor(username="trainer", user_id=12)


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


class TestAddMonths:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2026, 1, 15), 12, date(2027, 1, 15)),
            (date(2025, 12, 10), 1, date(2026, 1, 10)),
            (date(2026, 1, 31), 1, date(2026, 2, 28)),
            (date(2028, 1, 31), 1, date(2028, 2, 29)),
            (date(2026, 3, 31), -1, date(2026, 2, 28)),
            (date(2026, 1, 10), -1, date(2025, 12, 10)),
            (date(2026, 11, 30), 14, date(2028, 1, 30)),
        ],
    )
    def test_moves_by_whole_months_clamped_to_the_month_end(
        self, day: date, months: int, expected: date
    ) -> None:
        assert training.add_months(day, months) == expected


class TestRecordPass:
    def test_a_january_pass_expires_next_january_and_is_audited(self, db: Session) -> None:
        officer = make_officer(db, collar="7001")
        row = training.record_pass(
            db, TRAINER, collar_number=" 7001 ", course=" Taser_Initial ", passed_on=date(2026, 1, 20),
            trainer="Sgt Cole", today=TODAY,
        )  # fmt: skip
        assert (row.officer_id, row.course_code, row.authority) == (officer.id, "taser_initial", "taser")
        assert (row.expires_on, row.trainer, row.recorded_by) == (date(2027, 1, 20), "Sgt Cole", "trainer")
        [event] = _events(db, "training:pass:recorded")
        assert (event.actor_username, event.target_type, event.target_id) == ("trainer", "officer", "7001")
        assert event.details == {"course": "taser_initial", "passed_on": "2026-01-20", "trainer": "Sgt Cole"}

    def test_a_course_without_validity_never_expires(self, db: Session) -> None:
        make_officer(db, collar="7002")
        row = training.record_pass(
            db, TRAINER, collar_number="7002", course="bwv_user", passed_on=date(2020, 1, 1), today=TODAY
        )
        assert row.expires_on is None

    def test_an_unknown_course_lists_the_courses(self, db: Session) -> None:
        make_officer(db, collar="7003")
        with pytest.raises(InvalidInput) as refused:
            training.record_pass(
                db, TRAINER, collar_number="7003", course="juggling", passed_on=TODAY, today=TODAY
            )
        assert refused.value.field == "course"
        assert "'juggling'" in refused.value.message
        assert "bwv_user, taser_initial, taser_refresher" in refused.value.message

    def test_a_pass_today_is_accepted_and_tomorrow_refused(self, db: Session) -> None:
        make_officer(db, collar="7004")
        training.record_pass(
            db, TRAINER, collar_number="7004", course="bwv_user", passed_on=TODAY, today=TODAY
        )
        with pytest.raises(InvalidInput) as refused:
            training.record_pass(
                db,
                TRAINER,
                collar_number="7004",
                course="bwv_user",
                passed_on=date(2026, 11, 27),
                today=TODAY,
            )
        assert refused.value.field == "passed_on"
        assert "2026-11-27 is in the future" in refused.value.message

    def test_an_unknown_officer_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such officer\.$"):
            training.record_pass(db, TRAINER, collar_number="0000", course="bwv_user", passed_on=TODAY)


class TestListCourses:
    def test_courses_are_listed_by_code(self, db: Session) -> None:
        training.create_course(
            db, TRAINER, code="aaa_first", name="First", authority=None, validity_months=None
        )
        assert [c.code for c in training.list_courses(db)] == [
            "aaa_first",
            "bwv_user",
            "taser_initial",
            "taser_refresher",
        ]


class TestCreateCourse:
    def test_a_course_is_created_trimmed_and_audited(self, db: Session) -> None:
        course = training.create_course(
            db, TRAINER, code=" PS_Advanced ", name=" Public safety ", authority=None, validity_months=24
        )
        assert (course.code, course.name, course.authority, course.validity_months) == (
            "ps_advanced", "Public safety", None, 24,
        )  # fmt: skip
        [event] = _events(db, "training:course:created")
        assert (event.actor_username, event.target_type, event.target_id) == (
            "trainer",
            "course",
            "ps_advanced",
        )

    def test_an_unknown_authority_or_a_taken_code_is_refused(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as bad:
            training.create_course(db, TRAINER, code="x1", name="X", authority="firearms", validity_months=1)
        assert bad.value.message == "authority: must be one of bwv, taser or empty"
        with pytest.raises(Conflict) as taken:
            training.create_course(
                db, TRAINER, code="BWV_User", name="Again", authority="bwv", validity_months=None
            )
        assert taken.value.rule == "course_code_taken"
        assert "bwv_user" in taken.value.message


class TestAuthorityOf:
    def test_an_authority_is_in_date_until_the_day_before_it_lapses(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "taser_initial", date(2025, 11, 27))
        status = training.authority_of(db, officer.id, "taser", today=date(2026, 11, 26))
        assert status == training.AuthorityStatus("taser", date(2025, 11, 27), date(2026, 11, 27), True)
        lapsed = training.authority_of(db, officer.id, "taser", today=date(2026, 11, 27))
        assert lapsed is not None and lapsed.in_date is False

    def test_the_latest_pass_decides_even_if_an_earlier_one_expires_later(self, db: Session) -> None:
        officer = make_officer(db)
        training.create_course(
            db, TRAINER, code="taser_long", name="Long", authority="taser", validity_months=36
        )
        make_pass(db, officer, "taser_long", date(2025, 1, 10))
        make_pass(db, officer, "taser_refresher", date(2025, 6, 1))
        status = training.authority_of(db, officer.id, "taser", today=TODAY)
        assert status is not None
        assert (status.last_passed_on, status.expires_on, status.in_date) == (
            date(2025, 6, 1),
            date(2026, 6, 1),
            False,
        )

    def test_a_pass_recorded_late_does_not_hide_a_later_one(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "taser_refresher", date(2026, 6, 1))
        make_pass(db, officer, "taser_initial", date(2025, 6, 1))
        status = training.authority_of(db, officer.id, "taser", today=TODAY)
        assert status is not None and (status.last_passed_on, status.in_date) == (date(2026, 6, 1), True)

    def test_of_two_passes_on_one_day_the_one_recorded_last_decides(self, db: Session) -> None:
        officer = make_officer(db)
        training.create_course(
            db, TRAINER, code="taser_long", name="Long", authority="taser", validity_months=36
        )
        make_pass(db, officer, "taser_long", date(2026, 2, 1))
        make_pass(db, officer, "taser_initial", date(2026, 2, 1))
        status = training.authority_of(db, officer.id, "taser", today=TODAY)
        assert status is not None and status.expires_on == date(2027, 2, 1)

    def test_only_the_officers_own_passes_of_that_authority_count(self, db: Session) -> None:
        officer, other = make_officer(db), make_officer(db)
        make_pass(db, other, "taser_initial", date(2026, 6, 1))
        make_pass(db, officer, "bwv_user", date(2026, 6, 1))
        assert training.authority_of(db, officer.id, "taser", today=TODAY) is None
        bwv = training.authority_of(db, officer.id, "bwv", today=TODAY)
        assert bwv is not None and (bwv.expires_on, bwv.in_date) == (None, True)

    def test_latest_expiries_per_officer(self, db: Session) -> None:
        first, second, third = make_officer(db), make_officer(db), make_officer(db)
        training.create_course(
            db, TRAINER, code="bwv_annual", name="BWV", authority="bwv", validity_months=12
        )
        make_pass(db, third, "bwv_annual", date(2026, 4, 1))
        make_pass(db, first, "taser_initial", date(2025, 3, 1))
        make_pass(db, first, "taser_refresher", date(2026, 2, 1))
        make_pass(db, second, "taser_initial", date(2026, 4, 1))
        make_pass(db, third, "bwv_user", date(2026, 4, 1))
        assert training.latest_expiries(db, "taser") == {
            first.id: date(2027, 2, 1),
            second.id: date(2027, 4, 1),
        }
        assert training.latest_expiries(db, "taser", [second.id]) == {second.id: date(2027, 4, 1)}
        assert training.officers_with_authority(db, "taser") == {first.id, second.id}

    def test_the_training_record_shows_the_latest_pass_of_each_course(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "taser_initial", date(2024, 5, 1))
        training.record_pass(
            db, TRAINER, collar_number=officer.collar_number, course="taser_initial",
            passed_on=date(2025, 12, 1), trainer="PC Fox", today=TODAY,
        )  # fmt: skip
        make_pass(db, officer, "bwv_user", date(2026, 1, 1))
        record = training.officer_training(db, officer.id, today=date(2026, 12, 1))
        assert [(c.course, c.passed_on, c.expires_on, c.in_date, c.trainer) for c in record] == [
            ("bwv_user", date(2026, 1, 1), None, True, None),
            ("taser_initial", date(2025, 12, 1), date(2026, 12, 1), False, "PC Fox"),
        ]
        assert record[1].name == "Taser initial course" and record[1].authority == "taser"

    def test_the_latest_pass_is_the_latest_day_not_the_latest_recorded(self, db: Session) -> None:
        officer = make_officer(db)
        make_pass(db, officer, "taser_initial", date(2026, 5, 1))
        make_pass(db, officer, "taser_initial", date(2025, 5, 1))
        [status] = training.officer_training(db, officer.id, today=TODAY)
        assert (status.passed_on, status.in_date) == (date(2026, 5, 1), True)

    def test_of_two_passes_on_one_day_the_one_recorded_last_stands(self, db: Session) -> None:
        """A pass recorded again on the same day (after the warning) corrects the first: its trainer shows."""
        officer = make_officer(db)
        for trainer in ("PC Fox", "PC Wolfe", "Sgt Hart"):
            training.record_pass(
                db, TRAINER, collar_number=officer.collar_number, course="taser_initial",
                passed_on=date(2026, 5, 1), trainer=trainer, today=TODAY,
            )  # fmt: skip
        [status] = training.officer_training(db, officer.id, today=TODAY)
        assert (status.passed_on, status.trainer) == (date(2026, 5, 1), "Sgt Hart")


def _officer(db: Session, *, rank: str = "constable", unit: str = "RESP") -> Officer:
    found = people.get_unit(db, unit)
    return make_officer(db, rank=rank, unit=found or make_unit(db, code=unit))


def _rule(db: Session, *, rank: str | None = None, unit: str | None = None, eligible: bool = False,
          effective_from: date = date(2026, 1, 1), reason: str = "STRA") -> EligibilityRule:  # fmt: skip
    return training.set_eligibility(
        db, TRAINER, authority="taser", rank=rank, unit=unit, eligible=eligible,
        effective_from=effective_from, reason=reason,
    )  # fmt: skip


def _refusing(db: Session, officer: Officer, today: date = TODAY) -> str | None:
    rule = training.refusing_rule(
        db, authority="taser", rank_code=officer.rank_code, unit_id=officer.unit_id, today=today
    )
    many = training.refusing_rules(
        db, authority="taser", officers=[(officer.id, officer.rank_code, officer.unit_id)], today=today
    )
    assert many.get(officer.id) is rule
    return rule.reason if rule else None


class TestEligibility:
    def test_a_rule_for_one_unit_refuses_only_that_units_officers(self, db: Session) -> None:
        arv, response = _officer(db, unit="ARV"), _officer(db, unit="RESP")
        _rule(db, unit="ARV", reason="ARV carry their own")
        assert _refusing(db, arv) == "ARV carry their own"
        assert _refusing(db, response) is None

    def test_a_unit_exemption_beats_a_rank_refusal(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant", unit="ARV")
        elsewhere = _officer(db, rank="sergeant", unit="RESP")
        _rule(db, rank="sergeant", reason="sergeants not funded", effective_from=date(2026, 6, 1))
        _rule(db, unit="ARV", eligible=True, reason="ARV sergeants funded", effective_from=date(2026, 2, 1))
        assert _refusing(db, sergeant) is None
        assert _refusing(db, elsewhere) == "sergeants not funded"

    def test_a_unit_refusal_beats_a_rank_exemption(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant", unit="ARV")
        _rule(db, unit="ARV", reason="ARV not funded", effective_from=date(2026, 2, 1))
        _rule(db, rank="sergeant", eligible=True, reason="sergeants funded", effective_from=date(2026, 6, 1))
        assert _refusing(db, sergeant) == "ARV not funded"

    def test_rank_and_unit_together_beat_unit_alone(self, db: Session) -> None:
        sergeant, constable = (
            _officer(db, rank="sergeant", unit="ARV"),
            _officer(db, rank="constable", unit="ARV"),
        )
        _rule(db, unit="ARV", eligible=True, reason="ARV funded", effective_from=date(2026, 6, 1))
        _rule(db, rank="sergeant", unit="ARV", reason="ARV sergeants not", effective_from=date(2026, 2, 1))
        assert _refusing(db, sergeant) == "ARV sergeants not"
        assert _refusing(db, constable) is None

    def test_a_rank_rule_beats_a_force_wide_one(self, db: Session) -> None:
        sergeant, constable = _officer(db, rank="sergeant"), _officer(db, rank="constable")
        _rule(db, reason="force-wide pause", effective_from=date(2026, 6, 1))
        _rule(db, rank="sergeant", eligible=True, reason="sergeants exempt", effective_from=date(2026, 2, 1))
        assert _refusing(db, sergeant) is None
        assert _refusing(db, constable) == "force-wide pause"

    def test_among_equals_the_latest_effective_rule_decides(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        _rule(db, rank="sergeant", eligible=True, reason="funded again", effective_from=date(2026, 9, 1))
        _rule(db, rank="sergeant", reason="not funded", effective_from=date(2026, 3, 1))
        assert _refusing(db, sergeant) is None
        assert _refusing(db, sergeant, today=date(2026, 8, 31)) == "not funded"
        assert _refusing(db, sergeant, today=date(2026, 2, 28)) is None

    def test_on_one_effective_date_the_later_decision_wins(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        _rule(db, rank="sergeant", reason="not funded")
        _rule(db, rank="sergeant", eligible=True, reason="reversed the same day")
        assert _refusing(db, sergeant) is None

    def test_an_exemption_alone_refuses_no_one(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        _rule(db, rank="sergeant", eligible=True, reason="funded")
        assert _refusing(db, sergeant) is None

    def test_a_rule_for_another_authority_does_not_apply(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        training.set_eligibility(
            db, TRAINER, authority="bwv", rank="sergeant", unit=None, eligible=False,
            effective_from=date(2026, 1, 1), reason="bwv only",
        )  # fmt: skip
        assert _refusing(db, sergeant) is None

    def test_a_rule_takes_effect_on_its_effective_date(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        _rule(db, rank="sergeant", reason="from today", effective_from=TODAY)
        assert _refusing(db, sergeant) == "from today"

    def test_refusing_rules_leaves_eligible_officers_out(self, db: Session) -> None:
        sergeant, constable = _officer(db, rank="sergeant"), _officer(db, rank="constable")
        rule = _rule(db, rank="sergeant")
        found = training.refusing_rules(
            db,
            authority="taser",
            officers=[(o.id, o.rank_code, o.unit_id) for o in (sergeant, constable)],
            today=TODAY,
        )
        assert found == {sergeant.id: rule}


class TestSetEligibility:
    def test_the_rule_and_its_audit_event_name_rank_unit_and_date(self, db: Session) -> None:
        unit = make_unit(db, code="ARV")
        rule = _rule(db, rank=" Sergeant ", unit="arv", eligible=True, reason="  funded  ",
                     effective_from=date(2026, 4, 1))  # fmt: skip
        assert (rule.authority, rule.rank_code, rule.unit_id, rule.eligible) == (
            "taser",
            "sergeant",
            unit.id,
            True,
        )
        assert (rule.reason, rule.set_by, rule.effective_from) == ("funded", "trainer", date(2026, 4, 1))
        [event] = _events(db, "training:policy:changed")
        assert (event.actor_username, event.target_type, event.target_id) == (
            "trainer", "eligibility_rule", str(rule.id),
        )  # fmt: skip
        assert event.reason == "  funded  "
        assert event.details == {
            "authority": "taser", "rank": "sergeant", "unit": "ARV", "eligible": True,
            "effective_from": "2026-04-01",
        }  # fmt: skip
        assert training.list_eligibility_rules(db) == [rule]

    def test_a_force_wide_rule_has_no_rank_or_unit(self, db: Session) -> None:
        rule = _rule(db)
        assert (rule.rank_code, rule.unit_id) == (None, None)
        assert _events(db, "training:policy:changed")[0].details["unit"] is None

    @pytest.mark.parametrize(
        ("field", "kw", "says"),
        [
            ("authority", {"authority": "firearms"}, "must be one of bwv, taser"),
            ("rank", {"rank": "general"}, "unknown rank 'general'"),
            ("unit", {"unit": " nope "}, "no unit has the code 'NOPE'"),
        ],
    )
    def test_an_unknown_authority_rank_or_unit_is_refused(
        self, db: Session, field: str, kw: dict[str, str], says: str
    ) -> None:
        args: dict[str, object] = {
            "authority": "taser", "rank": None, "unit": None, "eligible": False,
            "effective_from": TODAY, "reason": "x", **kw,
        }  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            training.set_eligibility(db, TRAINER, **args)  # type: ignore[arg-type]
        assert refused.value.message == f"{field}: {says}"

    def test_the_list_is_latest_first(self, db: Session) -> None:
        newer = _rule(db, effective_from=date(2026, 5, 1))
        older = _rule(db, effective_from=date(2026, 1, 1))
        same_day = _rule(db, effective_from=date(2026, 5, 1))
        assert training.list_eligibility_rules(db) == [same_day, newer, older]


class TestVolunteers:
    def test_volunteering_and_withdrawing_are_audited(self, db: Session) -> None:
        officer = make_officer(db, collar="7100")
        row = training.add_volunteer(db, TRAINER, collar_number="7100", volunteered_on=date(2026, 3, 4))
        assert (row.officer_id, row.recorded_by) == (officer.id, "trainer")
        assert training.is_volunteer(db, officer.id)
        training.withdraw_volunteer(db, TRAINER, collar_number="7100")
        db.flush()
        assert not training.is_volunteer(db, officer.id)
        added, withdrawn = _events(db, "training:volunteer:changed")
        assert (added.actor_username, added.target_type, added.target_id) == ("trainer", "officer", "7100")
        assert added.details == {"volunteer": True, "on": "2026-03-04"}
        assert (withdrawn.actor_username, withdrawn.target_type, withdrawn.target_id) == (
            "trainer",
            "officer",
            "7100",
        )
        assert withdrawn.details == {"volunteer": False}

    def test_volunteering_twice_or_withdrawing_when_not_on_it_is_refused(self, db: Session) -> None:
        make_officer(db, collar="7101")
        with pytest.raises(Conflict) as not_on:
            training.withdraw_volunteer(db, TRAINER, collar_number="7101")
        assert not_on.value.rule == "not_volunteer" and "7101" in not_on.value.message
        training.add_volunteer(db, TRAINER, collar_number="7101", volunteered_on=TODAY)
        with pytest.raises(Conflict) as twice:
            training.add_volunteer(db, TRAINER, collar_number="7101", volunteered_on=TODAY)
        assert twice.value.rule == "already_volunteered" and "7101" in twice.value.message

    def test_an_unknown_officer_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound, match=r"^No such officer\.$"):
            training.add_volunteer(db, TRAINER, collar_number="0000", volunteered_on=TODAY)
        with pytest.raises(NotFound, match=r"^No such officer\.$"):
            training.withdraw_volunteer(db, TRAINER, collar_number="0000")

    def test_the_register_is_in_order_of_volunteering(self, db: Session) -> None:
        late, early = make_officer(db), make_officer(db)
        training.add_volunteer(db, TRAINER, collar_number=late.collar_number, volunteered_on=date(2026, 5, 1))
        training.add_volunteer(
            db, TRAINER, collar_number=early.collar_number, volunteered_on=date(2026, 2, 1)
        )
        assert [v.officer_id for v in training.list_volunteers(db)] == [early.id, late.id]
