"""Signing in through the pages, as a browser does: the session cookie and its form token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_user

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
