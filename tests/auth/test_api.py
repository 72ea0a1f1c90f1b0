from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.audit.models import AuditEvent
from openbwv.auth.models import LoginFailure
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, headers_for, make_officer, make_user


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def _token(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


class TestTokenEndpoint:
    def test_user_gets_a_token_and_calls_me(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="4321", name="Asha Khan")
            make_user(db, username="akhan", roles=[Role.OFFICER, Role.SUPERVISOR], officer=officer)
        status, body = _token(client, "akhan", DEFAULT_PASSWORD)
        assert status == 200
        assert body["token_type"] == "bearer"
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["username"] == "akhan"
        assert me.json()["roles"] == ["officer", "supervisor"]
        assert me.json()["officer"]["collar_number"] == "4321"

    def test_wrong_password_is_401_and_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="bwhite")
        status, body = _token(client, "bwhite", "not the password")
        assert status == 401
        assert body == {"detail": "Incorrect username or password."}
        failed = _events(factory, "auth:login:failed")
        assert [(e.target_type, e.target_id) for e in failed] == [("user", "bwhite")]

    def test_unknown_user_gets_the_same_answer_as_a_wrong_password(self, client: TestClient) -> None:
        status, body = _token(client, "nobody", "whatever password")
        assert status == 401
        assert body == {"detail": "Incorrect username or password."}

    def test_account_locks_after_repeated_failures(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="cjones")
        for _ in range(5):
            assert _token(client, "cjones", "guess")[0] == 401
        status, body = _token(client, "cjones", DEFAULT_PASSWORD)
        assert status == 429
        assert "try again in 15 minutes" in str(body["detail"])
        locked = _events(factory, "auth:login:locked_out")
        assert [(e.target_type, e.target_id) for e in locked] == [("user", "cjones")]

    def test_a_busy_address_does_not_lock_out_anyone_else_behind_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="dlee")
        for n in range(25):
            assert _token(client, f"guess{n}", "guess")[0] == 401
        status, body = _token(client, "dlee", DEFAULT_PASSWORD)
        assert status == 200, body
        assert _events(factory, "auth:login:locked_out") == []

    def test_a_busy_address_slows_each_username_failing_from_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="mallory")
            make_user(db, username="colleague")
        for n in range(20):
            assert _token(client, f"guess{n}", "guess")[0] == 401
        assert _token(client, "mallory", "guess")[0] == 401
        response = client.post("/api/v1/auth/token", data={"username": "mallory", "password": "guess"})
        assert response.status_code == 429
        assert 0 < int(response.headers["retry-after"]) <= 2
        assert "try again in" in response.json()["detail"]
        assert _token(client, "colleague", DEFAULT_PASSWORD)[0] == 200

    def test_a_slowed_username_signs_in_once_its_wait_is_over(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="typo")
        for n in range(20):
            assert _token(client, f"guess{n}", "guess")[0] == 401
        assert _token(client, "typo", "guess")[0] == 401
        assert _token(client, "typo", DEFAULT_PASSWORD)[0] == 429
        clock.advance(timedelta(minutes=1))
        assert _token(client, "typo", DEFAULT_PASSWORD)[0] == 200

    def test_missing_fields_are_422_with_field_errors(self, client: TestClient) -> None:
        response = client.post("/api/v1/auth/token", data={"username": "x"})
        assert response.status_code == 422
        assert ["body", "password"] in [e["loc"] for e in response.json()["detail"]]

    def test_no_secret_reaches_logs_or_answers(
        self, client: TestClient, factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="eking", roles=[Role.ADMIN])
        caplog.set_level(logging.DEBUG)
        _, body = _token(client, "eking", DEFAULT_PASSWORD)
        token = str(body["access_token"])
        headers = {"Authorization": f"Bearer {token}"}
        answers = [client.get(path, headers=headers).text for path in ("/api/v1/me", "/api/v1/users")]
        logged = caplog.text + "".join(str(getattr(r, "fields", "")) for r in caplog.records)
        with factory() as db:
            stored_hash = db.scalar(select(AuditEvent.details).limit(1))
        for secret in (DEFAULT_PASSWORD, token, "$argon2"):
            assert secret not in logged
            assert all(secret not in answer for answer in answers)
        assert "argon2" not in str(stored_hash)


