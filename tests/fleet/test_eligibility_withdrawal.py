"""Withdrawing and superseding eligibility rules (STRA), and the warnings before a pass is recorded:
at the service, on the API and on the training page. A withdrawn rule stops applying, and who
withdrew it, which rule and why are kept on the rule and in the audit log."""

from __future__ import annotations

from datetime import date

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.fleet import training
from openbwv.policy import Actor, Role
from tests.builders import headers_for, make_officer, make_pass, make_unit
from tests.fleet.test_training_rules import TODAY, _officer, _refusing, _rule

HTML = {"Accept": "text/html"}
CSRF = "eligibility-csrf-token"
HEAD = Actor(username="head.of.training", user_id=13)


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _post(client: TestClient, headers: dict[str, str], path: str, **form: str) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(path, data={"csrf_token": CSRF, **form}, headers={**headers, **HTML})


class TestWithdrawEligibility:
    def test_a_withdrawn_rule_stops_applying_from_today_and_the_audit_says_who_and_why(
        self, db: Session
    ) -> None:
        sergeant = _officer(db, rank="sergeant", unit="ARV")
        rule = _rule(db, rank="sergeant", unit="ARV", reason="not funded", effective_from=date(2026, 4, 1))
        withdrawn = training.withdraw_eligibility(
            db, HEAD, rule_id=rule.id, reason="Refresher funded again", today=TODAY
        )
        assert (
            withdrawn.ends_on,
            withdrawn.withdrawn_at,
            withdrawn.withdrawn_by,
            withdrawn.withdrawal_reason,
        ) == (
            TODAY,
            clock.now(),
            "head.of.training",
            "Refresher funded again",
        )
        assert _refusing(db, sergeant) is None
        assert _refusing(db, sergeant, today=date(2026, 11, 25)) == "not funded"
        [event] = _events(db, "training:policy:withdrawn")
        assert (event.actor_username, event.target_type, event.target_id, event.reason) == (
            "head.of.training",
            "eligibility_rule",
            str(rule.id),
            "Refresher funded again",
        )
        assert event.details == {
            "authority": "taser",
            "rank": "sergeant",
            "unit": "ARV",
            "eligible": False,
            "effective_from": "2026-04-01",
            "ends_on": "2026-11-26",
            "superseded_by": None,
        }

    def test_a_rule_is_withdrawn_once_and_only_with_a_reason(self, db: Session) -> None:
        rule = _rule(db, rank="sergeant")
        with pytest.raises(InvalidInput) as no_reason:
            training.withdraw_eligibility(db, HEAD, rule_id=rule.id, reason="  ", today=TODAY)
        assert (no_reason.value.field, no_reason.value.reason) == ("reason", "say why the rule is withdrawn")
        training.withdraw_eligibility(db, HEAD, rule_id=rule.id, reason="done", today=TODAY)
        with pytest.raises(Conflict) as again:
            training.withdraw_eligibility(db, HEAD, rule_id=rule.id, reason="again", today=TODAY)
        assert again.value.rule == "rule_already_withdrawn"
        assert again.value.message == (
            "This rule was already withdrawn by head.of.training; it applied until 2026-11-26."
        )
        with pytest.raises(NotFound, match=r"^No such eligibility rule\.$"):
            training.withdraw_eligibility(db, HEAD, rule_id=rule.id + 100, reason="x", today=TODAY)
        assert len(_events(db, "training:policy:withdrawn")) == 1


