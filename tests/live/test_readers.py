"""Readers MediaMTX lets in under a live view are kept with the id MediaMTX can close them by. On
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.live.models import MediaServerRead
from tests.conftest import TEST_NOW
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.test_views import control_room, live_events, open_view

WEBRTC, SRT, RTSPS, OTHER = (str(uuid.UUID(int=n)) for n in range(1, 5))
AUTH = "/api/v1/live/media-server/auth"


def admit(
    client: TestClient,
    headers: dict[str, str],
    view: dict[str, object],
    protocol: str,
    connection_id: str | None,
) -> None:
    """MediaMTX asks about a reader of the camera under ``view``, and lets it in."""
    body = {
        "ip": "10.1.2.3",
        "action": "read",
        "path": f"cameras/{SERIAL}",
        "protocol": protocol,
        "token": headers["Authorization"].removeprefix("Bearer "),
        "query": f"view={view['id']}",
    }
    if connection_id is not None:
        body["id"] = connection_id
    assert client.post(AUTH, json=body).status_code == 204


def reads(factory: sessionmaker[Session]) -> list[MediaServerRead]:
    with factory() as db:
        return list(db.scalars(select(MediaServerRead).order_by(MediaServerRead.id)))


class TestRememberRead:
    def test_a_read_let_in_is_kept_with_its_view_session_protocol_path_and_time(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        view = open_view(client, viewer)
        admit(client, viewer, view, "webrtc", WEBRTC.upper())
        [read] = reads(factory)
        assert (read.view_id, read.connection_id, read.protocol, read.path) == (
            view["id"],
            WEBRTC,
            "webrtc",
            f"cameras/{SERIAL}",
        )
        assert read.admitted_at == TEST_NOW
        assert (read.kicked_at, read.kick_cause, read.kick_attempts) == (None, None, 0)

    def test_a_read_without_an_id_mediamtx_kicks_by_is_audited_and_kept_without_one(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        view = open_view(client, viewer)
        admit(client, viewer, view, "hls", None)
        admit(client, viewer, view, "webrtc", "c0ffee")
        admit(client, viewer, view, "carrier-pigeon", WEBRTC)
        assert [(r.protocol, r.connection_id) for r in reads(factory)] == [
            ("hls", None),
            ("webrtc", None),
            ("carrier-pigeon", None),
        ]
        assert len(live_events(factory, "live:stream:read")) == 3

    def test_a_read_refused_is_not_kept(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        open_view(client, viewer)
        token = viewer["Authorization"].removeprefix("Bearer ")
        body = {
            "action": "read",
            "path": f"cameras/{SERIAL}",
            "token": token,
            "query": "view=999",
            "id": WEBRTC,
        }
        assert client.post(AUTH, json=body).status_code == 401
        assert reads(factory) == []
