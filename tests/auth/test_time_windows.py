"""Sign-in windows follow the app's clock: a session and a lockout end when the clock says so, and the
cookie carries a relative lifetime, so a browser reading another clock keeps it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from tests.builders import DEFAULT_PASSWORD, make_user

HTML = {"Accept": "text/html"}
SESSION_TTL = timedelta(minutes=480)
LOCKOUT = timedelta(minutes=15)


def _sign_in(client: TestClient, username: str, password: str = DEFAULT_PASSWORD) -> httpx2.Response:
    form = client.get("/login", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        headers=HTML,
        follow_redirects=False,
    )


def _signed_in(client: TestClient) -> bool:
    return client.get("/", headers=HTML, follow_redirects=False).status_code == 200


class TestSessionLifetime:
    def test_the_cookie_has_a_relative_lifetime_so_a_fixed_clock_far_back_keeps_it(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clock.set(datetime(2001, 1, 1, 9, 0, tzinfo=UTC))
        with transaction(factory) as db:
            make_user(db, username="oldclock")
        response = _sign_in(client, "oldclock")
        session = next(h for h in response.headers.get_list("set-cookie") if h.startswith("openbwv_session="))
        assert f"Max-Age={int(SESSION_TTL.total_seconds())}" in session
        assert "expires=" not in session.lower()
        assert _signed_in(client)

    def test_a_session_ends_when_the_clock_passes_its_lifetime(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="longday")
        assert _sign_in(client, "longday").status_code == 303
        clock.advance(SESSION_TTL - timedelta(seconds=1))
        assert _signed_in(client)
        clock.advance(timedelta(seconds=1))
        assert not _signed_in(client)


class TestLockoutWindow:
    def test_a_locked_account_signs_in_again_once_the_window_has_passed(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="fumbler")
        for _ in range(5):
            assert _sign_in(client, "fumbler", "guess").status_code == 401
        clock.advance(LOCKOUT)
        assert _sign_in(client, "fumbler").status_code == 429
        clock.advance(timedelta(seconds=1))
        assert _sign_in(client, "fumbler").status_code == 303
