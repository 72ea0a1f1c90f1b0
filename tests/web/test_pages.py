from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.observability import JsonFormatter
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user
from tests.web.helpers import HTML, csrf, sign_in


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
            data={"username": "shorty", "password": "short", "roles": ["auditor"], "csrf_token": token},
            headers=HTML,
        )
        assert response.status_code == 422
        assert "at least 8 characters" in response.text
        assert 'value="shorty"' in response.text


class TestOperations:
    def test_health_and_metrics(self, client: TestClient) -> None:
        assert client.get("/healthz").json()["status"] == "ok"
        client.get("/api/v1/officers/123")
        assert client.get("/metrics").status_code == 403
        on_the_host = TestClient(client.app, base_url="https://testserver", client=("127.0.0.1", 40000))
        metrics = on_the_host.get("/metrics").text
        assert (
            'openbwv_http_requests_total{method="GET",route="/api/v1/officers/{collar_number}",status="401"} 1.0'
            in metrics
        )
        assert "openbwv_http_request_duration_seconds_bucket" in metrics

    def test_metrics_are_readable_from_allowed_addresses_or_with_the_token(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        changed = Settings(
            **{
                **settings.model_dump(include=set(Settings.model_fields)),
                "metrics_allow": "10.0.0.0/8",
                "metrics_token": "scrape-me",
            }
        )
        app = create_app(changed, factory, jobs=JobRegistry())

        def status(peer: str, headers: dict[str, str] | None = None) -> int:
            client = TestClient(app, base_url="https://testserver", client=(peer, 40000))
            return client.get("/metrics", headers=headers).status_code

        assert status("10.9.8.7") == 200
        assert status("127.0.0.1") == 403
        assert status("203.0.113.5") == 403
        assert status("203.0.113.5", {"Authorization": "Bearer scrape-me"}) == 200
        assert status("203.0.113.5", {"Authorization": "Bearer wrong"}) == 403

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


class TestCsrf:
    def test_a_cookie_session_changes_nothing_through_the_api_without_its_token(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="cookieadmin")
        body = {"username": "made", "password": "long enough pw", "roles": ["auditor"]}
        refused = client.post("/api/v1/users", json=body)
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        assert client.get("/api/v1/users/made").status_code == 404
        assert client.get("/api/v1/me").json()["username"] == "cookieadmin"
        token = csrf(client, "/")
        assert client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": token}).status_code == 201

    def test_the_form_token_belongs_to_one_session(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.OFFICER, username="first")
        first_token = csrf(client, "/")
        other = TestClient(client.app, base_url="https://testserver")
        sign_in(other, factory, Role.OFFICER, username="second")
        assert other.post("/logout", data={"csrf_token": first_token}, headers=HTML).status_code == 403
        # A value of the caller's own choosing, in both the cookie and the form, is no token.
        other.cookies.set("openbwv_csrf", "chosen")
        assert other.post("/logout", data={"csrf_token": "chosen"}, headers=HTML).status_code == 403
        second_token = csrf(other, "/")
        response = other.post(
            "/logout", data={"csrf_token": second_token}, headers=HTML, follow_redirects=False
        )
        assert response.status_code == 303
        assert second_token != first_token


class TestSecurityHeaders:
    def test_pages_and_api_answers_are_not_framed_sniffed_or_cached(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.OFFICER, username="headers")
        for path, accept in (("/", HTML), ("/login", HTML), ("/api/v1/me", {}), ("/api/v1/users", {})):
            response = client.get(path, headers=accept)
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
            assert "default-src 'self'" in response.headers["content-security-policy"], path
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "same-origin", path
            assert response.headers["cache-control"] == "no-store", path

    def test_an_anonymous_refusal_gets_the_headers_too(self, client: TestClient) -> None:
        response = client.post("/api/v1/users", json={})
        assert response.status_code == 401
        assert response.headers["cache-control"] == "no-store"

    def test_static_files_may_be_cached(self, client: TestClient) -> None:
        response = client.get("/static/app.css")
        assert response.status_code == 200
        assert "cache-control" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"
