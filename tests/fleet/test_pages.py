from __future__ import annotations

from datetime import date

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import people
from openbwv.db import transaction
from openbwv.fleet import devices
from openbwv.policy import Role
from tests.builders import headers_for, make_device, make_ineligible_taser_holder, make_officer, make_pass

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


def _post_counter(client: TestClient, headers: dict[str, str], **form: str) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(
        "/fleet/counter",
        data={"csrf_token": CSRF, **form},
        headers={**headers, **HTML},
        follow_redirects=True,
    )


class TestCounterPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        response = client.get("/fleet/counter", headers=HTML, follow_redirects=False)
        assert response.status_code == 303

    def test_officer_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.get("/fleet/counter", headers={**headers_for(factory), **HTML}).status_code == 403

    def test_issues_and_returns_a_camera(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="3001")
            make_pass(db, officer, "bwv_user", date(2026, 1, 1))
            make_device(db, serial="CAM-P1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        issued = _post_counter(
            client, headers, serial="cam-p1", collar_number="3001", kind="personal", action="issue"
        )
        assert "CAM-P1 issued to officer 3001 (personal)." in issued.text
        returned = _post_counter(client, headers, serial="CAM-P1", action="return")
        assert "CAM-P1 returned." in returned.text
        with factory() as db:
            device = devices.get_device(db, "CAM-P1")
            assert device is not None and device.state == "in_stock"

    def test_a_refusal_shows_the_reason(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="3002")
            make_device(db, serial="CAM-P2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        response = _post_counter(client, headers, serial="CAM-P2", collar_number="3002", action="issue")
        assert response.status_code == 409
        assert "has not passed the body-worn video user course" in response.text

    def test_missing_serial_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert _post_counter(client, headers, collar_number="1").status_code == 422


class TestFleetPages:
    def test_device_list_filters_and_history(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-L1")
            make_device(db, kind="taser", serial="TAS-L1")
        headers = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        listed = client.get("/fleet/devices?kind=taser", headers=headers)
        assert "TAS-L1" in listed.text and "CAM-L1" not in listed.text
        history = client.get("/fleet/devices/CAM-L1", headers=headers)
        assert "received" in history.text

    def test_expiry_dashboard_and_rollout_render(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = {**headers_for(factory, Role.TRAINING_MANAGER), **HTML}
        assert "Taser authority expiry" in client.get("/training/expiry", headers=headers).text
        assert "Camera roll-out" in client.get("/fleet/rollout", headers=headers).text

    def test_kit_page_of_another_officer_is_hidden_from_an_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="3003")
        response = client.get("/officers/3003/kit", headers={**headers_for(factory), **HTML})
        assert response.status_code == 404


class TestIneligibleWithTaserShown:
    def test_the_expiry_page_and_the_exceptions_api_list_the_sergeant(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_ineligible_taser_holder(db, collar="3101", name="Ben Price", serial="TP-1")
        headers = headers_for(factory, Role.TRAINING_MANAGER)
        found = client.get("/api/v1/training/exceptions", params={"on": "2026-11-26"}, headers=headers)
        assert found.status_code == 200
        assert found.json()["ineligible_with_taser"] == [
            {
                "collar_number": "3101",
                "name": "Ben Price",
                "rank": "Sergeant",
                "unit": officer_unit(factory, "3101"),
                "reason": "Sergeants not funded for the refresher",
                "effective_from": "2026-11-01",
                "tasers_held": ["TP-1"],
            }
        ]
        earlier = client.get("/api/v1/training/exceptions", params={"on": "2026-10-31"}, headers=headers)
        assert earlier.json()["ineligible_with_taser"] == []
        page = client.get("/training/expiry", params={"on": "2026-11-26"}, headers={**headers, **HTML})
        assert "Not eligible under the policy, with a Taser still issued (1)" in page.text
        assert "Sergeants not funded for the refresher</td><td>TP-1</td>" in page.text


def officer_unit(factory: sessionmaker[Session], collar: str) -> str:
    with factory() as db:
        officer = people.get_officer(db, collar)
        assert officer is not None
        return str(officer.unit.code)
