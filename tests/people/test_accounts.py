"""Accounts that make sense: a contradictory account is refused with a rule and a sentence (API) or
the sentence alone (pages); a disabled account is enabled again; saving no roles says so."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.policy import Role
from tests.builders import headers_for, make_officer, make_user
from tests.web.helpers import HTML, csrf, sign_in

PASSWORD = "long enough pw"


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


class TestContradictoryAccounts:
    @pytest.mark.parametrize(
        ("extra", "rule", "says"),
        [
            (
                {"roles": ["officer"], "collar_number": "6101", "organisation": "CPS"},
                "officer_and_organisation",
                "An account belongs either to a force member (a collar number) or to someone from an "
                "outside organisation, not both: leave one of them empty.",
            ),
            (
                {"roles": ["officer", "supervisor"]},
                "role_needs_officer",
                "The officer and supervisor roles need an officer record",
            ),
            ({"roles": ["prosecutor"]}, "role_needs_organisation", "A prosecutor works for an outside"),
        ],
    )
    def test_the_api_refuses_with_the_rule_and_creates_nobody(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        extra: dict[str, object],
        rule: str,
        says: str,
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="6101")
        headers = headers_for(factory, Role.ADMIN)
        response = client.post(
            "/api/v1/users", json={"username": "mixed", "password": PASSWORD, **extra}, headers=headers
        )
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == rule
        assert says in response.json()["detail"]["message"]
        assert client.get("/api/v1/users", params={"q": "mixed"}, headers=headers).json()["total"] == 0
        assert [e for e in _events(factory, "auth:user:created") if e.target_id == "mixed"] == []

    def test_roles_an_account_cannot_hold_are_refused_and_the_old_ones_kept(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="clerk", roles=[Role.AUDITOR])
        headers = headers_for(factory, Role.ADMIN)
        response = client.put("/api/v1/users/clerk/roles", json={"roles": ["supervisor"]}, headers=headers)
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "role_needs_officer",
            "message": "The supervisor role needs an officer record: give the officer's collar number.",
        }
        listed = client.get("/api/v1/users", params={"q": "clerk"}, headers=headers).json()
        assert listed["items"][0]["roles"] == ["auditor"]

    def test_the_page_shows_the_sentence_without_field_names_and_keeps_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        token = csrf(client, "/users/new")
        form = {"username": "cps.one", "password": PASSWORD, "roles": ["prosecutor"], "csrf_token": token}
        response = client.post("/users/new", data=form, headers=HTML)
        assert response.status_code == 409
        assert "A prosecutor works for an outside organisation: say which one." in response.text
        assert 'value="cps.one"' in response.text
        assert "role_needs_organisation" not in response.text

    def test_saving_no_roles_on_the_page_says_to_choose_one(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        with transaction(factory) as db:
            make_user(db, username="norole", roles=[Role.AUDITOR])
        token = csrf(client, "/users/norole")
        response = client.post("/users/norole/roles", data={"csrf_token": token}, headers=HTML)
        assert response.status_code == 422
        assert "At least one role is required." in response.text
        assert "Something went wrong" not in response.text and "roles:" not in response.text
        assert 'value="auditor" checked' not in response.text


class TestEnableAccount:
    def test_a_disabled_account_is_enabled_again_on_its_page_and_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        with transaction(factory) as db:
            make_user(db, username="returner", roles=[Role.AUDITOR])
        token = csrf(client, "/users/returner")
        client.post("/users/returner/disable", data={"csrf_token": token}, headers=HTML)
        page = client.post("/users/returner/enable", data={"csrf_token": token}, headers=HTML)
        assert "Account enabled: it can sign in again." in page.text
        assert "Active." in page.text
        [event] = _events(factory, "auth:user:enabled")
        assert (event.actor_username, event.target_type, event.target_id) == ("theadmin", "user", "returner")
        token_answer = client.post(
            "/api/v1/auth/token", data={"username": "returner", "password": "correct horse battery"}
        )
        assert token_answer.status_code == 200

    def test_the_account_of_an_officer_who_left_stays_disabled(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="6202")
            make_user(db, username="gone", roles=[Role.OFFICER], officer=officer)
        headers = headers_for(factory, Role.ADMIN)
        client.post("/api/v1/users/gone/disable", headers=headers)
        client.post("/api/v1/officers/6202/leaver", json={"left_on": "2026-01-31"}, headers=headers)
        response = client.post("/api/v1/users/gone/enable", headers=headers)
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "officer_has_left",
            "message": "Officer 6202 left the force on 2026-01-31; their account stays disabled.",
        }
        assert _events(factory, "auth:user:enabled") == []


class TestAccountsThatDoNotExist:
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/api/v1/users/nobody/enable", None),
            ("/api/v1/users/nobody/temporary-password", {"password": PASSWORD}),
        ],
    )
    def test_an_unknown_username_is_not_found_and_nothing_is_audited(
        self, client: TestClient, factory: sessionmaker[Session], path: str, body: dict[str, str] | None
    ) -> None:
        response = client.post(path, json=body, headers=headers_for(factory, Role.ADMIN))
        assert (response.status_code, response.json()["detail"]) == (404, "No such user.")
        assert _events(factory, "auth:user:enabled") == _events(factory, "auth:password:reset") == []


class TestOneAccountPerOfficer:
    def test_a_colleagues_account_does_not_stop_an_officer_getting_one(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            first = make_officer(db, collar="6301")
            make_officer(db, collar="6302")
            make_user(db, username="first", roles=[Role.OFFICER], officer=first)
        headers = headers_for(factory, Role.ADMIN)
        body = {"password": PASSWORD, "roles": ["officer"]}
        created = client.post(
            "/api/v1/users", json={"username": "second", "collar_number": "6302", **body}, headers=headers
        )
        assert created.status_code == 201, created.text
        again = client.post(
            "/api/v1/users", json={"username": "another", "collar_number": "6301", **body}, headers=headers
        )
        assert again.status_code == 409
        assert again.json()["detail"] == {
            "rule": "officer_has_account",
            "message": "That officer already has a user account.",
        }
