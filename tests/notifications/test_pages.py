from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth, notifications
from openbwv.db import transaction
from openbwv.notifications import Notice
from openbwv.people.models import Officer
from openbwv.policy import Role
from tests.builders import make_officer, make_unit, make_user

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


def _headers(factory: sessionmaker[Session], role: Role, officer: Officer | None = None) -> dict[str, str]:
    with transaction(factory) as db:
        user = make_user(db, roles=[role], officer=officer)
        token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}", **HTML}


def _bell(page: str) -> str:
    match = re.search(r'data-testid="bell" aria-label="Notifications: (\d+) unread"', page)
    assert match is not None, "the header shows the bell"
    return match.group(1)


def _post(client: TestClient, path: str, headers: dict[str, str]) -> str:
    client.cookies.set("openbwv_csrf", CSRF)
    response = client.post(path, data={"csrf_token": CSRF}, headers=headers, follow_redirects=True)
    assert response.status_code == 200
    return response.text


class TestNotificationsPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        assert client.get("/notifications", headers=HTML, follow_redirects=False).status_code == 303

    def test_the_bell_counts_unread_and_the_page_marks_them_read(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            unit = make_unit(db)
            sergeant, constable = make_officer(db, unit=unit), make_officer(db, unit=unit, name="Ana Lee")
            notifications.notify(
                db,
                [
                    Notice(
                        key="a",
                        kind="test",
                        recipient="supervisor",
                        officer_id=constable.id,
                        unit_id=unit.id,
                        message="Ana Lee's authority lapses soon",
                    ),
                    Notice(
                        key="b",
                        kind="test",
                        recipient="officer",
                        officer_id=constable.id,
                        unit_id=unit.id,
                        message="Your authority lapses soon",
                    ),
                ],
            )
        headers = _headers(factory, Role.SUPERVISOR, sergeant)
        home = client.get("/", headers=headers).text
        assert _bell(home) == "1"
        page = client.get("/notifications", headers=headers).text
        assert "Ana Lee&#39;s authority lapses soon" in page
        assert "Your authority lapses soon" not in page
        ids = re.findall(r'action="/notifications/(\d+)/read"', page)
        assert len(ids) == 1
        after = _post(client, f"/notifications/{ids[0]}/read", headers)
        assert _bell(after) == "0"
        assert "Mark read" not in after

        constable_headers = _headers(factory, Role.OFFICER, constable)
        assert _bell(client.get("/notifications", headers=constable_headers).text) == "1"
        assert _bell(_post(client, "/notifications/read", constable_headers)) == "0"

    def test_anothers_notification_is_404(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            other = make_user(db)
            notifications.notify(
                db, [Notice(key="u", kind="test", recipient="user", user_id=other.id, message="x")]
            )
            notice_id = db.scalars(select(notifications.Notification.id)).one()
        client.cookies.set("openbwv_csrf", CSRF)
        response = client.post(
            f"/notifications/{notice_id}/read",
            data={"csrf_token": CSRF},
            headers=_headers(factory, Role.OFFICER),
        )
        assert response.status_code == 404
