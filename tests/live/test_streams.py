"""Live video: a recording camera pushes H.264 in MPEG-TS, a viewer with a live view receives
fragmented MP4 over a WebSocket that PyAV decodes; refusals on both sides; MediaMTX's authentication
hook answered from the same rules. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import credentials
from openbwv.live import relay
from openbwv.policy import SYSTEM, Role
from tests.builders import device_headers_for, headers_for
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.helpers import FPS, chunks, decoded_frames, encoded_stream
from tests.live.test_views import control_room, live_events, open_view
from tests.live_server import serve

TS = {"Content-Type": "video/mp2t"}


@pytest.fixture
def fresh_relay() -> Iterator[relay.EmbeddedRelay]:
    embedded = relay.EmbeddedRelay()
    previous = relay.provide_relay(embedded)
    yield embedded
    relay.provide_relay(previous)


@pytest.fixture
def camera_headers(factory: sessionmaker[Session], camera: FakeRecordingState) -> dict[str, str]:
    """The credential of ``SERIAL``, issued to an officer and recording."""
    with transaction(factory) as db:
        _, raw = credentials.issue_credential(db, SYSTEM, serial=SERIAL)
    return {"Authorization": f"Bearer {raw}"}


class Sender(threading.Thread):
    """A camera sending its stream to a served app from a thread of its own: the first part, then,
    once let go, the rest."""

    def __init__(self, base: str, headers: dict[str, str], first: bytes, rest: bytes) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.first, self.rest = base, headers, first, rest
        self.go_on = threading.Event()
        self.status: int | None = None
        self.answer = ""

    def body(self) -> Iterator[bytes]:
        yield from chunks(self.first)
        self.go_on.wait(30)
        yield from chunks(self.rest)

    def run(self) -> None:
        with httpx2.Client(timeout=60) as http:
            answer = http.post(
                f"{self.base}/api/v1/live/streams/{SERIAL}/ingest",
                content=self.body(),
                headers={**self.headers, **TS},
            )
        self.status, self.answer = answer.status_code, answer.text


def received_until_closed(socket: ClientConnection) -> tuple[list[bytes], int, str]:
    """Every message until the server closes, with the close code and reason."""
    received = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            message = socket.recv(timeout=30)
            assert isinstance(message, bytes)
            received.append(message)
    assert closed.value.rcvd is not None
    return received, closed.value.rcvd.code, closed.value.rcvd.reason


def until(condition: object, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not true in time"
        time.sleep(0.02)


@pytest.fixture
def served(settings: Settings, factory: sessionmaker[Session]) -> Iterator[httpx2.Client]:
    """A client of the app on a loopback port (cameras stream to it and viewers watch as over a
    network)."""
    with serve(settings, factory) as base, httpx2.Client(base_url=base, timeout=30) as api:
        yield api


class TestWatching:
    def test_a_viewer_with_a_live_view_receives_fragmented_mp4_that_decodes_and_the_read_is_audited(
        self,
        served: httpx2.Client,
        factory: sessionmaker[Session],
        camera_headers: dict[str, str],
        fresh_relay: relay.EmbeddedRelay,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(served, viewer)
        assert view["stream_url"] == f"/api/v1/live/views/{view['id']}/stream"
        stream = encoded_stream(4)
        sender = Sender(
            str(served.base_url), camera_headers, stream[: len(stream) // 2], stream[len(stream) // 2 :]
        )
        sender.start()
        until(lambda: fresh_relay.is_live(SERIAL))
        url = str(served.base_url).replace("http://", "ws://") + str(view["stream_url"])
        with connect(url, additional_headers=viewer) as socket:
            sender.go_on.set()
            received, code, reason = received_until_closed(socket)
        sender.join(30)
        assert sender.status == 204, sender.answer
        assert (code, reason) == (1000, "The camera stopped sending its live stream.")
        assert received[0][4:8] == b"ftyp" and all(r[4:8] == b"moof" for r in received[1:])
        # Joined halfway: from the latest keyframe the relay had by then (the first, at the latest).
        frames = decoded_frames(b"".join(received))
        assert 2 * FPS <= frames <= 4 * FPS
        (read,) = live_events(factory, "live:stream:read")
        assert read.actor_username == "cr.jones" and read.reason == "officer-safety"
        assert read.details["view_id"] == view["id"]
        assert read.details["incident_number"] == "20261126-0042"
        assert read.details["subject_collar_number"] == "4521"
        assert read.details["transport"] == "websocket"
        assert not fresh_relay.is_live(SERIAL)

    def test_a_viewer_whose_view_ends_is_cut_off(
        self,
        served: httpx2.Client,
        factory: sessionmaker[Session],
        camera_headers: dict[str, str],
        fresh_relay: relay.EmbeddedRelay,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(served, viewer)
        stream = encoded_stream(3)
        sender = Sender(
            str(served.base_url), camera_headers, stream[: len(stream) // 2], stream[len(stream) // 2 :]
        )
        sender.start()
        until(lambda: fresh_relay.is_live(SERIAL))
        url = str(served.base_url).replace("http://", "ws://") + str(view["stream_url"])
        with connect(url, additional_headers=viewer) as socket:
            assert socket.recv(timeout=30)[4:8] == b"ftyp"
            assert served.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
            _, code, reason = received_until_closed(socket)
        assert code == 4409 and "ended" in reason, reason
        sender.go_on.set()
        sender.join(30)
        assert sender.status == 204, sender.answer

    def test_refusals_close_the_socket_saying_why(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        fresh_relay: relay.EmbeddedRelay,
    ) -> None:
        viewer = control_room(factory)
        view = open_view(client, viewer)
        url = str(view["stream_url"])
        cases = [
            ({}, 4401, "Sign in"),
            (headers_for(factory, Role.OFFICER, username="pc.smith"), 4403, "may not watch"),
            (control_room(factory, "cr.other"), 4404, "live view"),
            (viewer, 4409, "not sending"),
        ]
        for headers, code, words in cases:
            with (
                client.websocket_connect(url, headers=headers) as socket,
                pytest.raises(WebSocketDisconnect) as closed,
            ):
                socket.receive_bytes()
            assert (closed.value.code, words in closed.value.reason) == (code, True), closed.value.reason
        assert live_events(factory, "live:stream:read") == []

    def test_the_session_cookie_opens_a_stream_only_from_this_sites_own_pages(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        view = open_view(client, viewer)
        token = viewer["Authorization"].removeprefix("Bearer ")
        client.cookies.set("openbwv_session", token)
        for origin, code in (("https://elsewhere.example", 4401), ("https://testserver", 4409)):
            with (
                client.websocket_connect(str(view["stream_url"]), headers={"Origin": origin}) as socket,
                pytest.raises(WebSocketDisconnect) as closed,
            ):
                socket.receive_bytes()
            assert closed.value.code == code, closed.value.reason


class TestIngest:
    def test_a_camera_that_is_not_recording_is_refused(
        self,
        client: TestClient,
        camera_headers: dict[str, str],
        camera: FakeRecordingState,
        fresh_relay: relay.EmbeddedRelay,
    ) -> None:
        camera.cameras[SERIAL] = False
        answer = client.post(
            f"/api/v1/live/streams/{SERIAL}/ingest",
            content=encoded_stream(1),
            headers={**camera_headers, **TS},
        )
        assert answer.status_code == 409 and answer.json()["detail"]["rule"] == "camera_not_recording"
        assert not fresh_relay.is_live(SERIAL)

    def test_a_camera_sends_only_its_own_stream_and_people_none(
        self, client: TestClient, factory: sessionmaker[Session], camera_headers: dict[str, str]
    ) -> None:
        other = client.post(
            "/api/v1/live/streams/BWV-OTHER/ingest", content=b"x", headers={**camera_headers, **TS}
        )
        assert other.status_code == 404 and "for this credential" in other.json()["detail"]
        person = client.post(
            f"/api/v1/live/streams/{SERIAL}/ingest", content=b"x", headers={**control_room(factory), **TS}
        )
        assert person.status_code == 403

    def test_other_containers_and_garbage_are_422(
        self, client: TestClient, camera_headers: dict[str, str], fresh_relay: relay.EmbeddedRelay
    ) -> None:
        url = f"/api/v1/live/streams/{SERIAL}/ingest"
        flv = client.post(url, content=b"x", headers={**camera_headers, "Content-Type": "video/x-flv"})
        assert flv.status_code == 422 and "video/mp2t" in flv.text
        garbage = client.post(url, content=b"\x00" * 50_000, headers={**camera_headers, **TS})
        assert garbage.status_code == 422 and "Not a playable stream" in garbage.text
        assert not fresh_relay.is_live(SERIAL)

    def test_a_second_stream_of_a_camera_already_sending_is_409(
        self,
        served: httpx2.Client,
        camera_headers: dict[str, str],
        fresh_relay: relay.EmbeddedRelay,
    ) -> None:
        stream = encoded_stream(1)
        sender = Sender(str(served.base_url), camera_headers, stream, b"")
        sender.start()
        until(lambda: fresh_relay.is_live(SERIAL))
        second = served.post(
            f"/api/v1/live/streams/{SERIAL}/ingest", content=stream, headers={**camera_headers, **TS}
        )
        assert second.status_code == 409 and second.json()["detail"]["rule"] == "stream_already_live"
        sender.go_on.set()
        sender.join(30)
        assert sender.status == 204


class TestMediaServerHook:
    """MediaMTX posts its question; 2xx lets the client in, anything else keeps it out."""

    def ask(self, client: TestClient, **fields: object) -> int:
        body = {"ip": "10.1.2.3", "protocol": "webrtc", "id": "c0ffee", "path": f"cameras/{SERIAL}", **fields}
        return client.post("/api/v1/live/media-server/auth", json=body).status_code

    def test_a_recording_camera_publishes_its_own_path_only(
        self, client: TestClient, factory: sessionmaker[Session], camera_headers: dict[str, str],
        camera: FakeRecordingState,
    ) -> None:  # fmt: skip
        credential = camera_headers["Authorization"].removeprefix("Bearer ")
        assert self.ask(client, action="publish", password=credential, user=SERIAL) == 204
        assert self.ask(client, action="publish", token=credential) == 204
        assert self.ask(client, action="publish", token=credential, path="cameras/BWV-OTHER") == 401
        assert self.ask(client, action="publish", token="not-a-credential") == 401
        assert self.ask(client, action="publish") == 401
        camera.cameras[SERIAL] = False
        assert self.ask(client, action="publish", token=credential) == 401

    def test_a_reader_needs_a_live_view_of_that_camera_and_each_read_is_audited(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        viewer = control_room(factory)
        token = viewer["Authorization"].removeprefix("Bearer ")
        view = open_view(client, viewer)
        assert self.ask(client, action="read", token=token, query=f"view={view['id']}") == 204
        (read,) = live_events(factory, "live:stream:read")
        assert read.details["transport"] == "media server (webrtc)"
        assert read.details["client_address"] == "10.1.2.3" and read.details["connection_id"] == "c0ffee"
        assert self.ask(client, action="read", token=token) == 401
        assert self.ask(client, action="read", token=token, query="view=abc") == 401
        assert (
            self.ask(client, action="read", token=token, query=f"view={view['id']}", path="cameras/X") == 401
        )
        other = control_room(factory, "cr.other")["Authorization"].removeprefix("Bearer ")
        assert self.ask(client, action="read", token=other, query=f"view={view['id']}") == 401
        officer = headers_for(factory, Role.OFFICER, username="pc.smith")["Authorization"].removeprefix(
            "Bearer "
        )
        assert self.ask(client, action="read", token=officer, query=f"view={view['id']}") == 401
        assert client.delete(f"/api/v1/live/views/{view['id']}", headers=viewer).status_code == 200
        assert self.ask(client, action="read", token=token, query=f"view={view['id']}") == 401
        assert len(live_events(factory, "live:stream:read")) == 1

    def test_playback_the_api_and_other_paths_are_refused(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        credential = device_headers_for(factory)["Authorization"].removeprefix("Bearer ")
        for action in ("playback", "api", "metrics", "pprof"):
            assert self.ask(client, action=action, token=credential) == 401
        assert self.ask(client, action="publish", token=credential, path="anything") == 401
        assert client.post("/api/v1/live/media-server/auth", json={"action": "delete"}).status_code == 422
