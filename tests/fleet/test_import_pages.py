"""Bulk import on a page: the dry run's report row by row, then the import, its body read only from a
caller who may import."""

from __future__ import annotations

import html
import re

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import people
from openbwv.audit import AuditAction, AuditEvent
from openbwv.db import transaction
from openbwv.fleet import devices, imports
from openbwv.policy import Role
from tests.builders import headers_for, make_device, make_unit
from tests.web.helpers import csrf, sign_in

HTML = {"Accept": "text/html"}
DELIVERY = (
    "kind,serial,model\n"
    "camera,IMP-1,Axon Body 3\n"
    "phone,IMP-2,Axon Body 3\n"
    "camera,IMP-3,Axon Body 3\n"
    "camera,imp-1,Axon Body 3\n"
)
HR_EXPORT = "collar_number,name,rank,unit\n7101,Amira Ahmed,constable,RESP\n7102,Ben Baker,sargeant,RESP\n"


def _manager(factory: sessionmaker[Session]) -> dict[str, str]:
    return {**headers_for(factory, Role.EQUIPMENT_MANAGER), **HTML}


def _check(
    client: TestClient, headers: dict[str, str], content: str | bytes = DELIVERY, what: str | None = "devices"
) -> httpx2.Response:
    return client.post(
        "/fleet/imports/check",
        data={"what": what} if what is not None else {},
        files={"file": ("note.csv", content, "text/csv")},
        headers=headers,
    )


def _hidden(page: httpx2.Response) -> dict[str, str]:
    """The import form's hidden fields, as the browser would send them back."""
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    return {name: html.unescape(value) for name, value in fields}


def _commit(client: TestClient, headers: dict[str, str], fields: dict[str, str]) -> httpx2.Response:
    # Multipart, as the report's form posts it: every field a part, the file's text among them.
    return client.post(
        "/fleet/imports/commit",
        files={name: (None, value) for name, value in fields.items()},
        headers=headers,
        follow_redirects=False,
    )


def _problems(page: httpx2.Response) -> list[tuple[int, str]]:
    table = re.search(r'data-testid="problems">(.*?)</table>', page.text, re.S)
    assert table is not None, page.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", table.group(1))
    return [(int(line), html.unescape(reason)) for line, reason in rows]


def _text_of(page: httpx2.Response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</p>', page.text, re.S)
    assert found is not None, page.text
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def _imports_recorded(factory: sessionmaker[Session]) -> list[dict[str, object]]:
    with factory() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.FLEET_IMPORT_COMPLETED)
        ).all()
        return [{"target": e.target_id, **(e.details or {})} for e in events]


class TestImportsPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        response = client.get("/fleet/imports", headers=HTML, follow_redirects=False)
        assert response.status_code == 303

    def test_a_role_without_the_permission_is_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        assert client.get("/fleet/imports", headers=headers).status_code == 403

    def test_it_states_each_kind_of_file_and_its_columns(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get("/fleet/imports?what=officers", headers=_manager(factory))
        assert page.status_code == 200
        assert "collar_number,name,rank,unit" in page.text
        assert "kind,serial,model,firmware,station,pooled" in page.text
        assert re.search(r'value="officers" required checked', page.text)
        assert "Check file" in page.text

    def test_the_fleet_and_officer_lists_link_to_it_only_for_importers(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        admin = {**headers_for(factory, Role.ADMIN), **HTML}
        supervisor = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        assert 'href="/fleet/imports?what=devices"' in client.get("/fleet/devices", headers=admin).text
        assert 'href="/fleet/imports?what=officers"' in client.get("/officers", headers=admin).text
        assert "/fleet/imports" not in client.get("/fleet/devices", headers=supervisor).text
        assert "/fleet/imports" not in client.get("/officers", headers=supervisor).text


class TestTheBodyIsReadOnlyFromAnImporter:
    def test_an_oversize_file_from_a_role_without_the_permission_is_403_not_413(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(imports, "MAX_CSV_BYTES", 1024)
        oversize = DELIVERY + "camera,IMP-9,Axon Body 3\n" * 100
        supervisor = {**headers_for(factory, Role.SUPERVISOR), **HTML}
        assert _check(client, supervisor, oversize).status_code == 403
        assert _commit(client, supervisor, {"what": "devices", "text": oversize}).status_code == 403
        assert _check(client, _manager(factory), oversize).status_code == 413

    def test_an_unparseable_body_from_a_role_without_the_permission_is_403_not_400(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        garbage = {"Content-Type": "multipart/form-data; boundary=x"}
        supervisor = {**headers_for(factory, Role.SUPERVISOR), **HTML, **garbage}
        assert (
            client.post("/fleet/imports/check", content=b"not a form", headers=supervisor).status_code == 403
        )
        manager = {**_manager(factory), **garbage}
        refused = client.post("/fleet/imports/check", content=b"not a form", headers=manager)
        assert refused.status_code == 422
        assert "The form could not be read" in _text_of(refused, "error")

    def test_a_signed_in_browser_needs_the_form_token(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.EQUIPMENT_MANAGER)
        token = csrf(client, "/fleet/imports")
        files = {"file": ("note.csv", DELIVERY, "text/csv")}
        without = client.post("/fleet/imports/check", data={"what": "devices"}, files=files, headers=HTML)
        assert without.status_code == 403
        checked = client.post(
            "/fleet/imports/check", data={"what": "devices", "csrf_token": token}, files=files, headers=HTML
        )
        assert checked.status_code == 200
        forged = {**_hidden(checked), "csrf_token": "forged"}
        assert _commit(client, HTML, forged).status_code == 403
        with factory() as db:
            assert devices.get_device(db, "IMP-1") is None


class TestCheck:
    def test_the_dry_run_names_each_bad_line_and_stores_nothing(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = _check(client, _manager(factory))
        assert page.status_code == 200
        assert _text_of(page, "summary") == "4 rows read: 2 can be imported, 2 have problems."
        assert _problems(page) == [
            (3, "kind 'phone' must be one of camera, taser, dock"),
            (5, "serial IMP-1 appears again (first on line 2)"),
        ]
        assert "Import the 2 good rows and skip the bad ones" in page.text
        assert _hidden(page)["text"] == DELIVERY
        assert _hidden(page)["skip_bad"] == "yes"
        with factory() as db:
            assert devices.get_device(db, "IMP-1") is None
        assert _imports_recorded(factory) == []

    def test_a_file_without_a_bad_row_offers_to_import_every_row(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = _check(client, _manager(factory), "kind,serial,model\ncamera,IMP-1,Axon Body 3\n")
        assert _text_of(page, "summary") == "1 row read: 1 can be imported."
        assert "Import 1 row<" in page.text and 'data-testid="problems"' not in page.text
        assert "skip_bad" not in _hidden(page)

    def test_a_file_missing_a_column_offers_no_import(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = _check(client, _manager(factory), "kind,serial\ncamera,IMP-1\n")
        assert (
            _text_of(page, "summary")
            == "The file cannot be read into rows, so nothing in it can be imported."
        )
        assert [line for line, _ in _problems(page)] == [1]
        assert "/fleet/imports/commit" not in page.text

    @pytest.mark.parametrize(
        ("content", "what", "status", "message"),
        [
            (
                "kind,serial,model\ncamera,ÄB-1,Axon\n".encode("latin-1"),
                "devices",
                422,
                "The file is not UTF-8 text",
            ),
            (b"", "devices", 422, "The file is empty"),
            (b"\n  \n", "devices", 422, "The file is empty"),
            (b"kind,serial,model\ncamera,IMP\x00-1,Axon\n", "devices", 422, "The file holds NUL characters"),
            (DELIVERY.encode(), None, 422, "Choose what the file holds: officers or devices."),
            (DELIVERY.encode(), "tasers", 422, "Choose what the file holds: officers or devices."),
        ],
        ids=["not-utf-8", "empty", "blank", "nul", "no-choice", "unknown-choice"],
    )
    def test_a_file_that_cannot_be_checked_is_refused_on_the_page(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        content: bytes,
        what: str | None,
        status: int,
        message: str,
    ) -> None:
        page = _check(client, _manager(factory), content, what=what)
        assert page.status_code == status
        assert _text_of(page, "error").startswith(message)
        assert 'aria-invalid="true"' in page.text
        assert _imports_recorded(factory) == []

    def test_a_file_over_the_limit_is_413_on_the_page(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(imports, "MAX_CSV_BYTES", 1024)
        page = _check(client, _manager(factory), DELIVERY + "camera,IMP-9,Axon Body 3\n" * 100)
        assert page.status_code == 413
        assert "split it into smaller files" in _text_of(page, "error")

    def test_the_default_limit_is_the_apis_not_starlettes_one_megabyte(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        model = "Axon Body 3 " + "x" * 60
        text = "kind,serial,model\n" + "".join(f"camera,BIG-{n},{model}\n" for n in range(12_000))
        assert len(text.encode()) > 1024 * 1024
        page = _check(client, _manager(factory), text)
        assert _text_of(page, "summary") == "12000 rows read: 12000 can be imported."
        done = _commit(client, _manager(factory), _hidden(page))
        assert done.headers["location"] == "/fleet/imports?what=devices&imported=12000&skipped=0"


class TestCommit:
    def test_every_row_is_imported_and_audited_once(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = _manager(factory)
        text = "kind,serial,model,station,pooled\ncamera,IMP-1,Axon Body 3,,\ncamera,IMP-2,Axon Body 3,Coventry,yes\n"
        done = _commit(client, manager, _hidden(_check(client, manager, text)))
        assert done.status_code == 303
        assert done.headers["location"] == "/fleet/imports?what=devices&imported=2&skipped=0"
        result = client.get(done.headers["location"], headers=manager)
        assert _text_of(result, "result") == "2 devices imported. See the fleet"
        listed = client.get("/fleet/devices?q=IMP-", headers=manager).text
        assert "IMP-1" in listed and "IMP-2" in listed
        with factory() as db:
            pooled = devices.get_device(db, "IMP-2")
            assert pooled is not None and pooled.state == "pooled"
        assert _imports_recorded(factory) == [{"target": "devices", "rows": 2, "imported": 2, "skipped": 0}]

    def test_skipping_imports_only_the_good_rows(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        manager = _manager(factory)
        checked = _check(client, manager, HR_EXPORT, what="officers")
        assert _problems(checked) == [(3, "unknown rank 'sargeant'")]
        assert "Import the 1 good row and skip the bad ones" in checked.text
        done = _commit(client, manager, _hidden(checked))
        result = client.get(done.headers["location"], headers=manager)
        assert (
            _text_of(result, "result") == "1 officer imported; 1 row with a problem skipped. See the officers"
        )
        with factory() as db:
            assert people.get_officer(db, "7101") is not None
            assert people.get_officer(db, "7102") is None
        assert _imports_recorded(factory) == [{"target": "officers", "rows": 2, "imported": 1, "skipped": 1}]

    def test_rows_gone_bad_since_the_check_are_reported_again_and_nothing_is_imported(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = _manager(factory)
        text = "kind,serial,model\ncamera,IMP-1,Axon Body 3\ncamera,IMP-2,Axon Body 3\n"
        checked = _check(client, manager, text)
        with transaction(factory) as db:
            make_device(db, serial="IMP-2")
        again = _commit(client, manager, _hidden(checked))
        assert again.status_code == 422
        assert 'data-testid="rejected"' in again.text
        assert _problems(again) == [(3, "serial IMP-2 is already registered")]
        assert "Import the 1 good row and skip the bad ones" in again.text
        with factory() as db:
            assert devices.get_device(db, "IMP-1") is None
        assert _imports_recorded(factory) == []
        skipped = _commit(client, manager, _hidden(again))
        assert skipped.headers["location"] == "/fleet/imports?what=devices&imported=1&skipped=1"

    def test_text_over_the_limit_is_413(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(imports, "MAX_CSV_BYTES", 1024)
        oversize = DELIVERY + "camera,IMP-9,Axon Body 3\n" * 100
        page = _commit(client, _manager(factory), {"what": "devices", "text": oversize})
        assert page.status_code == 413
        assert "split it into smaller files" in _text_of(page, "error")
        with factory() as db:
            assert devices.get_device(db, "IMP-1") is None
