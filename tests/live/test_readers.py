"""Readers MediaMTX lets in under a live view are kept, and closed through MediaMTX's API (a stand-in
on a loopback port) once the view ends, expires or is ended by professional standards: each once,
audited with the cause, a session already gone counting as closed and a failing API tried again by
the next run. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth, clock
from openbwv.access import AccessGrant
from openbwv.app import all_jobs, create_app
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.live import readers
from openbwv.live.domain import CLOSE_READERS
from openbwv.live.models import MediaServerRead
from openbwv.policy import Role
from tests.builders import headers_for
from tests.conftest import TEST_NOW
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.mediamtx_stand_in import MediaMTXStandIn, serving
from tests.live.test_view_pages import open_as
from tests.live.test_views import VIEW_LENGTH, control_room, live_events, open_view
from tests.web.helpers import HTML, csrf, sign_in

WEBRTC, SRT, RTSPS, OTHER = (str(uuid.UUID(int=n)) for n in range(1, 5))
AUTH = "/api/v1/live/media-server/auth"


@pytest.fixture
def mediamtx() -> Iterator[MediaMTXStandIn]:
    with serving() as stand_in:
        yield stand_in


@pytest.fixture
def kicking_settings(settings: Settings, mediamtx: MediaMTXStandIn) -> Settings:
    return settings.model_copy(update={"mediamtx_api_url": mediamtx.url})


@pytest.fixture
def kicking(kicking_settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app where the force's MediaMTX API is the stand-in."""
    app = create_app(kicking_settings, factory, jobs=JobRegistry())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


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


def run_job(settings: Settings, factory: sessionmaker[Session]) -> None:
    all_jobs(settings).schedules[CLOSE_READERS].handler(factory)


def closed(factory: sessionmaker[Session]) -> list[tuple[object, object, object]]:
    """Each ``live:stream:closed`` event's view, session and cause."""
    return [
        (e.details["view_id"], e.details["connection_id"], e.details["cause"])
        for e in live_events(factory, "live:stream:closed")
    ]


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