class TestUsersApi:
    def test_officer_token_on_admin_route_is_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.get("/api/v1/users", headers=headers_for(factory, Role.OFFICER))
        assert response.status_code == 403
        assert _events(factory, "authz:access:refused")[0].details["permission"] == "users:account:read"

    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.get("/api/v1/users")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    def test_admin_pages_through_users(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.ADMIN, username="admin1")
        with transaction(factory) as db:
            for n in range(4):
                make_user(db, username=f"pager{n}")
        first = client.get("/api/v1/users", params={"limit": 2, "q": "pager"}, headers=headers).json()
        second = client.get(
            "/api/v1/users", params={"limit": 2, "offset": 2, "q": "pager"}, headers=headers
        ).json()
        assert first["total"] == 4
        assert [u["username"] for u in first["items"] + second["items"]] == [f"pager{n}" for n in range(4)]

    def test_page_size_over_500_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.get(
            "/api/v1/users", params={"limit": 501}, headers=headers_for(factory, Role.ADMIN)
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]

    def test_admin_creates_a_user_linked_to_an_officer(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="777", name="Femi Ade")
        body = {
            "username": "fade",
            "password": "long enough pw",
            "roles": ["officer"],
            "collar_number": "777",
        }
        response = client.post("/api/v1/users", json=body, headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 201
        assert response.json()["collar_number"] == "777"
        assert response.json()["display_name"] == "Femi Ade"
        # Neither the password nor its hash is answered; only whether it must be changed.
        assert "long enough pw" not in response.text and "argon2" not in response.text
        assert response.json()["must_change_password"] is False

    def test_duplicate_username_is_409_and_changes_nothing(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.ADMIN)
        with transaction(factory) as db:
            make_user(db, username="gsmith", roles=[Role.AUDITOR])
        body = {"username": "gsmith", "password": "long enough pw", "roles": ["admin"]}
        response = client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 409
        listed = client.get("/api/v1/users", params={"q": "gsmith"}, headers=headers).json()
        assert listed["items"][0]["roles"] == ["auditor"]

    def test_unknown_role_is_422_naming_the_field(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = {"username": "hnew", "password": "long enough pw", "roles": ["wizard"]}
        response = client.post("/api/v1/users", json=body, headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "roles"]

    def test_role_change_is_audited_with_before_and_after(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="ilaw", roles=[Role.AUDITOR])
        response = client.put(
            "/api/v1/users/ilaw/roles",
            json={"roles": ["evidence_manager"]},
            headers=headers_for(factory, Role.ADMIN),
        )
        assert response.status_code == 200
        (event,) = _events(factory, "auth:user:roles_changed")
        assert event.details == {"before": ["auditor"], "after": ["evidence_manager"]}

    def test_a_disabled_users_token_stops_working(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.OFFICER, username="jleft")
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        response = client.post("/api/v1/users/jleft/disable", headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def _app_behind(settings: Settings, factory: sessionmaker[Session], peer: str, **changes: str) -> TestClient:
    """A client whose requests come from ``peer``, on an app with ``changes`` to the settings."""
    changed = Settings(**{**settings.model_dump(include=set(Settings.model_fields)), **changes})
    app = create_app(changed, factory, jobs=JobRegistry())
    return TestClient(app, base_url="https://testserver", client=(peer, 40000))


def _failure_addresses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as db:
        return list(db.scalars(select(LoginFailure.client_address).order_by(LoginFailure.id)).all())


class TestClientAddress:
    def test_forwarded_for_from_an_untrusted_peer_is_ignored(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="rotator")
        client = _app_behind(settings, factory, "198.51.100.9")
        for n in range(5):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
            response = client.post(
                "/api/v1/auth/token", data={"username": "rotator", "password": "guess"}, headers=forwarded
            )
            assert response.status_code == 401
        assert _failure_addresses(factory) == ["198.51.100.9"] * 5
        assert {e.client_address for e in _events(factory, "auth:login:failed")} == {"198.51.100.9"}
        response = client.post(
            "/api/v1/auth/token",
            data={"username": "rotator", "password": DEFAULT_PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.99"},
        )
        assert response.status_code == 429

    def test_forwarded_for_from_a_trusted_proxy_names_the_client(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="proxied")
        client = _app_behind(settings, factory, "10.1.2.3", trusted_proxies="10.0.0.0/8, 192.0.2.1")
        # The client wrote the first hop itself; the trusted proxies appended the rest.
        forwarded = {"X-Forwarded-For": "1.1.1.1, 203.0.113.7, 192.0.2.1"}
        response = client.post(
            "/api/v1/auth/token", data={"username": "proxied", "password": "guess"}, headers=forwarded
        )
        assert response.status_code == 401
        assert _failure_addresses(factory) == ["203.0.113.7"]
        assert [e.client_address for e in _events(factory, "auth:login:failed")] == ["203.0.113.7"]
