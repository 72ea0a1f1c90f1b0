from __future__ import annotations

from datetime import timedelta

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.fleet import training
from openbwv.policy import Role
from tests.builders import headers_for, make_officer

HTML = {"Accept": "text/html"}
CSRF = "training-csrf-token"


def _post(client: TestClient, headers: dict[str, str], path: str, **form: str) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(path, data={"csrf_token": CSRF, **form}, headers={**headers, **HTML})


class TestRecordPass:
    def test_training_manager_records_a_refresher_and_sees_its_expiry(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="4411", name="Leah Morris")
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        page = _post(
            client,
            headers,
            "/training/passes",
            collar_number="4411",
            course="taser_refresher",
            passed_on="2026-03-02",
        )
        assert page.status_code == 200
        assert "Recorded taser_refresher passed by 4411 on 2026-03-02; in date until 2027-03-02." in page.text
        kit = client.get("/api/v1/officers/4411/training", headers=headers).json()
        assert {c["course"]: c["expires_on"] for c in kit}["taser_refresher"] == "2027-03-02"

    def test_a_pass_dated_in_the_future_is_refused_with_the_date(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="4412")
        tomorrow = (clock.now().date() + timedelta(days=1)).isoformat()
        page = _post(
            client,
            headers_for(factory, Role.TRAINING_MANAGER),
            "/training/passes",
            collar_number="4412",
            course="bwv_user",
            passed_on=tomorrow,
        )
        assert page.status_code == 422
        assert f"{tomorrow} is in the future" in page.text

    def test_a_supervisor_can_read_but_not_record(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.SUPERVISOR)
        page = client.get("/training", headers={**headers, **HTML})
        assert page.status_code == 200
        assert 'action="/training/passes"' not in page.text
        refused = _post(
            client, headers, "/training/passes", collar_number="1", course="bwv_user", passed_on="2026-01-01"
        )
        assert refused.status_code == 403


class TestEligibilityAndVolunteers:
    def test_policy_rule_and_volunteer_register_round_trip(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="4413", name="Owen Quinn")
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        rule = _post(
            client,
            headers,
            "/training/eligibility",
            authority="taser",
            rank="sergeant",
            eligible="no",
            effective_from="2026-04-01",
            reason="Refresher not funded for sergeants",
        )
        assert "Eligibility rule for taser from 2026-04-01 saved." in rule.text
        assert "Refresher not funded for sergeants" in rule.text
        added = _post(
            client, headers, "/training/volunteers", collar_number="4413", volunteered_on="2026-05-01"
        )
        assert "4413 is on the Taser volunteers register." in added.text
        again = _post(
            client, headers, "/training/volunteers", collar_number="4413", volunteered_on="2026-05-02"
        )
        assert again.status_code == 409
        assert "already on the Taser volunteers register" in again.text
        withdrawn = _post(client, headers, "/training/volunteers/4413/withdraw")
        assert "4413 is off the Taser volunteers register." in withdrawn.text
        with factory() as db:
            assert training.list_volunteers(db) == []
