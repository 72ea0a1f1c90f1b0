from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.policy import Role
from tests.builders import headers_for

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


def _headers(factory: sessionmaker[Session], role: Role) -> dict[str, str]:
    return {**headers_for(factory, role), **HTML}


def _post(client: TestClient, path: str, headers: dict[str, str], **fields: str | list[str]) -> Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(path, data={"csrf_token": CSRF, **fields}, headers=headers, follow_redirects=True)


def _row(page: str, marker: str) -> str:
    match = re.search(rf"<tr {marker}>(.*?)</tr>", page, re.S)
    assert match is not None, marker
    return match.group(1)


class TestReasonsPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        assert client.get("/access/reasons", headers=HTML, follow_redirects=False).status_code == 303

    def test_an_officer_reads_the_reasons_without_the_admin_form(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = client.get("/access/reasons", headers=_headers(factory, Role.OFFICER)).text
        scrutiny = _row(page, 'data-code="uof-scrutiny"')
        assert "Independent scrutiny of use of force" in scrutiny
        assert "viewing redacted footage" in scrutiny and "live view" in scrutiny
        assert "Add a reason" not in page
        assert "Deactivate" not in page

    def test_an_admin_adds_a_reason_and_a_refusal_redraws_the_form(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        admin = _headers(factory, Role.ADMIN)
        added = _post(
            client, "/access/reasons", admin, code="welfare", label="Welfare check", permits=["live_view"]
        )
        assert added.status_code == 200
        assert "Added welfare." in added.text
        assert "Welfare check" in _row(added.text, 'data-code="welfare"')
        refused = _post(
            client,
            "/access/reasons",
            admin,
            code="muddle",
            label="Muddled thinking",
            permits=["live_view"],
            forbids=["live_view"],
        )
        assert refused.status_code == 422
        assert "a reason cannot both permit and forbid live view" in refused.text
        assert 'value="Muddled thinking"' in refused.text

    def test_an_admin_deactivates_a_reason(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        page = _post(client, "/access/reasons/investigation/deactivate", _headers(factory, Role.ADMIN))
        assert "Deactivated investigation." in page.text
        assert "deactivated" in _row(page.text, 'data-code="investigation"')
        assert "Bring back" in _row(page.text, 'data-code="investigation"')

    def test_a_supervisor_may_not_deactivate(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        refused = _post(
            client, "/access/reasons/investigation/deactivate", _headers(factory, Role.SUPERVISOR)
        )
        assert refused.status_code == 403


class TestGrantsPage:
    def test_state_a_reason_then_end_it(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        operator = _headers(factory, Role.CONTROL_ROOM)
        page = _post(
            client,
            "/access/grants",
            operator,
            record_kind="camera",
            record_id="BWV-0001",
            kind="live_view",
            reason_code="officer-safety",
            note="Emergency button pressed",
        )
        assert page.status_code == 200
        assert "Granted live view of camera BWV-0001 until 2026-11-26 16:00 GMT." in page.text
        match = re.search(r'<tr data-grant="(\d+)">', page.text)
        assert match is not None
        row = _row(page.text, f'data-grant="{match.group(1)}"')
        assert "officer-safety" in row and "Emergency button pressed" in row and "live" in row
        ended = _post(client, f"/access/grants/{match.group(1)}/end", operator)
        assert f"Ended grant {match.group(1)}." in ended.text
        assert "End now" not in _row(ended.text, f'data-grant="{match.group(1)}"')

    def test_a_forbidden_reason_redraws_the_form_with_the_reason_named(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        page = _post(
            client,
            "/access/grants",
            _headers(factory, Role.PANEL_MEMBER),
            record_kind="camera",
            record_id="BWV-0001",
            kind="live_view",
            reason_code="uof-scrutiny",
            incident_number="20261126-0042",
        )
        assert page.status_code == 409
        assert "Reason &#39;uof-scrutiny&#39; forbids live view." in page.text
        assert 'value="20261126-0042"' in page.text
        assert "No grants yet." in page.text

    def test_an_expired_grant_shows_as_expired_without_buttons(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        headers = _headers(factory, Role.SUPERVISOR)
        body = {
            "record_kind": "footage",
            "record_id": "77",
            "kind": "footage_view",
            "reason_code": "evidential-review",
            "incident_number": "20261126-0001",
            "minutes": 30,
        }
        client.cookies.set("openbwv_csrf", CSRF)
        assert client.post("/api/v1/access/grants", json=body, headers=headers).status_code == 201
        # Within the test token's hour, after the grant's half hour.
        clock.advance(timedelta(minutes=45))
        page = client.get("/access/grants", headers=headers).text
        assert "footage 77" in page
        assert "expired" in page
        assert "Renew" not in page
