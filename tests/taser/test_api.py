"""The deployment reports' JSON routes on both databases: filing, reading, listing, who may."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.db import transaction
from openbwv.fleet import devices, get_device
from openbwv.people.models import Officer
from openbwv.policy import Role
from tests.builders import headers_for, make_officer
from tests.taser.builders import make_taser_holder, report

URL = "/api/v1/taser/deployments"


def _holder(factory: sessionmaker[Session], collar: str) -> Officer:
    with transaction(factory) as db:
        return make_taser_holder(db, collar=collar)


def _filed(client: TestClient, factory: sessionmaker[Session], collar: str, **overrides: object) -> int:
    headers = headers_for(factory, Role.SUPERVISOR)
    answer = client.post(URL, json=report(collar, **overrides), headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


class TestFileDeployment:
    def test_an_officer_files_their_own_report(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        officer = _holder(factory, "6101")
        headers = headers_for(factory, Role.OFFICER, officer=officer)
        answer = client.post(URL, json=report("6101"), headers=headers)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["collar_number"] == "6101"
        assert body["taser_serial"] == "TS-6101"
        assert body["levels"] == ["drawn", "red_dot", "fired"]
        assert (body["highest_level"], body["discharge"]) == ("fired", True)
        assert (body["cartridges_discharged"], body["cartridge_bays"]) == (1, [1])
        assert body["status"] == "submitted"
        assert client.get(f"{URL}/{body['id']}", headers=headers).json() == body

        with transaction(factory) as db:
            events, total = audit.list_events(
                db, where=audit.EventFilter(action="taser:deployment:filed"), limit=10, offset=0
            )
            assert total == 1
            assert (events[0].target_type, events[0].target_id) == ("taser_deployment", str(body["id"]))
            assert events[0].details["taser"] == "TS-6101"
            assert events[0].details["highest_level"] == "fired"
            taser = get_device(db, "TS-6101")
            assert taser is not None
            bays = {c.bay: c for c in devices.cartridges_of(db, taser.id)}
            assert bays[1].discharged and not bays[2].discharged
            assert bays[1].discharged_at == clock.now() - timedelta(hours=1)

    def test_a_non_discharge_report_has_its_highest_level(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6102")
        headers = headers_for(factory, Role.SUPERVISOR)
        body = report(
            "6102", levels=["drawn", "red_dot", "aimed"], cartridges_discharged=0, cartridge_bays=[]
        )
        answer = client.post(URL, json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        assert (answer.json()["highest_level"], answer.json()["discharge"]) == ("red_dot", False)

    def test_a_broken_rule_is_named_with_422_and_nothing_is_kept(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6103")
        headers = headers_for(factory, Role.SUPERVISOR)
        answer = client.post(
            URL, json=report("6103", cartridges_discharged=0, cartridge_bays=[]), headers=headers
        )
        assert answer.status_code == 422
        assert answer.json()["detail"]["rule"] == "fired_without_cartridge"
        assert client.get(URL, headers=headers).json()["total"] == 0

    def test_a_bay_already_discharged_is_refused_and_the_report_not_kept(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6108")
        headers = headers_for(factory, Role.SUPERVISOR)
        first = _filed(client, factory, "6108")
        again = client.post(URL, json=report("6108", incident_number="INC-0002"), headers=headers)
        assert again.status_code == 409
        assert again.json()["detail"]["rule"] == "cartridge_already_discharged"
        assert [d["id"] for d in client.get(URL, headers=headers).json()["items"]] == [first]

    def test_an_officer_may_not_file_for_a_colleague(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6104")
        with transaction(factory) as db:
            colleague = make_officer(db, collar="6105")
        headers = headers_for(factory, Role.OFFICER, officer=colleague)
        answer = client.post(URL, json=report("6104"), headers=headers)
        assert answer.status_code == 403
        assert answer.json()["detail"]["rule"] == "own_reports_only"

    def test_anonymous_is_401_and_a_role_without_the_permission_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.post(URL, json=report("6106")).status_code == 401
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert client.post(URL, json=report("6106"), headers=headers).status_code == 403

    def test_out_of_range_and_unknown_values_are_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6107")
        headers = headers_for(factory, Role.SUPERVISOR)
        bads: list[dict[str, object]] = [
            {"lat": 91},
            {"lon": -181},
            {"cartridges_discharged": 2**64},
            {"incident_number": "INC\x00"},
            {"subject_self_defined_ethnicity": "Z9"},
            {"location_type": "moon"},
            {"reasons": []},
        ]
        for bad in bads:
            answer = client.post(URL, json=report("6107", **bad), headers=headers)
            assert answer.status_code == 422, (bad, answer.text)


class TestReadDeployments:
    def test_an_officer_reads_their_own_and_not_a_colleagues(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner = _holder(factory, "6201")
        colleague = _holder(factory, "6202")
        own = _filed(client, factory, "6201")
        theirs = _filed(client, factory, "6202")
        headers = headers_for(factory, Role.OFFICER, officer=owner)
        assert client.get(f"{URL}/{own}", headers=headers).status_code == 200
        hidden = client.get(f"{URL}/{theirs}", headers=headers)
        assert (hidden.status_code, hidden.json()) == (404, {"detail": "No such deployment report."})
        page = client.get(URL, headers=headers).json()
        assert [d["id"] for d in page["items"]] == [own]
        assert page["total"] == 1
        colleague_headers = headers_for(factory, Role.OFFICER, officer=colleague)
        assert [d["id"] for d in client.get(URL, headers=colleague_headers).json()["items"]] == [theirs]

    def test_supervisors_and_professional_standards_read_every_report(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6203")
        _holder(factory, "6204")
        first = _filed(client, factory, "6203")
        second = _filed(client, factory, "6204")
        for role in (Role.SUPERVISOR, Role.PROFESSIONAL_STANDARDS, Role.ADMIN):
            headers = headers_for(factory, role)
            assert client.get(f"{URL}/{first}", headers=headers).status_code == 200
            assert client.get(URL, headers=headers).json()["total"] == 2, role
        assert client.get(f"{URL}/{second}", headers=headers_for(factory, Role.AUDITOR)).status_code == 403
        assert client.get(URL).status_code == 401


class TestListDeployments:
    def test_filters_by_officer_time_and_highest_level(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        _holder(factory, "6301")
        _holder(factory, "6302")
        now = clock.now()
        # Filed out of order, and two at the same moment (an hour ago): newest use first, then newest filed.
        drawn = _filed(
            client,
            factory,
            "6301",
            occurred_at=(now - timedelta(hours=1)).isoformat(),
            levels=["drawn"],
            cartridges_discharged=0,
            cartridge_bays=[],
        )
        fired = _filed(client, factory, "6301", occurred_at=(now - timedelta(days=3)).isoformat())
        other = _filed(client, factory, "6302", cartridge_bays=[2])
        headers = headers_for(factory, Role.SUPERVISOR)

        def ids(**params: str) -> list[int]:
            answer = client.get(URL, params=params, headers=headers)
            assert answer.status_code == 200, answer.text
            return [d["id"] for d in answer.json()["items"]]

        assert ids() == [other, drawn, fired]
        assert ids(collar_number="6301") == [drawn, fired]
        assert ids(collar_number="9999") == []
        unknown = client.get(URL, params={"collar_number": "9999"}, headers=headers).json()
        assert (unknown["items"], unknown["total"]) == ([], 0)
        assert ids(since=(now - timedelta(days=1)).isoformat()) == [other, drawn]
        assert ids(until=(now - timedelta(days=1)).isoformat()) == [fired]
        # ``since`` takes in a use at that moment, ``until`` leaves it out.
        assert ids(since=(now - timedelta(days=3)).isoformat()) == [other, drawn, fired]
        assert ids(until=(now - timedelta(days=3)).isoformat()) == []
        bogus = client.get(URL, params={"level": "tased"}, headers=headers)
        assert bogus.status_code == 422
        assert bogus.json()["detail"][0]["loc"] == ["body", "level"]
        assert ids(level="fired") == [other, fired]
        assert ids(level="drawn", collar_number="6301") == [drawn]
        assert ids(limit="1", offset="1") == [drawn]
        assert client.get(URL, params={"level": "tased"}, headers=headers).status_code == 422
        assert client.get(URL, params={"since": "2026-11-01T00:00:00"}, headers=headers).status_code == 422