class TestClosingWhenAViewEnds:
    def test_ending_a_view_kicks_exactly_its_readers_each_from_its_protocols_list_after_the_commit(
        self,
        kicking: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        viewer, other = control_room(factory), control_room(factory, "cr.other")
        view, others = open_view(kicking, viewer), open_view(kicking, other)
        admit(kicking, viewer, view, "webrtc", WEBRTC)
        admit(kicking, viewer, view, "srt", SRT)
        # MediaMTX's hook names an RTSPS reader "rtsp": it is on the RTSPS server's list.
        admit(kicking, viewer, view, "rtsp", RTSPS)
        admit(kicking, viewer, view, "hls", None)
        admit(kicking, other, others, "webrtc", OTHER)
        for session in [("webrtcsessions", WEBRTC), ("srtconns", SRT), ("rtspssessions", RTSPS)]:
            mediamtx.hold(*session)
        mediamtx.hold("webrtcsessions", OTHER)

        def ended_first(path: str) -> None:
            with factory() as db:
                ended_at = db.scalar(select(AccessGrant.ended_at).where(AccessGrant.id == view["id"]))
            assert ended_at is not None, f"{path} was kicked before the view's end was committed"

        mediamtx.on_kick = ended_first
        assert kicking.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        assert mediamtx.kicks == [
            f"/v3/webrtcsessions/kick/{WEBRTC}",
            f"/v3/srtconns/kick/{SRT}",
            f"/v3/rtspsessions/kick/{RTSPS}",
            f"/v3/rtspssessions/kick/{RTSPS}",
        ]
        assert mediamtx.problems == []
        assert mediamtx.sessions == {("webrtcsessions", OTHER)}
        assert closed(factory) == [
            (view["id"], WEBRTC, "ended"),
            (view["id"], SRT, "ended"),
            (view["id"], RTSPS, "ended"),
        ]
        event = live_events(factory, "live:stream:closed")[0]
        assert (event.actor_username, event.reason) == ("system", "officer-safety")
        assert event.details["viewer"] == "cr.jones" and event.details["protocol"] == "webrtc"
        assert [(r.connection_id, r.kick_cause) for r in reads(factory)] == [
            (WEBRTC, "ended"),
            (SRT, "ended"),
            (RTSPS, "ended"),
            (None, None),
            (OTHER, None),
        ]

    def test_a_view_professional_standards_end_is_closed_as_revoked(
        self,
        kicking: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(kicking, viewer)
        admit(kicking, viewer, view, "webrtc", WEBRTC)
        mediamtx.hold("webrtcsessions", WEBRTC)
        standards = headers_for(factory, Role.PROFESSIONAL_STANDARDS, username="psd.khan")
        assert kicking.delete(f"/api/v1/live/views/{view['id']}", headers=standards).status_code == 200
        assert mediamtx.kicks == [f"/v3/webrtcsessions/kick/{WEBRTC}"]
        assert closed(factory) == [(view["id"], WEBRTC, "revoked")]

    def test_ending_from_the_page_kicks_its_readers(
        self,
        kicking: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        sign_in(kicking, factory, Role.CONTROL_ROOM, username="cr.jones")
        with transaction(factory) as db:
            user = auth.get_user(db, "cr.jones")
            assert user is not None
            token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        view_id = open_as(factory, "cr.jones", camera)
        admit(kicking, {"Authorization": f"Bearer {token}"}, {"id": view_id}, "srt", SRT)
        mediamtx.hold("srtconns", SRT)
        csrf_token = csrf(kicking, f"/live/views/{view_id}")
        answer = kicking.post(f"/live/views/{view_id}/end", data={"csrf_token": csrf_token}, headers=HTML)
        assert answer.status_code == 200
        assert mediamtx.kicks == [f"/v3/srtconns/kick/{SRT}"]
        assert closed(factory) == [(view_id, SRT, "ended")]

    def test_a_session_already_gone_counts_as_closed_and_is_not_kicked_again(
        self,
        kicking: TestClient,
        kicking_settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(kicking, viewer)
        admit(kicking, viewer, view, "webrtc", WEBRTC)
        admit(kicking, viewer, view, "rtmp", SRT)
        assert kicking.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        gone = [
            f"/v3/webrtcsessions/kick/{WEBRTC}",
            f"/v3/rtmpconns/kick/{SRT}",
            f"/v3/rtmpsconns/kick/{SRT}",
        ]
        assert mediamtx.kicks == gone
        assert closed(factory) == [(view["id"], WEBRTC, "ended"), (view["id"], SRT, "ended")]
        run_job(kicking_settings, factory)
        assert mediamtx.kicks == gone
        assert len(closed(factory)) == 2

    def test_a_failing_api_is_counted_and_the_next_run_closes_the_reader(
        self,
        kicking: TestClient,
        kicking_settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(kicking, viewer)
        admit(kicking, viewer, view, "webrtc", WEBRTC)
        mediamtx.hold("webrtcsessions", WEBRTC)
        mediamtx.failing = 500
        assert kicking.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        run_job(kicking_settings, factory)
        [read] = reads(factory)
        assert (read.kicked_at, read.kick_attempts) == (None, 2)
        assert read.kick_error is not None and "answered 500" in read.kick_error
        assert closed(factory) == []
        mediamtx.failing = None
        run_job(kicking_settings, factory)
        assert mediamtx.kicks == [f"/v3/webrtcsessions/kick/{WEBRTC}"] * 3
        assert mediamtx.sessions == set()
        assert closed(factory) == [(view["id"], WEBRTC, "ended")]
        assert live_events(factory, "live:stream:closed")[0].details["failed_attempts"] == 2
        [read] = reads(factory)
        assert (read.kick_cause, read.kick_error) == ("ended", None)


class TestMarkKicked:
    def test_two_runs_closing_one_reader_record_it_once(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        view = open_view(client, viewer)
        admit(client, viewer, view, "webrtc", WEBRTC)
        assert client.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        with factory() as db:
            [due] = readers.readers_to_close(db, now=clock.now())
        assert (due.connection_id, due.cause, due.camera_serial) == (WEBRTC, "ended", SERIAL)
        for first in (True, False):
            with transaction(factory) as db:
                assert readers.mark_kicked(db, due) is first
        assert closed(factory) == [(view["id"], WEBRTC, "ended")]
        with factory() as db:
            assert readers.readers_to_close(db, now=clock.now()) == []


class TestClosingJob:
    def test_it_runs_every_five_seconds_where_there_is_a_media_server(
        self, settings: Settings, kicking_settings: Settings
    ) -> None:
        assert all_jobs(kicking_settings).schedules[CLOSE_READERS].cron == "* * * * * */5"
        assert CLOSE_READERS not in all_jobs(settings).schedules

    def test_an_expired_view_is_kicked_by_the_job_once(
        self,
        kicking: TestClient,
        kicking_settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
        clock: FixedClock,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(kicking, viewer)
        admit(kicking, viewer, view, "srt", SRT)
        mediamtx.hold("srtconns", SRT)
        clock.advance(VIEW_LENGTH - timedelta(seconds=1))
        run_job(kicking_settings, factory)
        assert mediamtx.kicks == []
        clock.advance(timedelta(seconds=1))
        run_job(kicking_settings, factory)
        run_job(kicking_settings, factory)
        assert mediamtx.kicks == [f"/v3/srtconns/kick/{SRT}"]
        assert closed(factory) == [(view["id"], SRT, "expired")]
        [read] = reads(factory)
        assert read.kicked_at == TEST_NOW + VIEW_LENGTH

    def test_a_view_ended_through_the_access_routes_is_kicked_by_the_job(
        self,
        kicking: TestClient,
        kicking_settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(kicking, viewer)
        admit(kicking, viewer, view, "webrtc", WEBRTC)
        mediamtx.hold("webrtcsessions", WEBRTC)
        assert kicking.post(f"/api/v1/access/grants/{view['id']}/end", headers=viewer).status_code == 200
        assert mediamtx.kicks == []
        run_job(kicking_settings, factory)
        assert mediamtx.kicks == [f"/v3/webrtcsessions/kick/{WEBRTC}"]
        assert closed(factory) == [(view["id"], WEBRTC, "ended")]


class TestWithoutAMediaServer:
    def test_nothing_is_kicked_and_the_read_stays_open(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        mediamtx: MediaMTXStandIn,
    ) -> None:
        assert settings.mediamtx_api_url == ""
        viewer = control_room(factory)
        view = open_view(client, viewer)
        admit(client, viewer, view, "webrtc", WEBRTC)
        mediamtx.hold("webrtcsessions", WEBRTC)
        assert client.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        assert mediamtx.kicks == []
        assert closed(factory) == []
        [read] = reads(factory)
        assert (read.connection_id, read.kicked_at, read.kick_attempts) == (WEBRTC, None, 0)
