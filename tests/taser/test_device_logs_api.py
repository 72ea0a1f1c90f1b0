"""The device log routes on both databases: who may import and read, the file by content type, form
or ``format``, the size limit, hostile input answered with 4xx, and the audit of each import."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.db import transaction
from openbwv.policy import Role
from openbwv.taser.device_logs import api
from tests.builders import headers_for
from tests.taser.builders import make_taser_holder
from tests.taser.device_log_builders import as_csv, as_json, event, fired

URL = "/api/v1/taser/device-logs"
CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


def _log(factory: sessionmaker[Session], collar: str) -> list[dict[str, object]]:
    with transaction(factory) as db:
        make_taser_holder(db, collar=collar)
    at = (clock.now() - timedelta(hours=2)).replace(microsecond=0)
    return [event(f"TS-{collar}", at - timedelta(minutes=5), "Arm"), *fired(f"TS-{collar}", at)]


class TestImport:
    def test_an_equipment_manager_imports_a_csv_log_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        log = _log(factory, "7301")
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER, username="stores"), **CSV}
        answer = client.post(f"{URL}?file_name=handle.csv", content=as_csv(log), headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["format"], body["file_name"], body["rows_read"], body["rows_stored"]) == (
            "csv",
            "handle.csv",
            3,
            3,
        )
        assert body["errors"] == [] and body["import_id"] is not None
        with transaction(factory) as db:
            events, total = audit.list_events(
                db, where=audit.EventFilter(action="taser:device_log:imported"), limit=10, offset=0
            )
            assert total == 1
            assert events[0].target_id == str(body["import_id"])
            assert events[0].details["tasers"] == ["TS-7301"] and events[0].details["rows_stored"] == 3

    def test_a_multipart_upload_with_a_format_field(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        log = _log(factory, "7302")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        answer = client.post(
            URL,
            files={"file": ("export.txt", as_json(log), "application/octet-stream")},
            data={"format": "json"},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        assert (answer.json()["format"], answer.json()["file_name"], answer.json()["rows_stored"]) == (
            "json",
            "export.txt",
            3,
        )

    def test_a_dry_run_answers_row_by_row_and_stores_nothing(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        log = _log(factory, "7303")
        log.append(event("TS-7303", clock.now() - timedelta(hours=1), "Tased"))
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **JSON}
        answer = client.post(f"{URL}?dry_run=true", content=as_json(log), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == [
            {
                "row": 4,
                "message": "the event_type 'Tased' is not one of Arm, Safe, Trigger, Arc, Cartridge Deployed",
            }
        ]
        assert answer.json()["rows_new"] == 3 and answer.json()["rows_stored"] == 0
        listed = client.get(f"{URL}/entries", headers=headers_for(factory, Role.SUPERVISOR))
        assert listed.json()["total"] == 0

    def test_bad_rows_are_a_422_naming_each(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        log = _log(factory, "7304")
        log.append(event("TS-7304", clock.now() - timedelta(hours=1), "Arm", sequence=2**70))
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **JSON}
        answer = client.post(URL, content=as_json(log), headers=headers)
        assert answer.status_code == 422
        detail = answer.json()["detail"]
        assert detail["rule"] == "device_log_rows_invalid"
        assert detail["errors"][0]["row"] == 4 and "sequence" in detail["errors"][0]["message"]

    def test_a_serial_not_in_the_fleet_is_a_422_naming_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **CSV}
        body = as_csv([event("X2NOPE", clock.now() - timedelta(hours=1), "Arm")])
        answer = client.post(URL, content=body, headers=headers)
        assert answer.status_code == 422
        assert answer.json()["detail"]["rule"] == "taser_not_in_fleet"
        assert "X2NOPE" in answer.json()["detail"]["message"]

    @pytest.mark.parametrize(
        ("content", "headers", "field"),
        [
            (b"\xff\xfe not text", CSV, "file"),
            (b"serial_number\n", {"Content-Type": "application/octet-stream"}, "format"),
            (b"{}", {"Content-Type": "application/xml"}, "format"),
        ],
        ids=["not_utf8", "no_format", "unknown_type"],
    )
    def test_a_body_that_cannot_be_read_is_a_422(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        content: bytes,
        headers: dict[str, str],
        field: str,
    ) -> None:
        answer = client.post(
            URL, content=content, headers={**headers_for(factory, Role.EQUIPMENT_MANAGER), **headers}
        )
        assert answer.status_code == 422
        assert field in json.dumps(answer.json()["detail"])

    def test_nul_bytes_are_a_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        log = _log(factory, "7305")
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **CSV}
        answer = client.post(URL, content=as_csv(log).replace("Arm", "Ar\x00m"), headers=headers)
        assert answer.status_code == 422
        raw = as_json(log).encode().replace(b'"Arm"', b'"Ar\x00m"')
        answer = client.post(URL, content=raw, headers={**headers, **JSON})
        assert answer.status_code == 422 and answer.json()["detail"]["rule"] == "device_log_unreadable"

    def test_a_body_over_the_limit_is_a_413(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(api, "MAX_LOG_BYTES", 1024)
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **CSV}
        assert client.post(URL, content=b"x" * 2048, headers=headers).status_code == 413

    def test_the_caller_is_known_before_the_body_is_read(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(api, "MAX_LOG_BYTES", 1024)
        assert client.post(URL, content=b"x" * 2048, headers=CSV).status_code == 401
        officer = {**headers_for(factory, Role.OFFICER), **CSV}
        assert client.post(URL, content=b"x" * 2048, headers=officer).status_code == 403
        supervisor = {**headers_for(factory, Role.SUPERVISOR), **CSV}
        assert client.post(URL, content=b"x" * 2048, headers=supervisor).status_code == 403


class TestListEntries:
    def test_entries_by_taser_and_time(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        log = _log(factory, "7311") + _log(factory, "7312")
        headers = {**headers_for(factory, Role.EQUIPMENT_MANAGER), **JSON}
        assert client.post(URL, content=as_json(log), headers=headers).status_code == 200
        reader = headers_for(factory, Role.PROFESSIONAL_STANDARDS)
        since = (clock.now() - timedelta(hours=2, minutes=1)).isoformat()
        answer = client.get(
            URL + "/entries", params={"taser_serial": "ts-7311", "since": since}, headers=reader
        )
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        assert [(i["taser_serial"], i["kind"], i["bay"]) for i in items] == [
            ("TS-7311", "trigger", 1),
            ("TS-7311", "cartridge_deployed", 1),
        ]
        assert answer.json()["total"] == 2

    def test_who_may_read(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        assert client.get(URL + "/entries").status_code == 401
        assert client.get(URL + "/entries", headers=headers_for(factory, Role.OFFICER)).status_code == 403
        for role in (Role.SUPERVISOR, Role.EQUIPMENT_MANAGER, Role.PROFESSIONAL_STANDARDS):
            assert client.get(URL + "/entries", headers=headers_for(factory, role)).status_code == 200

    def test_a_time_without_its_zone_is_a_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        answer = client.get(
            URL + "/entries",
            params={"since": "2026-01-01T00:00:00"},
            headers=headers_for(factory, Role.SUPERVISOR),
        )
        assert answer.status_code == 422
