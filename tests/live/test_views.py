from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access, people
from openbwv.access import AccessGrant
from openbwv.app import create_app
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.jobs import JobRegistry
from openbwv.live import telemetry, views, views_api
from openbwv.live.views import BANNER
from openbwv.policy import Actor, Role
from tests.access.helpers import events, make_actor
from tests.builders import headers_for, make_device
from tests.conftest import TEST_NOW
from tests.live.conftest import SERIAL, FakeRecordingState

VIEW = {"camera_serial": SERIAL, "reason_code": "officer-safety", "incident_number": "20261126-0042"}
VIEW_LENGTH = timedelta(minutes=10)


def control_room(factory: sessionmaker[Session], username: str = "cr.jones") -> dict[str, str]:
    return headers_for(factory, Role.CONTROL_ROOM, username=username)


def open_view(client: httpx2.Client, headers: dict[str, str], **changes: object) -> dict[str, object]:
    answer = client.post("/api/v1/live/views", json={**VIEW, **changes}, headers=headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def when(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


def live_events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return events(db, action, target_id=SERIAL)


class TestListReasons:
    def test_control_room_reads_which_reasons_permit_live_view(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        answer = client.get("/api/v1/live/reasons", headers=control_room(factory))
        assert answer.status_code == 200
        reasons = {r["code"]: r for r in answer.json()}
        for code in ("officer-safety", "critical-incident", "public-order-command", "pursuit-support"):
            assert reasons[code]["permits_live_view"] is True, code
        assert reasons["missing-person"]["permits_live_view"] is True
        for code in ("uof-scrutiny", "stop-search-scrutiny"):
            assert reasons[code]["permits_live_view"] is False
            assert reasons[code]["forbids_live_view"] is True
        assert reasons["evidential-review"]["permits_live_view"] is False
        assert reasons["evidential-review"]["forbids_live_view"] is False

    def test_anonymous_is_401_and_an_officer_403(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/api/v1/live/reasons").status_code == 401
        officer = headers_for(factory, Role.OFFICER)
        assert client.get("/api/v1/live/reasons", headers=officer).status_code == 403


class TestOpenView:
    def test_without_a_reason_is_422(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        body = {"camera_serial": SERIAL, "incident_number": "20261126-0042"}
        answer = client.post("/api/v1/live/views", json=body, headers=control_room(factory))
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "reason_code"]

    def test_without_an_incident_number_or_details_is_422(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        body = {"camera_serial": SERIAL, "reason_code": "officer-safety", "details": "  "}
        answer = client.post("/api/v1/live/views", json=body, headers=control_room(factory))
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "incident_number"]

    def test_an_unknown_reason_is_422(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        answer = client.post(
            "/api/v1/live/views", json={**VIEW, "reason_code": "curiosity"}, headers=control_room(factory)
        )
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "reason_code"]

    @pytest.mark.parametrize("code", ["uof-scrutiny", "stop-search-scrutiny"])
    def test_a_reason_forbidding_live_view_is_403_naming_the_rule(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState, code: str
    ) -> None:
        answer = client.post(
            "/api/v1/live/views", json={**VIEW, "reason_code": code}, headers=control_room(factory)
        )
        assert answer.status_code == 403
        assert answer.json()["detail"] == {
            "rule": "reason_forbids_kind",
            "message": f"Reason {code!r} forbids live view.",
        }
        assert live_events(factory, "access:grant:granted") == []

    def test_a_reason_not_permitting_live_view_is_403_naming_the_rule(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        answer = client.post(
            "/api/v1/live/views",
            json={**VIEW, "reason_code": "evidential-review"},
            headers=control_room(factory),
        )
        assert answer.status_code == 403
        assert answer.json()["detail"]["rule"] == "reason_does_not_permit_kind"

    @pytest.mark.parametrize("role", [Role.OFFICER, Role.EVIDENCE_MANAGER, Role.PROFESSIONAL_STANDARDS])
    def test_a_role_without_live_view_is_403(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState, role: Role
    ) -> None:
        answer = client.post("/api/v1/live/views", json=VIEW, headers=headers_for(factory, role))
        assert answer.status_code == 403
        assert live_events(factory, "access:grant:granted") == []

    def test_anonymous_is_401(self, client: TestClient, camera: FakeRecordingState) -> None:
        assert client.post("/api/v1/live/views", json=VIEW).status_code == 401

    def test_a_camera_not_in_the_fleet_is_404(
        self, client: TestClient, factory: sessionmaker[Session], recording: FakeRecordingState
    ) -> None:
        recording.cameras["BWV-NOWHERE"] = True
        answer = client.post(
            "/api/v1/live/views", json={**VIEW, "camera_serial": "BWV-NOWHERE"}, headers=control_room(factory)
        )
        assert answer.status_code == 404

    def test_a_taser_is_not_a_camera(
        self, client: TestClient, factory: sessionmaker[Session], recording: FakeRecordingState
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="taser", serial="X2-0001")
        recording.cameras["X2-0001"] = True
        answer = client.post(
            "/api/v1/live/views", json={**VIEW, "camera_serial": "X2-0001"}, headers=control_room(factory)
        )
        assert answer.status_code == 404

    @pytest.mark.parametrize("state", [False, None])
    def test_a_camera_not_recording_is_409(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        collar: str,
        recording: FakeRecordingState,
        state: bool | None,
    ) -> None:
        if state is not None:
            recording.cameras[SERIAL] = state
        answer = client.post("/api/v1/live/views", json=VIEW, headers=control_room(factory))
        assert answer.status_code == 409
        assert answer.json()["detail"]["rule"] == "camera_not_recording"
        assert live_events(factory, "access:grant:granted") == []

    def test_a_permitted_reason_opens_a_view_and_the_audit_log_shows_it(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState, collar: str
    ) -> None:
        body = open_view(client, control_room(factory))
        assert when(body["expires_at"]) == TEST_NOW + VIEW_LENGTH
        assert body["stream_url"] == f"/api/v1/live/views/{body['id']}/stream"
        [event] = live_events(factory, "access:grant:granted")
        assert event.actor_username == "cr.jones"
        assert event.target_type == "camera"
        assert event.reason == "officer-safety; incident 20261126-0042"
        assert event.details is not None
        assert event.details["kind"] == "live_view"
        assert event.details["grant"] == body["id"]
        assert event.details["camera_serial"] == SERIAL
        assert event.details["subject_collar_number"] == collar

    def test_a_supervisor_may_open_one_with_details_instead_of_an_incident_number(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        supervisor = headers_for(factory, Role.SUPERVISOR)
        details = "Emergency button pressed, no answer on the radio"
        open_view(client, supervisor, reason_code="officer-safety", incident_number=None, details=details)
        [event] = live_events(factory, "access:grant:granted")
        assert event.reason == f"officer-safety; {details}"

    def test_the_serial_is_matched_as_the_fleet_stores_it(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        body = open_view(client, control_room(factory), camera_serial=SERIAL.lower())
        view = client.get(f"/api/v1/live/views/{body['id']}", headers=control_room(factory, "cr.other"))
        assert view.status_code == 404
        with factory() as db:
            assert db.get(AccessGrant, body["id"]).record_id == SERIAL  # type: ignore[union-attr]

    def test_a_second_view_of_the_same_camera_while_one_is_live_is_409(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        headers = control_room(factory)
        open_view(client, headers)
        again = client.post("/api/v1/live/views", json=VIEW, headers=headers)
        assert again.status_code == 409
        assert again.json()["detail"]["rule"] == "access_already_granted"


class TestGetView:
    def test_the_viewer_sees_state_expiry_stream_and_the_audit_banner(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        headers = control_room(factory)
        opened = open_view(client, headers)
        answer = client.get(f"/api/v1/live/views/{opened['id']}", headers=headers)
        assert answer.status_code == 200
        view = answer.json()
        assert view["state"] == "live"
        assert view["camera_serial"] == SERIAL
        assert view["reason_code"] == "officer-safety"
        assert view["stream_url"] == opened["stream_url"]
        assert when(view["expires_at"]) == TEST_NOW + VIEW_LENGTH
        assert view["banner"] == BANNER
        assert "audited" in view["banner"]

    def test_someone_elses_view_is_404(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        opened = open_view(client, control_room(factory))
        other = control_room(factory, "cr.other")
        assert client.get(f"/api/v1/live/views/{opened['id']}", headers=other).status_code == 404

    def test_a_grant_of_another_kind_is_not_a_live_view(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        headers = control_room(factory)
        grant = client.post(
            "/api/v1/access/grants",
            json={
                "record_kind": "footage",
                "record_id": "1",
                "kind": "footage_view",
                "reason_code": "incident-response",
                "incident_number": "20261126-0042",
            },
            headers=headers,
        )
        assert grant.status_code == 201, grant.text
        assert client.get(f"/api/v1/live/views/{grant.json()['id']}", headers=headers).status_code == 404

    def test_a_view_expires_by_the_clock(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        clock: FixedClock,
    ) -> None:
        headers = control_room(factory)
        opened = open_view(client, headers)
        clock.advance(VIEW_LENGTH - timedelta(seconds=1))
        assert client.get(f"/api/v1/live/views/{opened['id']}", headers=headers).json()["state"] == "live"
        clock.advance(timedelta(seconds=1))
        view = client.get(f"/api/v1/live/views/{opened['id']}", headers=headers).json()
        assert view["state"] == "expired"
        assert view["stream_url"] is None
        renewed = client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=headers)
        assert renewed.status_code == 409
        assert renewed.json()["detail"]["rule"] == "grant_expired"
        # The reason is stated again for a new view.
        again = open_view(client, headers)
        assert when(again["expires_at"]) == TEST_NOW + 2 * VIEW_LENGTH


class TestRenewView:
    def test_the_viewer_renews_for_another_view_length_and_it_is_audited(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        clock: FixedClock,
        collar: str,
    ) -> None:
        headers = control_room(factory)
        opened = open_view(client, headers)
        clock.advance(timedelta(minutes=8))
        answer = client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=headers)
        assert answer.status_code == 200, answer.text
        assert when(answer.json()["expires_at"]) == TEST_NOW + timedelta(minutes=8) + VIEW_LENGTH
        assert answer.json()["renewed_count"] == 1
        [event] = live_events(factory, "access:grant:renewed")
        assert event.actor_username == "cr.jones"
        assert event.reason == "officer-safety; incident 20261126-0042"
        assert event.details is not None
        assert event.details["kind"] == "live_view"
        assert event.details["subject_collar_number"] == collar
        assert event.details["previous_expires_at"] == (TEST_NOW + VIEW_LENGTH).isoformat()

    def test_someone_else_cannot_renew_it(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        opened = open_view(client, control_room(factory))
        for other in (control_room(factory, "cr.other"), headers_for(factory, Role.ADMIN)):
            assert client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=other).status_code == 404
        assert live_events(factory, "access:grant:renewed") == []

    def test_a_camera_that_stopped_recording_is_not_renewed(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        headers = control_room(factory)
        opened = open_view(client, headers)
        camera.cameras[SERIAL] = False
        answer = client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=headers)
        assert answer.status_code == 409
        assert answer.json()["detail"]["rule"] == "camera_not_recording"


class TestEndView:
    def test_the_viewer_ends_it_and_it_is_audited(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState, collar: str
    ) -> None:
        headers = control_room(factory)
        opened = open_view(client, headers)
        answer = client.delete(f"/api/v1/live/views/{opened['id']}", headers=headers)
        assert answer.status_code == 200
        assert answer.json()["state"] == "ended"
        assert answer.json()["stream_url"] is None
        [event] = live_events(factory, "access:grant:ended")
        assert event.actor_username == "cr.jones"
        assert event.reason == "officer-safety; incident 20261126-0042"
        assert event.details is not None
        assert event.details["kind"] == "live_view"
        assert event.details["subject_collar_number"] == collar
        renewed = client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=headers)
        assert renewed.json()["detail"]["rule"] == "grant_ended"

    def test_another_viewer_cannot_end_it(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        opened = open_view(client, control_room(factory))
        other = headers_for(factory, Role.SUPERVISOR)
        assert client.delete(f"/api/v1/live/views/{opened['id']}", headers=other).status_code == 404
        assert live_events(factory, "access:grant:ended") == []

    def test_professional_standards_end_anyones(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        opened = open_view(client, control_room(factory))
        standards = headers_for(factory, Role.PROFESSIONAL_STANDARDS, username="psd.khan")
        answer = client.delete(f"/api/v1/live/views/{opened['id']}", headers=standards)
        assert answer.status_code == 200
        assert answer.json()["state"] == "ended"
        [event] = live_events(factory, "access:grant:ended")
        assert event.actor_username == "psd.khan"
        assert event.details is not None and event.details["holder"] == "cr.jones"

    def test_an_officer_cannot_end_one(
        self, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
    ) -> None:
        opened = open_view(client, control_room(factory))
        officer = headers_for(factory, Role.OFFICER)
        assert client.delete(f"/api/v1/live/views/{opened['id']}", headers=officer).status_code == 403


class SentAfterCommit:
    """Camera commands that check, as each message goes, that the view it names is already stored."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.sent: list[tuple[str, dict[str, object]]] = []

    def send(self, serial: str, message: dict[str, object]) -> None:
        with self.factory() as db:
            assert db.scalar(select(AccessGrant.id).where(AccessGrant.id == message["view_id"])) is not None
        self.sent.append((serial, message))


class TestTellingTheCamera:
    @pytest.fixture
    def sent(self, factory: sessionmaker[Session]) -> SentAfterCommit:
        return SentAfterCommit(factory)

    @contextmanager
    def client_for(
        self, settings: Settings, factory: sessionmaker[Session], sent: SentAfterCommit, *, notify: bool
    ) -> Iterator[TestClient]:
        app = create_app(
            settings.model_copy(update={"live_notify_camera": notify}), factory, jobs=JobRegistry()
        )
        app.dependency_overrides[views_api.commands] = lambda: sent
        with TestClient(app, base_url="https://testserver") as client:
            yield client

    def test_where_the_force_enables_it_the_camera_is_told_after_the_commit(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        sent: SentAfterCommit,
        clock: FixedClock,
    ) -> None:
        with self.client_for(settings, factory, sent, notify=True) as client:
            headers = control_room(factory)
            opened = open_view(client, headers)
            clock.advance(timedelta(minutes=5))
            client.post(f"/api/v1/live/views/{opened['id']}/renew", headers=headers)
            client.delete(f"/api/v1/live/views/{opened['id']}", headers=headers)
        until = TEST_NOW + VIEW_LENGTH
        assert sent.sent == [
            (SERIAL, {"type": "being_viewed", "view_id": opened["id"], "until": until.isoformat()}),
            (
                SERIAL,
                {
                    "type": "being_viewed",
                    "view_id": opened["id"],
                    "until": (until + timedelta(minutes=5)).isoformat(),
                },
            ),
            (SERIAL, {"type": "viewing_ended", "view_id": opened["id"]}),
        ]

    def test_by_default_the_camera_is_not_told(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        sent: SentAfterCommit,
    ) -> None:
        with self.client_for(settings, factory, sent, notify=False) as client:
            open_view(client, control_room(factory))
        assert sent.sent == []

    def test_a_refused_view_tells_the_camera_nothing(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        camera: FakeRecordingState,
        sent: SentAfterCommit,
    ) -> None:
        with self.client_for(settings, factory, sent, notify=True) as client:
            answer = client.post(
                "/api/v1/live/views",
                json={**VIEW, "reason_code": "uof-scrutiny"},
                headers=control_room(factory),
            )
            assert answer.status_code == 403
        assert sent.sent == []


class TestRecordingFromTelemetry:
    """Without a stand-in, whether the camera records is what its latest telemetry says."""

    def _report(self, factory: sessionmaker[Session], *, recording: bool, at: datetime) -> None:
        payload = {
            "ts": at.isoformat(),
            "lat": 52.4862,
            "lon": -1.8904,
            "accuracy_m": 5,
            "recording": recording,
            "battery_pct": 80,
            "storage_pct": 40,
        }
        with transaction(factory) as db:
            outcome = telemetry.receive_readings(
                db, [(SERIAL, payload)], now=at, max_age=timedelta(minutes=5)
            )
        assert len(outcome.accepted) == 1

    def test_a_view_opens_only_while_the_telemetry_says_the_camera_records(
        self, client: TestClient, factory: sessionmaker[Session], collar: str, clock: FixedClock
    ) -> None:
        headers = control_room(factory)
        self._report(factory, recording=False, at=TEST_NOW - timedelta(seconds=10))
        refused = client.post("/api/v1/live/views", json=VIEW, headers=headers)
        assert refused.status_code == 409
        assert refused.json()["detail"]["rule"] == "camera_not_recording"
        self._report(factory, recording=True, at=TEST_NOW - timedelta(seconds=5))
        assert open_view(client, headers)["id"]

    def test_a_camera_silent_for_too_long_is_not_known_to_record(
        self, client: TestClient, factory: sessionmaker[Session], collar: str, clock: FixedClock
    ) -> None:
        self._report(factory, recording=True, at=TEST_NOW - telemetry.RECORDING_TRUSTED_FOR)
        clock.set(TEST_NOW + timedelta(seconds=1))
        answer = client.post("/api/v1/live/views", json=VIEW, headers=control_room(factory))
        assert answer.status_code == 409


class TestViewRules:
    """The rules of ``views`` called directly, without the API in between: the refusals' messages, what
    a view says of itself, and the audit event of reading its stream."""

    OPTIONS = views.ViewOptions(stream_url="/watch/{serial}/{view_id}")

    def _open(
        self, db: Session, viewer: Actor, recording: FakeRecordingState, **changes: object
    ) -> views.LiveView:
        request = views.ViewRequest(**{**VIEW, **changes})  # type: ignore[arg-type]
        return views.open_view(db, viewer, request=request, recording=recording, options=self.OPTIONS)

    def test_a_view_says_who_watches_which_camera_why_and_until_when(
        self, db: Session, camera: FakeRecordingState, collar: str
    ) -> None:
        viewer = make_actor(db, Role.CONTROL_ROOM, username="cr.view")
        view = self._open(db, viewer, camera, details="Emergency button pressed")
        assert (view.camera_serial, view.viewer, view.reason_code) == (SERIAL, "cr.view", "officer-safety")
        assert (view.incident_number, view.details) == ("20261126-0042", "Emergency button pressed")
        assert (view.started_at, view.expires_at, view.ended_at) == (TEST_NOW, TEST_NOW + VIEW_LENGTH, None)
        assert (view.state, view.renewed_count) == ("live", 0)
        assert view.stream_url == f"/watch/{SERIAL}/{view.id}"
        [event] = events(db, "access:grant:granted", target_id=SERIAL)
        officer = people.get_officer(db, collar)
        assert officer is not None
        assert event.details is not None
        assert (event.details["subject_officer_id"], event.details["subject_collar_number"]) == (
            officer.id,
            collar,
        )

    def test_a_camera_held_by_nobody_is_watched_with_no_subject(
        self, db: Session, recording: FakeRecordingState
    ) -> None:
        make_device(db, serial="BWV-LIVE-0002")
        recording.cameras["BWV-LIVE-0002"] = True
        self._open(db, make_actor(db, Role.CONTROL_ROOM), recording, camera_serial="BWV-LIVE-0002")
        [event] = events(db, "access:grant:granted", target_id="BWV-LIVE-0002")
        assert event.details is not None
        assert (event.details["subject_officer_id"], event.details["subject_collar_number"]) == (None, None)

    def test_refusals_say_why(self, db: Session, recording: FakeRecordingState, collar: str) -> None:
        viewer = make_actor(db, Role.CONTROL_ROOM)
        with pytest.raises(InvalidInput) as no_statement:
            self._open(db, viewer, recording, incident_number=None, details=" ")
        assert no_statement.value.field == "incident_number"
        assert no_statement.value.message == (
            "incident_number: give an incident number, or details saying why you need live view"
        )
        with pytest.raises(NotFound, match=r"^No such camera\.$"):
            self._open(db, viewer, recording, camera_serial="BWV-NOWHERE")
        for state, known in [(None, "has not reported that it is recording"), (False, "is not recording")]:
            if state is not None:
                recording.cameras[SERIAL] = state
            with pytest.raises(Conflict) as refused:
                views.check_recording(db, SERIAL, recording)
            assert refused.value.rule == "camera_not_recording"
            assert (
                refused.value.message == f"Camera {SERIAL} {known}: live view is only of a recording camera."
            )

    def test_only_a_live_view_is_streamed_and_reading_it_is_audited(
        self, db: Session, camera: FakeRecordingState, collar: str, clock: FixedClock
    ) -> None:
        viewer = make_actor(db, Role.CONTROL_ROOM, username="cr.stream")
        opened = self._open(db, viewer, camera)
        view = views.view_to_stream(db, viewer, opened.id, options=self.OPTIONS)
        views.record_stream_read(db, viewer, view, transport="hls", details={"client": "player"})
        [event] = events(db, "live:stream:read", target_id=SERIAL)
        officer = people.get_officer(db, collar)
        assert officer is not None
        assert (event.actor_username, event.target_type, event.reason) == (
            "cr.stream",
            "camera",
            "officer-safety",
        )
        assert event.details == {
            "view_id": opened.id,
            "reason_code": "officer-safety",
            "incident_number": "20261126-0042",
            "transport": "hls",
            "camera_serial": SERIAL,
            "subject_officer_id": officer.id,
            "subject_collar_number": collar,
            "client": "player",
        }
        with pytest.raises(NotFound):
            views.view_to_stream(db, make_actor(db, Role.CONTROL_ROOM), opened.id, options=self.OPTIONS)
        clock.advance(VIEW_LENGTH)
        with pytest.raises(Conflict) as expired:
            views.view_to_stream(db, viewer, opened.id, options=self.OPTIONS)
        assert (expired.value.rule, expired.value.message) == (
            "view_not_live",
            "The live view has expired: open a new one to watch.",
        )

    def test_reasons_carry_their_label_and_description(self, db: Session) -> None:
        reasons = {r.code: r for r in views.list_live_reasons(db)}
        stored = access.get_reason(db, "officer-safety")
        assert stored is not None
        safety = reasons["officer-safety"]
        assert (safety.label, safety.description) == (stored.label, stored.description)
        assert (safety.permits_live_view, safety.forbids_live_view) == (True, False)
        access.set_reason_active(db, make_actor(db, Role.ADMIN), code="officer-safety", active=False)
        assert "officer-safety" not in {r.code for r in views.list_live_reasons(db)}

    def test_a_view_is_its_viewers_own_and_only_a_camera_grant_is_one(
        self, db: Session, camera: FakeRecordingState
    ) -> None:
        viewer = make_actor(db, Role.CONTROL_ROOM)
        standards = make_actor(db, Role.PROFESSIONAL_STANDARDS)
        opened = self._open(db, viewer, camera)
        assert views.get_view(db, viewer, opened.id, options=self.OPTIONS) is not None
        # Professional standards may end anyone's view, but not read or renew it as their own.
        assert views.get_view(db, standards, opened.id, options=self.OPTIONS) is None
        with pytest.raises(NotFound, match=r"^No such live view\.$"):
            views.renew_view(db, standards, opened.id, recording=camera, options=self.OPTIONS)
        other = access.grant_access(
            db,
            viewer,
            record=access.AccessRecord("footage", "1"),
            kind="live_view",
            reason_code="officer-safety",
            note="Not a camera",
        )
        assert views.get_view(db, viewer, other.id, options=self.OPTIONS) is None
        with pytest.raises(NotFound, match=r"^No such live view\.$"):
            views.view_to_stream(db, viewer, other.id, options=self.OPTIONS)
        ended = views.end_view(db, standards, opened.id, options=self.OPTIONS)
        assert (ended.state, ended.ended_at, ended.stream_url) == ("ended", TEST_NOW, None)
