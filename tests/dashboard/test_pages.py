"""The home page: a section for each role the account holds."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.audit import log, verification
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import rollout
from openbwv.policy import SYSTEM, Actor, Role
from tests.audit.helpers import publish, record_events
from tests.builders import headers_for, make_device, make_officer, make_pass, make_unit

HTML = {"Accept": "text/html"}


class TestOfficerHome:
    def _page(self, client: TestClient, factory: sessionmaker[Session], collar: str, passed_on: date) -> str:
        with transaction(factory) as db:
            officer = make_officer(db, collar=collar, name="Jo Marsh")
            make_pass(db, officer, "bwv_user", date(2026, 1, 10))
            make_pass(db, officer, "taser_initial", passed_on)
            make_device(db, serial=f"CAM-{collar}")
            fleet.issue_device(
                db, SYSTEM, device_serial=f"CAM-{collar}", collar_number=collar, kind="personal"
            )
        headers = headers_for(factory, Role.OFFICER, username=f"pc{collar}", officer=officer)
        response = client.get("/", headers={**headers, **HTML})
        assert response.status_code == 200
        return response.text

    def test_an_authority_lapsing_in_20_days_is_warned_of_with_its_date(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        # The clock stands at 2026-11-26: a 12-month pass of 2025-12-16 lapses on 2026-12-16.
        page = self._page(client, factory, "5101", date(2025, 12, 16))
        warnings = re.findall(r'data-testid="authority-warning">(.*?)</p>', page, re.S)
        assert len(warnings) == 1
        assert "Taser authority" in warnings[0] and "lapses on 2026-12-16" in warnings[0]
        assert "CAM-5101" in page
        assert "Taser initial course" in page and "Body-worn video user course" in page

    def test_an_authority_lapsing_in_40_days_is_not_warned_of(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = self._page(client, factory, "5102", date(2026, 1, 5))
        assert 'data-testid="authority-warning"' not in page
        assert "2027-01-05" in page

    def test_a_lapsed_authority_is_warned_of(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = self._page(client, factory, "5103", date(2025, 11, 1))
        warnings = re.findall(r'data-testid="authority-warning">(.*?)</p>', page, re.S)
        assert len(warnings) == 1 and "lapsed on 2026-11-01" in warnings[0]


class TestAuditorHome:
    def test_shows_the_last_verification_and_the_latest_checkpoint(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings
    ) -> None:
        headers = {**headers_for(factory, Role.AUDITOR, username="auditor9"), **HTML}
        page = client.get("/", headers=headers).text
        assert "The log has not been verified yet." in page
        record_events(factory, 3)
        checkpoint = publish(factory, settings)
        verifier = log.log_signer(settings).verifier()
        verification.run_verification(factory, settings, actor=Actor(username="auditor9"), verifier=verifier)
        page = client.get("/", headers=headers).text
        outcome = re.search(r'data-testid="last-verification">(.*?)</p>', page, re.S)
        assert outcome is not None and "Last verification: OK: " in outcome.group(1)
        # The force's zone is Europe/London: 08:00 UTC on 26 November is 08:00 GMT.
        assert "Run by auditor9, finished 2026-11-26 08:00 GMT" in page
        assert f"Latest checkpoint: tree size {checkpoint.tree_size}, signed 2026-11-26 08:00 GMT" in page


class TestPccOfficeHome:
    def test_shows_rollout_and_fleet_figures_without_any_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            unit = make_unit(db, code="EPT", name="East Patrol")
            officers = [
                make_officer(db, collar="7301", name="Priya Okafor", unit=unit),
                make_officer(db, collar="7302", name="Dan Whitlock", unit=unit),
            ]
            make_pass(db, officers[0], "bwv_user", date(2026, 2, 1))
            make_device(db, serial="CAM-EPT-1")
            make_device(db, serial="CAM-EPT-2")
            fleet.issue_device(db, SYSTEM, device_serial="CAM-EPT-1", collar_number="7301", kind="personal")
            rollout.create_phase(
                db,
                SYSTEM,
                name="Wave 1",
                unit="EPT",
                target_cameras=2,
                starts_on=date(2026, 11, 1),
                ends_on=date(2026, 12, 31),
            )
        page = client.get(
            "/", headers={**headers_for(factory, Role.PCC_OFFICE, username="pcc1"), **HTML}
        ).text
        rollout_table = re.search(r'data-testid="rollout-figures">(.*?)</table>', page, re.S)
        assert rollout_table is not None
        row = re.sub(r">\s+<", "><", rollout_table.group(1))
        assert "Wave 1" in row and "East Patrol" in row
        assert "<td>1</td><td>2</td><td>50%</td><td>1 of 2 (50%)</td>" in row
        fleet_table = re.search(r'data-testid="fleet-figures">(.*?)</table>', page, re.S)
        assert fleet_table is not None
        # Two cameras: one issued, one in stock.
        assert re.search(r'<th scope="row">camera</th><td>1</td><td>1</td>(<td>0</td>){5}<td>2</td>', page)
        for officer in officers:
            assert officer.collar_number not in page
            assert officer.name not in page
        assert "CAM-EPT-1" not in page


class TestOutsideRolesHome:
    def test_a_prosecutor_is_told_what_will_appear(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get(
            "/", headers={**headers_for(factory, Role.PROSECUTOR, username="cps1"), **HTML}
        ).text
        assert re.search(
            r'data-testid="what-will-appear">[^<]*case bundles the force shares with your organisation', page
        )

    def test_a_panel_member_is_told_what_will_appear(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get(
            "/", headers={**headers_for(factory, Role.PANEL_MEMBER, username="panel1"), **HTML}
        ).text
        assert "sessions of redacted footage you are invited to review" in page


class TestSeveralRoles:
    def test_an_officer_who_is_also_an_auditor_sees_both_sections(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="5201", name="Ali Brooks")
        headers = headers_for(factory, Role.OFFICER, Role.AUDITOR, username="pc5201", officer=officer)
        page = client.get("/", headers={**headers, **HTML}).text
        assert "Your kit, training and authority" in page and "No kit issued." in page
        assert "The log has not been verified yet." in page
        assert 'data-testid="what-will-appear"' not in page

    def test_an_officer_role_without_an_officer_record_is_told_what_will_appear(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get(
            "/", headers={**headers_for(factory, Role.OFFICER, username="unlinked"), **HTML}
        ).text
        assert "once your account is linked to your officer record" in page