class TestSupersedeEligibility:
    def test_the_new_decision_takes_over_on_its_date_for_the_same_rank_and_unit(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant", unit="ARV")
        old = _rule(db, rank="sergeant", unit="ARV", reason="not funded", effective_from=date(2026, 4, 1))
        new = training.supersede_eligibility(
            db,
            HEAD,
            rule_id=old.id,
            eligible=True,
            effective_from=date(2026, 12, 1),
            reason="funded from December",
        )
        assert (new.rank_code, new.unit_id, new.eligible, new.set_by) == (
            "sergeant",
            old.unit_id,
            True,
            "head.of.training",
        )
        assert (old.ends_on, old.superseded_by_id) == (date(2026, 12, 1), new.id)
        assert _refusing(db, sergeant, today=date(2026, 11, 30)) == "not funded"
        assert _refusing(db, sergeant, today=date(2026, 12, 1)) is None
        [event] = _events(db, "training:policy:withdrawn")
        assert (event.details["superseded_by"], event.reason) == (new.id, "funded from December")
        lines = {line.rule.id: line for line in training.describe_eligibility_rules(db, today=TODAY)}
        assert lines[old.id].status == f"superseded by rule {new.id} from 2026-12-01"
        assert lines[new.id].status == "applies from 2026-12-01"

    def test_the_new_rule_cannot_start_before_the_old_one(self, db: Session) -> None:
        old = _rule(db, rank="sergeant", effective_from=date(2026, 4, 1))
        with pytest.raises(InvalidInput) as refused:
            training.supersede_eligibility(
                db, HEAD, rule_id=old.id, eligible=True, effective_from=date(2026, 3, 1), reason="r"
            )
        assert (refused.value.field, refused.value.reason) == (
            "effective_from",
            "the new rule must start on or after 2026-04-01, when the rule it replaces started",
        )
        assert old.ends_on is None

    def test_a_decision_corrected_on_the_day_it_took_effect_replaces_it_from_that_day(
        self, db: Session
    ) -> None:
        sergeant = _officer(db, rank="sergeant")
        old = _rule(db, rank="sergeant", effective_from=TODAY, reason="set in error")
        new = training.supersede_eligibility(
            db, HEAD, rule_id=old.id, eligible=True, effective_from=TODAY, reason="corrected"
        )
        assert (old.ends_on, old.superseded_by_id) == (TODAY, new.id)
        assert _refusing(db, sergeant) is None


class TestThePolicyTable:
    def test_each_rule_is_shown_with_whom_it_covers_by_name_and_where_it_stands(self, db: Session) -> None:
        make_unit(db, code="ARV", name="Armed Response")
        sergeants = _rule(db, rank="sergeant", effective_from=TODAY, reason="from today")
        arv = _rule(db, unit="ARV", eligible=True, effective_from=date(2026, 12, 1), reason="from December")
        lines = training.describe_eligibility_rules(db, today=TODAY)
        assert [
            (line.rule.id, line.rank_name, line.unit_code, line.unit_name, line.status, line.standing)
            for line in lines
        ] == [
            (arv.id, None, "ARV", "Armed Response", "applies from 2026-12-01", True),
            (sergeants.id, "Sergeant", None, None, "in force", True),
        ]


class TestPassWarnings:
    def test_an_ineligible_officer_and_a_repeated_pass_are_warned_of(self, db: Session) -> None:
        sergeant = _officer(db, rank="sergeant")
        _rule(db, rank="sergeant", reason="Sergeants not funded")
        assert [w.rule for w in training.pass_warnings(
            db, collar_number=sergeant.collar_number, course="bwv_user", passed_on=TODAY, today=TODAY
        )] == []  # fmt: skip
        make_pass(db, sergeant, "taser_refresher", TODAY)
        warnings = training.pass_warnings(
            db, collar_number=sergeant.collar_number, course="taser_refresher", passed_on=TODAY, today=TODAY
        )
        assert [(w.rule, w.message) for w in warnings] == [
            (
                "officer_ineligible",
                f"The eligibility policy rules {sergeant.collar_number} out of holding taser authority "
                "from 2026-01-01: Sergeants not funded",
            ),
            (
                "pass_already_recorded",
                f"A pass of Taser annual refresher by {sergeant.collar_number} on 2026-11-26 is already recorded.",
            ),
        ]

    def test_a_rule_for_the_officers_unit_is_warned_of(self, db: Session) -> None:
        officer = _officer(db, unit="ARV")
        _rule(db, unit="ARV", reason="ARV trains its own")
        [warning] = training.pass_warnings(
            db, collar_number=officer.collar_number, course="taser_initial", passed_on=TODAY, today=TODAY
        )
        assert warning.rule == "officer_ineligible"
        assert warning.message.endswith("from 2026-01-01: ARV trains its own")

    def test_only_the_same_course_by_the_same_officer_on_the_same_day_is_a_repeat(self, db: Session) -> None:
        officer, colleague = _officer(db), _officer(db)
        make_pass(db, officer, "taser_initial", date(2026, 11, 20))
        make_pass(db, officer, "bwv_user", TODAY)
        make_pass(db, colleague, "taser_initial", TODAY)
        assert (
            training.pass_warnings(
                db, collar_number=officer.collar_number, course="taser_initial", passed_on=TODAY, today=TODAY
            )
            == []
        )

    def test_an_unknown_officer_or_course_is_refused_with_what_was_typed(self, db: Session) -> None:
        officer = _officer(db)
        with pytest.raises(NotFound, match=r"^No such officer\.$"):
            training.pass_warnings(db, collar_number="0000", course="bwv_user", passed_on=TODAY, today=TODAY)
        with pytest.raises(InvalidInput) as refused:
            training.pass_warnings(
                db, collar_number=officer.collar_number, course="first_aid", passed_on=TODAY, today=TODAY
            )
        assert (refused.value.field, refused.value.reason) == (
            "course",
            "unknown course 'first_aid'; courses are bwv_user, taser_initial, taser_refresher",
        )


class TestEligibilityApi:
    def test_a_rule_is_listed_with_its_unit_and_withdrawn_with_a_reason(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="ARV", name="Armed Response")
            rule = _rule(db, rank="sergeant", unit="ARV", reason="not funded")
        headers = headers_for(factory, Role.TRAINING_MANAGER, username="tm")
        [listed] = client.get("/api/v1/eligibility-rules", headers=headers).json()
        assert (listed["unit"], listed["rank"], listed["status"], listed["set_by"]) == (
            "ARV",
            "sergeant",
            "in force",
            "trainer",
        )
        answer = client.post(
            f"/api/v1/eligibility-rules/{rule.id}/withdraw", json={"reason": "funded"}, headers=headers
        )
        assert answer.status_code == 200
        assert (answer.json()["status"], answer.json()["withdrawn_by"], answer.json()["ends_on"]) == (
            "withdrawn from 2026-11-26",
            "tm",
            "2026-11-26",
        )
        again = client.post(
            f"/api/v1/eligibility-rules/{rule.id}/withdraw", json={"reason": "funded"}, headers=headers
        )
        assert (again.status_code, again.json()["detail"]["rule"]) == (409, "rule_already_withdrawn")
        assert (
            client.post(
                "/api/v1/eligibility-rules/999999/withdraw", json={"reason": "x"}, headers=headers
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/eligibility-rules/{rule.id}/withdraw",
                json={"reason": "x"},
                headers=headers_for(factory, Role.EQUIPMENT_MANAGER),
            ).status_code
            == 403
        )

    def test_supersede_answers_the_new_rule(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            rule = _rule(db, rank="sergeant", reason="not funded")
        answer = client.post(
            f"/api/v1/eligibility-rules/{rule.id}/supersede",
            json={"eligible": True, "effective_from": "2026-12-01", "reason": "funded"},
            headers=headers_for(factory, Role.TRAINING_MANAGER),
        )
        assert answer.status_code == 201
        assert (answer.json()["rank"], answer.json()["eligible"], answer.json()["effective_from"]) == (
            "sergeant",
            True,
            "2026-12-01",
        )

    def test_recording_a_pass_answers_the_warnings(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="7301", rank="sergeant")
            _rule(db, rank="sergeant", reason="not funded")
        answer = client.post(
            "/api/v1/officers/7301/training",
            json={"course": "taser_initial", "passed_on": "2026-11-20"},
            headers=headers_for(factory, Role.TRAINING_MANAGER),
        )
        assert answer.status_code == 201
        assert [w["rule"] for w in answer.json()["warnings"]] == ["officer_ineligible"]


class TestEligibilityPage:
    def test_the_table_names_rank_unit_dates_and_who_set_each_rule(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="ARV", name="Armed Response")
            _rule(db, unit="ARV", reason="ARV carry their own", effective_from=date(2026, 2, 1))
        page = client.get("/training", headers={**headers_for(factory, Role.TRAINING_MANAGER), **HTML}).text
        row = page.split('data-testid="eligibility-rules"')[1].split("</table>")[0]
        assert "Every rank" in row and "Armed Response (ARV)" in row
        assert "2026-02-01" in row and "in force" in row and "trainer" in row
        assert "Withdraw rule" in row

    def test_withdrawing_on_the_page_says_so_and_readers_see_no_form(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            rule = _rule(db, rank="sergeant", reason="not funded")
        page = _post(
            client,
            headers_for(factory, Role.TRAINING_MANAGER),
            f"/training/eligibility/{rule.id}/withdraw",
            reason="funded again",
        )
        assert f"Eligibility rule {rule.id} withdrawn: it no longer applies from 2026-11-26." in page.text
        assert "withdrawn from 2026-11-26" in page.text
        reader = client.get(
            "/training", headers={**headers_for(factory, Role.EQUIPMENT_MANAGER), **HTML}
        ).text
        assert "Withdraw rule" not in reader

    def test_an_ineligible_officers_taser_pass_is_confirmed_first(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="7302", rank="sergeant")
            _rule(db, rank="sergeant", reason="Sergeants not funded")
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        form = {"collar_number": "7302", "course": "taser_refresher", "passed_on": "2026-11-20"}
        asked = _post(client, headers, "/training/passes", **form)
        assert "Check before recording this pass:" in asked.text
        assert "rules 7302 out of holding taser authority from 2026-01-01: Sergeants not funded" in asked.text
        assert client.get("/api/v1/officers/7302/training", headers=headers).json() == []
        done = _post(client, headers, "/training/passes", confirmed="yes", **form)
        assert "Recorded taser_refresher passed by 7302 on 2026-11-20" in done.text
        again = _post(client, headers, "/training/passes", **form)
        assert "A pass of Taser annual refresher by 7302 on 2026-11-20 is already recorded." in again.text
        with factory() as db:
            assert len(_events(db, "training:pass:recorded")) == 1
