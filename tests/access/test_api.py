from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.access import AccessGrant
from openbwv.app import create_app
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.jobs import JobRegistry
from openbwv.policy import Role
from tests.access.helpers import events
from tests.builders import headers_for

LIVE_VIEW = {
    "record_kind": "camera",
    "record_id": "BWV-0001",
    "kind": "live_view",
    "reason_code": "officer-safety",
    "incident_number": "20261126-0042",
}


class TestReasonsApi:
    def test_anyone_who_may_request_access_reads_the_active_reasons(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        answer = client.get("/api/v1/access/reasons", headers=headers_for(factory, Role.OFFICER))
        assert answer.status_code == 200
        scrutiny = next(r for r in answer.json() if r["code"] == "uof-scrutiny")
        assert scrutiny["permits"] == ["footage_view_redacted"]
        assert scrutiny["forbids"] == ["live_view"]

    def test_anonymous_is_401_and_a_non_admin_may_not_add(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = {"code": "welfare", "label": "Welfare check", "permits": ["live_view"]}
        assert client.post("/api/v1/access/reasons", json=body).status_code == 401
        refused = client.post(
            "/api/v1/access/reasons", json=body, headers=headers_for(factory, Role.SUPERVISOR)
        )
        assert refused.status_code == 403

    def test_an_admin_adds_edits_and_deactivates_a_reason(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        admin = headers_for(factory, Role.ADMIN)
        body = {"code": "welfare", "label": "Welfare check", "permits": ["live_view"]}
        created = client.post("/api/v1/access/reasons", json=body, headers=admin)
        assert created.status_code == 201, created.text
        edited = client.patch(
            "/api/v1/access/reasons/welfare", json={"forbids": ["footage_view"]}, headers=admin
        )
        assert edited.json()["forbids"] == ["footage_view"]
        assert (
            client.post("/api/v1/access/reasons/welfare/deactivate", headers=admin).json()["active"] is False
        )
        active = client.get("/api/v1/access/reasons", headers=admin).json()
        assert "welfare" not in [r["code"] for r in active]
        everything = client.get("/api/v1/access/reasons?include_inactive=true", headers=admin).json()
        assert "welfare" in [r["code"] for r in everything]

    def test_permitting_and_forbidding_the_same_kind_is_422_on_forbids(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = {"code": "muddle", "label": "Muddle", "permits": ["live_view"], "forbids": ["live_view"]}
        answer = client.post("/api/v1/access/reasons", json=body, headers=headers_for(factory, Role.ADMIN))
        assert answer.status_code == 422
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body", "forbids"]
        assert error["msg"] == "a reason cannot both permit and forbid live view"

    def test_an_unknown_reason_is_404(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        admin = headers_for(factory, Role.ADMIN)
        assert client.post("/api/v1/access/reasons/nope/deactivate", headers=admin).status_code == 404


class TestGrantsApi:
    def test_grant_list_renew_and_end(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        operator = headers_for(factory, Role.CONTROL_ROOM)
        created = client.post("/api/v1/access/grants", json={**LIVE_VIEW, "minutes": 60}, headers=operator)
        assert created.status_code == 201, created.text
        grant = created.json()
        assert (grant["state"], grant["expires_at"]) == ("live", "2026-11-26T09:00:00Z")
        listed = client.get("/api/v1/access/grants?live=true", headers=operator).json()
        assert [g["id"] for g in listed["items"]] == [grant["id"]]
        clock.advance(timedelta(minutes=50))
        renewed = client.post(
            f"/api/v1/access/grants/{grant['id']}/renew", json={"minutes": 30}, headers=operator
        )
        assert renewed.json()["expires_at"] == "2026-11-26T09:20:00Z"
        assert renewed.json()["renewed_count"] == 1
        ended = client.post(f"/api/v1/access/grants/{grant['id']}/end", headers=operator)
        assert ended.json()["state"] == "ended"
        with factory() as db:
            actions = [e.action for e in events(db, "access:grant:granted")]
            actions += [e.action for e in events(db, "access:grant:renewed")]
            actions += [e.action for e in events(db, "access:grant:ended")]
        assert actions == ["access:grant:granted", "access:grant:renewed", "access:grant:ended"]

    def test_live_view_for_scrutiny_is_409_naming_the_reason(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        answer = client.post(
            "/api/v1/access/grants",
            json={**LIVE_VIEW, "reason_code": "stop-search-scrutiny"},
            headers=headers_for(factory, Role.PANEL_MEMBER),
        )
        assert answer.status_code == 409
        assert answer.json()["detail"] == {
            "rule": "reason_forbids_kind",
            "message": "Reason 'stop-search-scrutiny' forbids live view.",
        }

    def test_no_incident_number_or_note_and_too_long_are_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        operator = headers_for(factory, Role.CONTROL_ROOM)
        bare = {k: v for k, v in LIVE_VIEW.items() if k != "incident_number"}
        answer = client.post("/api/v1/access/grants", json=bare, headers=operator)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "incident_number"]
        too_long = client.post("/api/v1/access/grants", json={**LIVE_VIEW, "minutes": 1441}, headers=operator)
        assert too_long.status_code == 422

    def test_roles_that_view_nothing_may_not_ask(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        for role in (Role.EQUIPMENT_MANAGER, Role.PCC_OFFICE, Role.AUDITOR):
            answer = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=headers_for(factory, role))
            assert answer.status_code == 403, role

    def test_anothers_grant_is_hidden_but_oversight_sees_all(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        operator = headers_for(factory, Role.CONTROL_ROOM, username="op.one")
        grant = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=operator).json()
        officer = headers_for(factory, Role.OFFICER)
        assert client.get(f"/api/v1/access/grants/{grant['id']}", headers=officer).status_code == 404
        assert client.post(f"/api/v1/access/grants/{grant['id']}/end", headers=officer).status_code == 404
        assert client.get("/api/v1/access/grants/all", headers=officer).status_code == 403
        auditor = headers_for(factory, Role.AUDITOR)
        seen = client.get("/api/v1/access/grants/all?username=op.one&live=true", headers=auditor).json()
        assert [g["id"] for g in seen["items"]] == [grant["id"]]
        standards = headers_for(factory, Role.PROFESSIONAL_STANDARDS)
        ended = client.post(f"/api/v1/access/grants/{grant['id']}/end", headers=standards)
        assert ended.json()["ended_by"] != "op.one"

    def test_renewing_or_ending_a_missing_or_anothers_grant_is_404_no_such_grant(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        holder = headers_for(factory, Role.CONTROL_ROOM)
        grant = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=holder).json()
        colleague = headers_for(factory, Role.CONTROL_ROOM)
        for grant_id, who in ((grant["id"], colleague), (grant["id"] + 1000, holder)):
            for change in ("renew", "end"):
                answer = client.post(f"/api/v1/access/grants/{grant_id}/{change}", headers=who)
                assert (answer.status_code, answer.json()) == (404, {"detail": "No such grant."}), change
        assert client.get(f"/api/v1/access/grants/{grant['id']}", headers=holder).json()["state"] == "live"

    def test_an_ended_grant_is_neither_renewed_nor_ended_again_409_saying_when_it_ended(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        operator = headers_for(factory, Role.CONTROL_ROOM)
        grant = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=operator).json()
        clock.advance(timedelta(minutes=25))
        assert client.post(f"/api/v1/access/grants/{grant['id']}/end", headers=operator).status_code == 200
        clock.advance(timedelta(minutes=5))
        for change in ("renew", "end"):
            answer = client.post(f"/api/v1/access/grants/{grant['id']}/{change}", headers=operator)
            assert answer.status_code == 409, change
            assert answer.json()["detail"] == {
                "rule": "grant_ended",
                "message": f"Grant {grant['id']} was ended at 2026-11-26 08:25 UTC.",
            }

    def test_oversight_pages_through_everyones_grants_newest_first(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        ids = []
        for camera in ("BWV-0001", "BWV-0002", "BWV-0003"):
            operator = headers_for(factory, Role.CONTROL_ROOM)
            answer = client.post(
                "/api/v1/access/grants", json={**LIVE_VIEW, "record_id": camera}, headers=operator
            )
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
            clock.advance(timedelta(minutes=1))
        auditor = headers_for(factory, Role.AUDITOR)
        pages = [
            client.get(
                "/api/v1/access/grants/all", params={"limit": 2, "offset": offset}, headers=auditor
            ).json()
            for offset in (0, 2)
        ]
        assert [[g["id"] for g in page["items"]] for page in pages] == [[ids[2], ids[1]], [ids[0]]]
        assert [(page["total"], page["limit"], page["offset"]) for page in pages] == [(3, 2, 0), (3, 2, 2)]

    def test_twenty_identical_grants_at_once_store_one_and_refuse_the_rest(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        operator = headers_for(factory, Role.CONTROL_ROOM)
        start = threading.Barrier(20)

        def ask(_: int) -> int:
            start.wait()
            answer = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=operator)
            if answer.status_code == 409:
                assert answer.json()["detail"]["rule"] == "access_already_granted"
            return answer.status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = Counter(pool.map(ask, range(20)))
        assert statuses == {201: 1, 409: 19}
        with factory() as db:
            assert db.scalar(select(func.count()).select_from(AccessGrant)) == 1


class TestForceSettings:
    def test_a_force_with_one_hour_grants_refuses_longer_ones(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        hourly = settings.model_copy(update={"access_grant_max_minutes": 60})
        operator = headers_for(factory, Role.CONTROL_ROOM)
        with TestClient(
            create_app(hourly, factory, jobs=JobRegistry()), base_url="https://testserver"
        ) as client:
            usual = client.post("/api/v1/access/grants", json=LIVE_VIEW, headers=operator)
            assert usual.json()["expires_at"] == "2026-11-26T09:00:00Z"
            longer = client.post(
                "/api/v1/access/grants",
                json={**LIVE_VIEW, "record_id": "BWV-0002", "minutes": 90},
                headers=operator,
            )
        assert longer.status_code == 422
        assert longer.json()["detail"][0]["msg"] == "a grant lasts from 1 to 60 minutes"
