from __future__ import annotations

import re
from datetime import date

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import people
from openbwv.db import transaction
from openbwv.fleet import credentials, devices
from openbwv.policy import SYSTEM, Role
from tests.builders import headers_for, make_device, make_ineligible_taser_holder, make_officer, make_pass
from tests.web.helpers import csrf, sign_in

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


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


class TestDeviceCredentialPage:
    def test_the_manager_issues_sees_it_once_and_revokes_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-W1")
        sign_in(client, factory, Role.EQUIPMENT_MANAGER, username="stores")
        page = client.get("/fleet/devices/CAM-W1", headers=HTML).text
        assert "No credential: the device cannot upload or report by itself." in page
        token = csrf(client, "/fleet/devices/CAM-W1")
        issued = client.post("/fleet/devices/CAM-W1/credential", data={"csrf_token": token}, headers=HTML)
        assert issued.status_code == 200
        shown = re.search(r'data-testid="new-credential">(obwvd_[^<]+)<', issued.text)
        assert shown is not None
        assert "it is shown only this once" in issued.text
        assert "may live_ingest, telemetry, upload" in issued.text
        again = client.get("/fleet/devices/CAM-W1", headers=HTML).text
        assert shown.group(1) not in again
        assert "Issued 2026-11-26 08:00 UTC by stores" in again and "not used yet" in again
        device = {"Authorization": f"Bearer {shown.group(1)}"}
        assert (
            client.post("/api/v1/device/telemetry", json={"storage_health": 88}, headers=device).status_code
            == 200
        )
        assert "last used 2026-11-26 08:00 UTC" in client.get("/fleet/devices/CAM-W1", headers=HTML).text
        revoked = client.post(
            "/fleet/devices/CAM-W1/credential/revoke", data={"csrf_token": token}, headers=HTML
        )
        assert revoked.status_code == 200
        assert "The credential of CAM-W1 is revoked." in revoked.text
        assert "No credential" in revoked.text
        assert (
            client.post("/api/v1/device/telemetry", json={"storage_health": 80}, headers=device).status_code
            == 401
        )

    def test_a_post_without_the_form_token_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-W2")
        sign_in(client, factory, Role.EQUIPMENT_MANAGER, username="stores")
        response = client.post(
            "/fleet/devices/CAM-W2/credential", data={"csrf_token": "forged"}, headers=HTML
        )
        assert response.status_code == 403
        with factory() as db:
            found = devices.get_device(db, "CAM-W2")
            assert found is not None and credentials.credential_of(db, found) is None

    def test_nothing_to_revoke_shows_the_reason(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-W3")
        sign_in(client, factory, Role.EQUIPMENT_MANAGER, username="stores")
        token = csrf(client, "/fleet/devices/CAM-W3")
        response = client.post(
            "/fleet/devices/CAM-W3/credential/revoke", data={"csrf_token": token}, headers=HTML
        )
        assert response.status_code == 409
        assert "CAM-W3 has no credential to revoke." in response.text

    def test_a_reader_sees_the_credential_but_no_buttons(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-W1")
            credentials.issue_credential(db, SYSTEM, serial="DOCK-W1")
        page = client.get("/fleet/devices/DOCK-W1", headers={**headers_for(factory, Role.SUPERVISOR), **HTML})
        assert page.status_code == 200
        assert "may telemetry, upload" in page.text
        assert "Revoke credential" not in page.text and "Replace credential" not in page.text

    def test_a_supervisor_may_not_issue(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-W4")
        sign_in(client, factory, Role.SUPERVISOR, username="sarge")
        token = csrf(client, "/fleet/devices/CAM-W4")
        response = client.post("/fleet/devices/CAM-W4/credential", data={"csrf_token": token}, headers=HTML)
        assert response.status_code == 403
