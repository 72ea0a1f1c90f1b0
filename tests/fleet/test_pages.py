from __future__ import annotations

import re
from datetime import date

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import people
from openbwv.audit import AuditAction, AuditEvent
from openbwv.db import transaction
from openbwv.fleet import credentials, devices, issues, rollout
from openbwv.policy import SYSTEM, Role
from tests.builders import (
    headers_for,
    make_device,
    make_ineligible_taser_holder,
    make_officer,
    make_pass,
    make_unit,
)
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


class TestRecordsLinkToEachOther:
    def test_the_fleet_list_names_each_holder_and_exports_only_what_it_shows(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="3301")
            make_pass(db, officer, "bwv_user", date(2026, 1, 1))
            make_device(db, serial="CAM-H1")
            make_device(db, serial="CAM-H2")
            make_device(db, kind="taser", serial="TAS-H1")
            # CAM-H2 went out and came back: it is in stock, held by nobody.
            earlier = issues.issue_device(
                db, SYSTEM, device_serial="CAM-H2", collar_number="3301", kind="personal"
            )
            issues.return_issue(db, SYSTEM, issue_id=earlier.id)
            issues.issue_device(db, SYSTEM, device_serial="CAM-H1", collar_number="3301", kind="personal")
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **HTML}
        page = client.get("/fleet/devices", params={"kind": "camera"}, headers=headers).text
        rows = dict(re.findall(r'data-testid="holder-([^"]+)">(.*?)</td>', page))
        assert rows == {"CAM-H1": '<a href="/officers/3301/kit">3301</a>', "CAM-H2": ""}
        export = re.search(r'href="([^"]+)" data-testid="export"', page)
        assert export is not None and export.group(1) == "/api/v1/exports/devices.csv?kind=camera"
        exported = client.get(export.group(1), headers=headers).text.splitlines()
        assert [line.split(",")[1] for line in exported[1:]] == ["CAM-H1", "CAM-H2"]

    def test_officer_rows_and_expiry_serials_link_to_their_records(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_ineligible_taser_holder(db, collar="3302", name="Ann Lee", serial="TP-2")
        officers = client.get("/officers", headers={**headers_for(factory, Role.SUPERVISOR), **HTML}).text
        assert '<a href="/officers/3302/kit">3302</a>' in officers
        expiry = client.get(
            "/training/expiry", headers={**headers_for(factory, Role.TRAINING_MANAGER), **HTML}
        )
        assert '<a href="/fleet/devices/TP-2">TP-2</a>' in expiry.text

    def test_the_rollout_flags_a_phase_ended_short_and_a_target_above_headcount(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            unit = make_unit(db, code="NPT", name="North Patrol")
            for collar in ("3401", "3402"):
                make_officer(db, collar=collar, unit=unit)
            ended = rollout.create_phase(
                db,
                SYSTEM,
                name="Pilot",
                unit="NPT",
                target_cameras=1,
                starts_on=date(2026, 10, 1),
                ends_on=date(2026, 11, 25),
            )
            running = rollout.create_phase(
                db,
                SYSTEM,
                name="Wave 2",
                unit="NPT",
                target_cameras=3,
                starts_on=date(2026, 11, 1),
                ends_on=date(2026, 11, 26),
            )
        page = client.get("/fleet/rollout", headers={**headers_for(factory, Role.SUPERVISOR), **HTML}).text
        flags = dict(re.findall(r'data-testid="flags-(\d+)">(.*?)</td>', page))
        # The clock stands on 26 November: the pilot ended the day before, Wave 2 ends today.
        assert flags[str(ended.id)] == '<strong class="error">Ended 2026-11-25 below target.</strong> '
        assert (
            flags[str(running.id)] == '<strong class="error">Target is above the unit\'s 2 officers.</strong>'
        )
        assert "Pilot · North Patrol" in page


class TestRolloutPhasesPage:
    def test_an_equipment_manager_adds_a_phase_and_a_refusal_redraws_the_form(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="SPT", name="South Patrol")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER, username="stores")
        phase = {"name": "Wave 3", "unit": "SPT", "target_cameras": "12", "starts_on": "2026-12-01"}
        added = _post_form(client, headers, "/fleet/rollout/phases", **phase, ends_on="2027-01-31")
        assert added.status_code == 200
        assert "Phase Wave 3 added: 12 cameras by 2027-01-31." in added.text
        assert "<td>Wave 3</td><td>South Patrol</td>" in added.text
        refused = _post_form(client, headers, "/fleet/rollout/phases", **phase, ends_on="2026-11-30")
        assert refused.status_code == 422
        assert "The phase must end on or after the day it starts." in refused.text
        assert 'value="2026-11-30"' in refused.text and 'value="Wave 3"' in refused.text
        again = _post_form(client, headers, "/fleet/rollout/phases", **phase, ends_on="2027-02-28")
        assert again.status_code == 409
        assert "Phase Wave 3 already covers unit SPT." in again.text
        with factory() as db:
            [added_phase] = rollout.rollout_progress(db)
            assert added_phase.ends_on == date(2027, 1, 31)
            [event] = db.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.FLEET_ROLLOUT_CHANGED)
            )
            assert (
                event.actor_username,
                event.target_type,
                event.target_id,
                event.reason,
                event.details,
            ) == (
                "stores",
                "rollout_phase",
                str(added_phase.id),
                None,
                {"name": "Wave 3", "unit": "SPT", "target_cameras": 12},
            )

    def test_a_supervisor_reads_the_rollout_without_the_form_and_cannot_post(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.SUPERVISOR)
        assert "Add a phase" not in client.get("/fleet/rollout", headers={**headers, **HTML}).text
        refused = _post_form(
            client,
            headers,
            "/fleet/rollout/phases",
            name="X",
            unit="RESP",
            target_cameras="1",
            starts_on="2026-12-01",
            ends_on="2026-12-02",
        )
        assert refused.status_code == 403


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
        assert (
            'Sergeants not funded for the refresher</td><td><a href="/fleet/devices/TP-1">TP-1</a></td>'
            in page.text
        )


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
        assert "Issued 2026-11-26 08:00 GMT by stores" in again and "not used yet" in again
        device = {"Authorization": f"Bearer {shown.group(1)}"}
        assert (
            client.post("/api/v1/device/telemetry", json={"storage_health": 88}, headers=device).status_code
            == 200
        )
        assert "last used 2026-11-26 08:00 GMT" in client.get("/fleet/devices/CAM-W1", headers=HTML).text
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


