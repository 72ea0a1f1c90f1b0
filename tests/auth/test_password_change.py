"""Passwords: an admin sets a temporary one that must be changed at the next sign-in, before
anything else (403 with a rule on the API, the change form on the pages); users change their own.
Every change is audited and no audit event holds a password."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit.models import AuditEvent
from openbwv.auth import service as auth_service
from openbwv.auth.models import LoginFailure, UserAccount
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.errors import InvalidInput, NotFound, TooManyRequests
from openbwv.policy import SYSTEM, Actor, Role
from tests.builders import DEFAULT_PASSWORD, headers_for, make_user
from tests.web.helpers import HTML, csrf, sign_in

TEMPORARY = "temporary pass 1"
CHOSEN = "my own passphrase"


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def _all_details(factory: sessionmaker[Session]) -> str:
    with factory() as db:
        return json.dumps([e.details for e in db.scalars(select(AuditEvent))])


def _bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


class TestTemporaryPasswordOnTheApi:
    def test_it_must_be_changed_before_any_other_route_answers(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="forgot", roles=[Role.AUDITOR])
        old = _bearer(client, "forgot", DEFAULT_PASSWORD)
        admin = headers_for(factory, Role.ADMIN, username="helpdesk")
        set_answer = client.post(
            "/api/v1/users/forgot/temporary-password", json={"password": TEMPORARY}, headers=admin
        )
        assert set_answer.status_code == 200
        assert set_answer.json()["must_change_password"] is True
        [reset] = _events(factory, "auth:password:reset")
        assert (reset.actor_username, reset.target_type, reset.target_id) == ("helpdesk", "user", "forgot")
        # The sessions and tokens the user held end with the reset.
        assert client.get("/api/v1/me", headers=old).status_code == 401

        signed_in = client.post("/api/v1/auth/token", data={"username": "forgot", "password": TEMPORARY})
        assert signed_in.json()["must_change_password"] is True
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        me = client.get("/api/v1/me", headers=headers)
        assert (me.status_code, me.json()["must_change_password"]) == (200, True)
        refused = client.get("/api/v1/officers", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["detail"] == {
            "rule": "password_change_required",
            "message": "Change your temporary password before doing anything else.",
        }

        wrong = client.post(
            "/api/v1/me/password",
            json={"current_password": "not it at all", "new_password": CHOSEN},
            headers=headers,
        )
        assert wrong.status_code == 409
        assert wrong.json()["detail"] == {
            "rule": "current_password_wrong",
            "message": "Your current password is not the one you typed.",
        }
        [refusal] = _events(factory, "auth:password:change_refused")
        assert (refusal.actor_username, refusal.target_type, refusal.target_id, refusal.details) == (
            "forgot",
            "user",
            "forgot",
            {"refused": "current_password_wrong"},
        )
        same = client.post(
            "/api/v1/me/password",
            json={"current_password": TEMPORARY, "new_password": TEMPORARY},
            headers=headers,
        )
        assert same.status_code == 409
        assert same.json()["detail"] == {
            "rule": "password_unchanged",
            "message": "The new password must differ from the current one.",
        }

        changed = client.post(
            "/api/v1/me/password",
            json={"current_password": TEMPORARY, "new_password": CHOSEN},
            headers=headers,
        )
        assert changed.status_code == 204
        assert client.get("/api/v1/officers", headers=headers).status_code == 200
        [event] = _events(factory, "auth:password:changed")
        assert (event.actor_username, event.target_type, event.target_id, event.details) == (
            "forgot",
            "user",
            "forgot",
            {"was_temporary": True},
        )
        details = _all_details(factory)
        assert TEMPORARY not in details and CHOSEN not in details and "argon2" not in details
        assert (
            client.post("/api/v1/auth/token", data={"username": "forgot", "password": TEMPORARY}).status_code
            == 401
        )

    def test_an_admin_cannot_set_a_temporary_password_for_themselves(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        admin = headers_for(factory, Role.ADMIN, username="selfish")
        answer = client.post(
            "/api/v1/users/selfish/temporary-password", json={"password": TEMPORARY}, headers=admin
        )
        assert answer.status_code == 409
        assert answer.json()["detail"] == {
            "rule": "own_password",
            "message": "Change your own password with Change password, not as a temporary one.",
        }
        assert _events(factory, "auth:password:reset") == []

    def test_only_account_writers_set_one(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_user(db, username="target", roles=[Role.AUDITOR])
        answer = client.post(
            "/api/v1/users/target/temporary-password",
            json={"password": TEMPORARY},
            headers=headers_for(factory, Role.AUDITOR),
        )
        assert answer.status_code == 403


class TestGuessingTheCurrentPassword:
    def test_wrong_current_passwords_lock_the_account_like_failed_sign_ins(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="stolen", roles=[Role.AUDITOR])
        headers = _bearer(client, "stolen", DEFAULT_PASSWORD)

        def change(current: str) -> httpx2.Response:
            body = {"current_password": current, "new_password": CHOSEN}
            return client.post("/api/v1/me/password", json=body, headers=headers)

        assert [change(f"guess number {n}").status_code for n in range(5)] == [409] * 5
        locked = change(DEFAULT_PASSWORD)
        assert (locked.status_code, locked.headers["Retry-After"]) == (429, "900")
        assert (
            locked.json()["detail"] == "Too many failed sign-ins for this account; try again in 15 minutes."
        )
        sign_in = client.post("/api/v1/auth/token", data={"username": "stolen", "password": DEFAULT_PASSWORD})
        assert sign_in.status_code == 429
        assert len(_events(factory, "auth:password:change_refused")) == 5
        clock.advance(timedelta(minutes=15, seconds=1))
        assert change(DEFAULT_PASSWORD).status_code == 204

    def test_a_change_clears_the_accounts_failures_and_no_one_elses(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="fumbler", roles=[Role.AUDITOR])
            make_user(db, username="neighbour", roles=[Role.AUDITOR])
        headers = _bearer(client, "fumbler", DEFAULT_PASSWORD)
        for n in range(5):
            client.post("/api/v1/auth/token", data={"username": "neighbour", "password": f"wrong {n}"})

        def change(current: str, new: str = CHOSEN) -> int:
            body = {"current_password": current, "new_password": new}
            return client.post("/api/v1/me/password", json=body, headers=headers).status_code

        assert [change(f"guess number {n}") for n in range(4)] == [409] * 4
        assert change(DEFAULT_PASSWORD) == 204
        # The four failures went with the change: four more wrong guesses still do not lock it.
        assert [change(f"second guess {n}") for n in range(4)] == [409] * 4
        assert change(CHOSEN, new=DEFAULT_PASSWORD) == 204
        neighbour = client.post(
            "/api/v1/auth/token", data={"username": "neighbour", "password": DEFAULT_PASSWORD}
        )
        assert neighbour.status_code == 429


class TestChangeRefusedByTheService:
    """What the change refuses before it looks at the passwords."""

    @pytest.fixture
    def policy(self) -> auth_service.LoginPolicy:
        return auth_service.LoginPolicy(
            max_failures_per_account=5,
            max_failures_per_address=3,
            lockout=timedelta(minutes=15),
            token_ttl=timedelta(hours=1),
            secret_key=b"test-secret",
        )

    def _change(
        self,
        factory: sessionmaker[Session],
        actor: Actor,
        policy: auth_service.LoginPolicy,
        new: str = CHOSEN,
    ) -> None:
        auth_service.change_password(
            factory,
            actor,
            current_password=DEFAULT_PASSWORD,
            new_password=new,
            address="192.0.2.7",
            policy=policy,
        )

    def test_a_short_new_password_is_refused_on_its_own_field(
        self, factory: sessionmaker[Session], policy: auth_service.LoginPolicy
    ) -> None:
        with transaction(factory) as db:
            user = make_user(db, username="shorty", roles=[Role.AUDITOR])
            actor = auth_service.actor_for(user)
        with pytest.raises(InvalidInput) as refused:
            self._change(factory, actor, policy, new="short")
        assert refused.value.field == "new_password"

    def test_an_account_disabled_since_its_session_began_changes_nothing(
        self, factory: sessionmaker[Session], policy: auth_service.LoginPolicy
    ) -> None:
        with transaction(factory) as db:
            user = make_user(db, username="leaving", roles=[Role.AUDITOR])
            actor = auth_service.actor_for(user)
            auth_service.disable_user(db, SYSTEM, username="leaving")
        with pytest.raises(NotFound, match=r"^No such user\.$"):
            self._change(factory, actor, policy)
        assert _events(factory, "auth:password:changed") == []

    def test_an_actor_without_an_account_has_no_password_to_change(
        self, factory: sessionmaker[Session], policy: auth_service.LoginPolicy
    ) -> None:
        with pytest.raises(NotFound, match=r"^No such user\.$"):
            self._change(factory, SYSTEM, policy)

    def test_a_busy_address_slows_guesses_at_the_current_password_as_it_slows_sign_ins(
        self, factory: sessionmaker[Session], policy: auth_service.LoginPolicy
    ) -> None:
        """Three failed sign-ins from one address make it busy: a user who failed from it waits there
        before their current password is checked again."""
        with transaction(factory) as db:
            user = make_user(db, username="sharing", roles=[Role.AUDITOR])
            actor = auth_service.actor_for(user)
            for typed in ("sharing", "someone", "another"):
                db.add(
                    LoginFailure(
                        username=auth_service.typed_username_key(policy, typed), client_address="192.0.2.7"
                    )
                )
        with pytest.raises(TooManyRequests) as refused:
            self._change(factory, actor, policy)
        assert str(refused.value) == "Too many failed sign-ins from this address; try again in 2 seconds."
        assert refused.value.retry_after == 2
        with factory() as db:
            assert db.get(UserAccount, user.id).password_hash == user.password_hash  # type: ignore[union-attr]


class TestPasswordPages:
    def test_a_temporary_password_leads_to_the_change_form_first(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.ADMIN, username="theadmin")
        with transaction(factory) as db:
            make_user(db, username="newstarter", roles=[Role.AUDITOR])
        token = csrf(client, "/users/newstarter")
        page = client.post(
            "/users/newstarter/temporary-password",
            data={"password": TEMPORARY, "csrf_token": token},
            headers=HTML,
        )
        assert "Temporary password set: the user must change it when they next sign in." in page.text
        client.cookies.clear()

        form = csrf(client, "/login")
        signed_in = client.post(
            "/login",
            data={"username": "newstarter", "password": TEMPORARY, "next": "/audit", "csrf_token": form},
            headers=HTML,
        )
        assert signed_in.url.path == "/account/password"
        assert "choose your own before you go on" in signed_in.text
        assert (
            client.get("/users", headers=HTML, follow_redirects=False).headers["location"]
            == "/account/password"
        )

        token = csrf(client, "/account/password")
        short = client.post(
            "/account/password",
            data={
                "current_password": TEMPORARY,
                "new_password": "short",
                "repeat_password": "short",
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert short.status_code == 422
        assert "The password must be at least 8 characters." in short.text
        assert "new_password" not in short.text.split("<form")[0]
        differ = client.post(
            "/account/password",
            data={
                "current_password": TEMPORARY,
                "new_password": CHOSEN,
                "repeat_password": CHOSEN + "!",
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert "The two new passwords differ" in differ.text
        done = client.post(
            "/account/password",
            data={
                "current_password": TEMPORARY,
                "new_password": CHOSEN,
                "repeat_password": CHOSEN,
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert "Your password is changed." in done.text
        assert client.get("/audit", headers=HTML, follow_redirects=False).status_code == 200

    def test_a_user_changes_their_own_password(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sign_in(client, factory, Role.OFFICER, username="pc.own")
        token = csrf(client, "/account/password")
        wrong = client.post(
            "/account/password",
            data={
                "current_password": "guess guess",
                "new_password": CHOSEN,
                "repeat_password": CHOSEN,
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert wrong.status_code == 409
        assert "Your current password is not the one you typed." in wrong.text
        done = client.post(
            "/account/password",
            data={
                "current_password": DEFAULT_PASSWORD,
                "new_password": CHOSEN,
                "repeat_password": CHOSEN,
                "csrf_token": token,
            },
            headers=HTML,
        )
        assert "Your password is changed." in done.text
        [event] = _events(factory, "auth:password:changed")
        assert (event.actor_username, event.details) == ("pc.own", {"was_temporary": False})
        assert (
            client.post("/api/v1/auth/token", data={"username": "pc.own", "password": CHOSEN}).status_code
            == 200
        )


class TestChangedMeanwhile:
    def test_a_password_set_while_the_new_one_was_hashed_wins_and_the_change_is_refused(
        self, client: TestClient, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The helpdesk sets a temporary password after the user's current one was checked and before
        their new one is stored: the change must not overwrite it."""
        with transaction(factory) as db:
            make_user(db, username="racer", roles=[Role.AUDITOR])
            admin = make_user(db, username="helpdesk", roles=[Role.ADMIN])
            helpdesk = Actor(username=admin.username, roles=frozenset({Role.ADMIN}), user_id=admin.id)
        headers = _bearer(client, "racer", DEFAULT_PASSWORD)
        hashing = auth_service.hash_password

        def reset_while_hashing(password: str) -> str:
            monkeypatch.setattr(auth_service, "hash_password", hashing)
            digest = hashing(password)
            with transaction(factory) as db:
                auth_service.set_temporary_password(db, helpdesk, username="racer", password=TEMPORARY)
            return digest

        monkeypatch.setattr(auth_service, "hash_password", reset_while_hashing)
        answer = client.post(
            "/api/v1/me/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": CHOSEN},
            headers=headers,
        )
        assert answer.status_code == 409
        assert answer.json()["detail"] == {
            "rule": "password_changed_meanwhile",
            "message": "Your password was changed meanwhile; sign in again and retry.",
        }
        assert _events(factory, "auth:password:changed") == []
        assert [e.target_id for e in _events(factory, "auth:password:reset")] == ["racer"]
        for password, status in ((CHOSEN, 401), (DEFAULT_PASSWORD, 401), (TEMPORARY, 200)):
            signed_in = client.post("/api/v1/auth/token", data={"username": "racer", "password": password})
            assert signed_in.status_code == status, password
        assert signed_in.json()["must_change_password"] is True
