from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.observability import JsonFormatter
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user

HTML = {"Accept": "text/html"}


def sign_in(
    client: TestClient, factory: sessionmaker[Session], role: Role, username: str = "pageuser"
) -> None:
    with transaction(factory) as db:
        make_user(db, username=username, roles=[role])
    form = client.get("/login", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token.group(1)},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path, headers=HTML).text)
    assert match is not None
    return match.group(1)


class TestSignInPage:
    def test_a_post_without_the_form_token_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="csrfuser")
        response = client.post(
            "/login",
            data={"username": "csrfuser", "password": DEFAULT_PASSWORD},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "reload the page" in response.text
        assert "openbwv_session" not in response.cookies

    def test_session_cookie_is_http_only_secure_and_lax(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.OFFICER)
        cookie = next(c for c in client.cookies.jar if c.name == "openbwv_session")
        assert cookie.secure
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert str(cookie.get_nonstandard_attr("SameSite")).lower() == "lax"

    def test_sign_in_does_not_redirect_off_site(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="nexter")
        token = csrf(client, "/login")
        response = client.post(
            "/login",
            data={
                "username": "nexter",
                "password": DEFAULT_PASSWORD,
                "csrf_token": token,
                "next": "//evil.example",
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


class TestOfficersPage:
    def test_searches_by_name(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="7001", name="Grace Owen")
            make_officer(db, collar="7002", name="Imran Iqbal")
        sign_in(client, factory, Role.SUPERVISOR)
        page = client.get("/officers", params={"q": "grace"}, headers=HTML).text
        assert "Grace Owen" in page
        assert "Imran Iqbal" not in page
        assert "1 officer<" in page

    def test_officer_role_sees_not_allowed(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in(client, factory, Role.OFFICER)
        response = client.get("/officers", headers=HTML)
        assert response.status_code == 403
        assert "Not allowed" in response.text


class TestUserAdminPages:
    def test_admin_creates_a_user_and_changes_roles(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        token = csrf(client, "/users/new")
        created = client.post(
            "/users/new",
            data={
                "username": "newclerk",
                "password": "long enough",
                "roles": ["auditor"],
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert "Created newclerk" in created.text
        saved = client.post(
            "/users/newclerk/roles",
            data={"roles": ["auditor", "professional_standards"], "csrf_token": token},
            headers=HTML,
        )
        assert "Roles saved." in saved.text
        assert 'value="professional_standards" checked' in saved.text
        disabled = client.post("/users/newclerk/disable", data={"csrf_token": token}, headers=HTML)
        assert "Account disabled." in disabled.text
        assert "(disabled)" in client.get("/users", params={"q": "newclerk"}, headers=HTML).text

    def test_a_short_password_re_shows_the_form_with_the_reason(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        token = csrf(client, "/users/new")
        response = client.post(
            "/users/new",
            data={"username": "shorty", "password": "short", "roles": ["officer"], "csrf_token": token},
            headers=HTML,
        )
        assert response.status_code == 422
        assert "at least 8 characters" in response.text
        assert 'value="shorty"' in response.text


class TestOperations:
    def test_health_and_metrics(self, client: TestClient) -> None:
        assert client.get("/healthz").json()["status"] == "ok"
        client.get("/api/v1/officers/123")
        metrics = client.get("/metrics").text
        assert (
            'openbwv_http_requests_total{method="GET",route="/api/v1/officers/{collar_number}",status="401"} 1.0'
            in metrics
        )
        assert "openbwv_http_request_duration_seconds_bucket" in metrics

    def test_each_request_logs_one_json_line_with_its_request_id(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="openbwv.request")
        response = client.get("/healthz", headers={"X-Request-Id": "req-123"})
        assert response.headers["x-request-id"] == "req-123"
        (record,) = [r for r in caplog.records if r.name == "openbwv.request"]
        line = json.loads(JsonFormatter().format(record))
        assert (line["path"], line["status"], line["route"]) == ("/healthz", 200, "/healthz")
        assert line["request_id"] == "req-123"

    def test_openapi_lists_the_api(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/api/v1/auth/token", "/api/v1/me", "/api/v1/users", "/api/v1/officers"} <= set(paths)
        assert client.get("/docs").status_code == 200


class TestNavigation:
    def test_accounts_without_an_officer_record_get_no_kit_link(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="deskadmin")
        page = client.get("/", headers=HTML).text
        assert 'href="/users"' in page
        assert 'href="/kit"' not in page

    def test_an_officer_sees_their_kit_link_but_not_the_fleet(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="8800")
            make_user(db, username="pc8800", roles=[Role.OFFICER], officer=officer)
        form = client.get("/login", headers=HTML).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        client.post(
            "/login", data={"username": "pc8800", "password": DEFAULT_PASSWORD, "csrf_token": token.group(1)}
        )
        page = client.get("/", headers=HTML).text
        assert 'href="/kit"' in page
        assert 'href="/fleet/devices"' not in page


class TestDashboard:
    def test_each_role_sees_its_own_figures(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in(client, factory, Role.EQUIPMENT_MANAGER, username="kitclerk")
        page = client.get("/", headers=HTML).text
        assert "Cameras issued" in page
        assert "Overdue returns" in page
        assert "User accounts" not in page

    def test_training_manager_sees_authority_exceptions(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.TRAINING_MANAGER, username="trainer")
        page = client.get("/", headers=HTML).text
        assert "Lapsed authorities with a Taser still out" in page
        assert "Not eligible under the STRA, Taser still out" in page
        assert "User accounts" not in page