def _post_form(client: TestClient, headers: dict[str, str], path: str, **form: str) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(
        path, data={"csrf_token": CSRF, **form}, headers={**headers, **HTML}, follow_redirects=True
    )


class TestAddDevicesPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        assert client.get("/fleet/devices/new", headers=HTML, follow_redirects=False).status_code == 303

    def test_a_supervisor_is_403(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        assert client.get("/fleet/devices/new", headers=headers).status_code == 403
        assert "Add devices" not in client.get("/fleet/devices", headers=headers).text

    def test_each_scan_adds_one_and_keeps_the_kind_model_and_station(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        fixed = {"kind": "taser", "model": "x2", "station": "Dudley"}
        first = _post_form(client, headers, "/fleet/devices/new", serial="tx-001", **fixed)
        second = _post_form(client, headers, "/fleet/devices/new", serial="TX-002", **fixed)
        assert "TX-001 added." in first.text and "TX-002 added." in second.text
        assert 'value="Dudley"' in second.text and '<option value="taser" selected>' in second.text
        assert 'data-testid="received-count">2 devices<' in second.text
        with factory() as db:
            added = devices.get_device(db, "TX-002")
            assert added is not None and (added.kind, added.model, added.station) == ("taser", "X2", "Dudley")

    def test_a_serial_already_registered_keeps_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-D1")
        response = _post_form(
            client,
            headers_for(factory, Role.EQUIPMENT_MANAGER),
            "/fleet/devices/new",
            serial="cam-d1",
            model="Axon Body 3",
        )
        assert response.status_code == 409
        assert "A device with serial CAM-D1 is already registered." in response.text
        assert 'value="cam-d1"' in response.text and 'value="Axon Body 3"' in response.text

    def test_a_missing_model_puts_the_cursor_on_the_model(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = _post_form(
            client, headers_for(factory, Role.EQUIPMENT_MANAGER), "/fleet/devices/new", serial="CAM-D2"
        )
        assert response.status_code == 422
        assert "Choose or type the device&#39;s model." in response.text and "model:" not in response.text
        assert re.search(r'id="model"[^>]*autofocus', response.text)


class TestDeviceStatePage:
    def test_lost_needs_a_note_then_is_recorded_and_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-Z1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        refused = _post_form(client, headers, "/fleet/devices/CAM-Z1/state", state="lost")
        assert refused.status_code == 422
        assert "Say where and when it was lost." in refused.text and "note:" not in refused.text
        done = _post_form(
            client, headers, "/fleet/devices/CAM-Z1/state", state="lost", note="Left at the scene"
        )
        assert "Camera CAM-Z1 is now lost." in done.text
        assert "Reported lost on 2026-11-26 08:00 GMT" in done.text and "Left at the scene" in done.text
        listed = client.get("/fleet/devices?state=lost", headers={**headers, **HTML})
        assert "CAM-Z1" in listed.text
        with factory() as db:
            event = db.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.FLEET_DEVICE_STATE_CHANGED)
            ).one()
            assert (event.target_id, event.reason, event.details) == (
                "CAM-Z1",
                "Left at the scene",
                {"from": "in_stock", "to": "lost"},
            )

    def test_repair_then_retire_and_a_retired_device_offers_nothing(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-Z2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        repair = _post_form(
            client, headers, "/fleet/devices/CAM-Z2/state", state="in_repair", note="Cracked lens"
        )
        assert "Camera CAM-Z2 is now in repair." in repair.text
        retired = _post_form(client, headers, "/fleet/devices/CAM-Z2/state", state="retired")
        assert "Camera CAM-Z2 is now retired." in retired.text
        assert "Change state" not in retired.text

    def test_an_issued_device_offers_only_lost_or_stolen(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="3201")
            make_pass(db, officer, "bwv_user", date(2026, 1, 1))
            make_device(db, serial="CAM-Z3")
            issues.issue_device(db, SYSTEM, device_serial="CAM-Z3", collar_number="3201", kind="personal")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        page = client.get("/fleet/devices/CAM-Z3", headers={**headers, **HTML}).text
        assert re.findall(r'<option value="([a-z_]+)"', page) == ["lost", "stolen"]
        refused = _post_form(client, headers, "/fleet/devices/CAM-Z3/state", state="in_repair")
        assert refused.status_code == 409
        assert "is issued; return it before changing its state" in refused.text

    def test_a_supervisor_may_not_change_the_state(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-Z4")
        response = _post_form(
            client, headers_for(factory, Role.SUPERVISOR), "/fleet/devices/CAM-Z4/state", state="retired"
        )
        assert response.status_code == 403


class TestCartridgePage:
    def test_load_mark_discharged_and_replace_show_in_the_bays_and_history(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="taser", serial="TX-C1")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        page = client.get("/fleet/devices/TX-C1", headers={**headers, **HTML}).text
        assert re.findall(r'<option value="(\d+)"', page) == ["1", "2"]
        loaded = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C1/cartridges",
            bay="2",
            cartridge="c-77",
            lot="L9",
            expires_on="2027-06-30",
        )
        assert "Cartridge C-77 is loaded in bay 2." in loaded.text
        assert re.findall(r'<option value="(\d+)"', loaded.text) == ["1"]
        spent = _post_form(
            client, headers, "/fleet/devices/TX-C1/cartridges/2/discharge", note="Spent in training"
        )
        assert "Cartridge C-77 in bay 2 is marked discharged." in spent.text
        assert re.findall(r'<option value="(\d+)"', spent.text) == ["1", "2"]
        replaced = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C1/cartridges",
            bay="2",
            cartridge="C-78",
            lot="L9",
            expires_on="2027-06-30",
        )
        assert "Cartridge C-78 is loaded in bay 2." in replaced.text
        assert "bay 2: C-78, replacing discharged C-77" in replaced.text
        with factory() as db:
            taser = devices.get_device(db, "TX-C1")
            assert taser is not None
            assert [(bay, c.serial if c else None) for bay, c in devices.bays_of(db, taser)] == [
                (1, None),
                (2, "C-78"),
            ]
            actions = db.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == "TX-C1").order_by(AuditEvent.id)
            ).all()
            assert actions == [
                AuditAction.FLEET_DEVICE_CREATED,
                AuditAction.FLEET_CARTRIDGE_LOADED,
                AuditAction.FLEET_CARTRIDGE_DISCHARGED,
                AuditAction.FLEET_CARTRIDGE_LOADED,
            ]

    def test_refusals_redraw_the_form_with_what_was_typed_and_a_sentence(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="taser", serial="TX-C2")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        expired = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C2/cartridges",
            bay="1",
            cartridge="C-90",
            lot="L1",
            expires_on="2026-01-01",
        )
        assert expired.status_code == 409
        assert "Cartridge C-90 expired on 2026-01-01; load one in date." in expired.text
        assert 'value="C-90"' in expired.text and 'value="L1"' in expired.text
        no_date = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C2/cartridges",
            bay="1",
            cartridge="C-90",
            lot="L1",
            expires_on="30/06/2027",
        )
        assert no_date.status_code == 422
        assert "Give the cartridge&#39;s expiry date as a date, e.g. 2027-06-30." in no_date.text
        assert "expires_on" not in no_date.text.split('id="device-error"')[1].split("</p>")[0]
        bad_bay = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C2/cartridges",
            bay="²",
            cartridge="C-90",
            lot="L1",
            expires_on="2027-06-30",
        )
        assert bad_bay.status_code == 422 and "Choose one of the Taser&#39;s bays." in bad_bay.text
        empty = _post_form(client, headers, "/fleet/devices/TX-C2/cartridges/1/discharge")
        assert empty.status_code == 409 and "Bay 1 of Taser TX-C2 holds no cartridge." in empty.text
        with factory() as db:
            taser = devices.get_device(db, "TX-C2")
            assert taser is not None and devices.cartridges_of(db, taser.id) == []

    def test_a_supervisor_sees_the_bays_but_no_forms_and_may_not_load(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="taser", serial="TX-C3")
        headers = headers_for(factory, Role.SUPERVISOR)
        page = client.get("/fleet/devices/TX-C3", headers={**headers, **HTML}).text
        assert 'data-testid="bay-2"' in page and "Load cartridge" not in page
        refused = _post_form(
            client,
            headers,
            "/fleet/devices/TX-C3/cartridges",
            bay="1",
            cartridge="C-91",
            lot="L1",
            expires_on="2027-06-30",
        )
        assert refused.status_code == 403
