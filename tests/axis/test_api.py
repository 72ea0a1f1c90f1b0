"""The Axis Body Worn Integration API, driven as an Axis body worn system drives it."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.fleet import credentials as fleet_credentials
from openbwv.policy import SYSTEM, Role
from openbwv.storage import store_of
from tests.axis.conftest import SYSTEM_SERIAL, Ingested, register_system
from tests.axis.swift import AxisSystem
from tests.builders import headers_for

USER_UUID = "3f2c4b1e-8f7a-4d2b-9c11-2a7e5d0c9b44"
CAMERA = "B8A44F000001"
RECORDING = f"{USER_UUID}_{CAMERA}_20261126T073000Z"
CLIP_1 = "20261126_073000_1a2b.mkv"
CLIP_2 = "20261126_073200_1a2b.mkv"
TRACK = f"20261126_073000_1a2b_{CAMERA}_gpstrail.json"
CLIP_1_BYTES = b"\x1aE\xdf\xa3 first clip " * 300
CLIP_2_BYTES = b"\x1aE\xdf\xa3 second clip " * 200
TRACK_BYTES = json.dumps(
    {
        "CoordinateEntries": [
            {"LocationWKT": "POINT(-1.898575 52.489471)", "SecondsFromStart": 4.0, "Timestamp": "2026-11-26T07:30:04Z"},
            {"LocationWKT": "POINT(-1.898100 52.489900)", "SecondsFromStart": 64.0, "Timestamp": "2026-11-26T07:31:04Z"},
        ]
    }
).encode()  # fmt: skip


def _clip_meta(start: str, stop: str) -> dict[str, str]:
    def epoch(iso: str) -> str:
        from datetime import datetime

        return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()))

    return {
        "StartTime": epoch(start),
        "StartTimeISO": start,
        "StopTime": epoch(stop),
        "StopTimeISO": stop,
        "ContainerType": "mkv",
    }


def _register_people_and_cameras(axis: AxisSystem) -> None:
    """What the body worn manager does when a user and a camera are registered."""
    assert axis.put_container("Users").status_code in (201, 202)
    user = axis.put_object("Users", USER_UUID, b"", Name="Sam Patel", Active="True", UserID="4711")
    assert user.status_code == 201
    assert axis.put_container("Devices").status_code in (201, 202)
    device = axis.put_object("Devices", CAMERA, b"", Name="Camera 1", Active="True", Model="W110")
    assert device.status_code == 201


def _upload_recording(axis: AxisSystem) -> None:
    """A recording of two clips and a GNSS track, as the system uploads it, not yet complete."""
    created = axis.put_container(
        RECORDING,
        ContainerName=RECORDING,
        BWCSerialNumber=CAMERA,
        UserID=USER_UUID,
        TriggerOn="Button",
        TriggerOnTimeISO="2026-11-26T07:30:00Z",
        TimeZone="Europe/London",
        BWCModel="W110",
        Status="Transferring",
    )
    assert created.status_code == 201, created.text
    first = axis.put_object(
        RECORDING, CLIP_1, CLIP_1_BYTES, **_clip_meta("2026-11-26T07:30:00Z", "2026-11-26T07:32:00Z")
    )
    assert first.status_code == 201, first.text
    assert first.headers["ETag"] == hashlib.md5(CLIP_1_BYTES).hexdigest()
    second = axis.put_object(
        RECORDING, CLIP_2, CLIP_2_BYTES, **_clip_meta("2026-11-26T07:32:00Z", "2026-11-26T07:33:10Z")
    )
    assert second.status_code == 201, second.text
    track = axis.put_object(RECORDING, TRACK, TRACK_BYTES, FileType="json")
    assert track.status_code == 201, track.text


def _expected_payload(clip: str, body: bytes, recorded_at: str, stopped_at: str) -> dict[str, object]:
    sha256 = hashlib.sha256(body).hexdigest()
    return {
        "source": "axis",
        "upload_id": f"{SYSTEM_SERIAL}/{RECORDING}/{clip}",
        "parts": [f"axis/{SYSTEM_SERIAL}/{RECORDING}/{clip}"],
        "size": len(body),
        "sha256_received": sha256,
        "device_serial": SYSTEM_SERIAL,
        "metadata": {
            "filename": clip,
            "camera_serial": CAMERA,
            "recorded_at": recorded_at,
            "sha256": sha256,
            "officer_user_id": "4711",
            "gnss_track_key": f"axis/{SYSTEM_SERIAL}/{RECORDING}/{TRACK}",
            "stopped_at": stopped_at,
        },
    }


def _events(factory: sessionmaker[Session], action: str) -> list[tuple[object, ...]]:
    """Each event of ``action``: actor, actor id, target type and id, reason, details."""
    with factory() as db:
        found = db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return [
            (e.actor_username, e.actor_user_id, e.target_type, e.target_id, e.reason, e.details)
            for e in found
        ]


class TestSignIn:
    def test_gives_a_token_and_the_storage_url_of_the_systems_account(
        self, axis: AxisSystem, factory: sessionmaker[Session]
    ) -> None:
        response = axis.sign_in()
        assert response.status_code == 200
        assert response.headers["X-Storage-Url"] == f"https://testserver/api/axis/v1/{SYSTEM_SERIAL}"
        assert response.headers["X-Auth-Token"].startswith("obwvx_")
        assert int(response.headers["X-Auth-Token-Expires"]) == 3600
        assert axis.call("HEAD").status_code == 204
        # One event for the fixture's sign-in and one for this; neither holds the token.
        issued: tuple[object, ...] = ("device:AXIS-BWS-1", None, "device", SYSTEM_SERIAL, None, {})
        assert _events(factory, AuditAction.AXIS_TOKEN_ISSUED) == [issued, issued]
        assert _events(factory, AuditAction.AXIS_SIGN_IN_FAILED) == []

    @pytest.mark.parametrize("key", ["obwvd_wrong", "", "not-a-credential"])
    def test_a_wrong_key_is_refused(self, axis: AxisSystem, factory: sessionmaker[Session], key: str) -> None:
        response = axis.http.get(
            "/api/axis/auth/v1.0", headers={"X-Auth-User": SYSTEM_SERIAL.lower(), "X-Auth-Key": key}
        )
        assert response.status_code == 401
        assert "X-Auth-Token" not in response.headers
        assert _events(factory, AuditAction.AXIS_SIGN_IN_FAILED) == [
            ("axis:AXIS-BWS-1", None, "device", SYSTEM_SERIAL, None, {})
        ]
        assert len(_events(factory, AuditAction.AXIS_TOKEN_ISSUED)) == 1, "the fixture's sign-in only"

    def test_another_devices_credential_does_not_sign_in_as_the_system(
        self, axis: AxisSystem, factory: sessionmaker[Session]
    ) -> None:
        other = register_system(factory, "AXIS-BWS-2")
        response = axis.http.get(
            "/api/axis/auth/v1.0", headers={"X-Auth-User": SYSTEM_SERIAL, "X-Auth-Key": other}
        )
        assert response.status_code == 401
        assert _events(factory, AuditAction.AXIS_SIGN_IN_FAILED) == [
            ("axis:AXIS-BWS-1", None, "device", SYSTEM_SERIAL, None, {})
        ]

    def test_an_expired_token_is_refused(self, axis: AxisSystem, clock: FixedClock) -> None:
        clock.advance(timedelta(minutes=59))
        assert axis.call("HEAD").status_code == 204
        clock.advance(timedelta(minutes=2))
        assert axis.call("HEAD").status_code == 401
        assert axis.sign_in().status_code == 200
        assert axis.call("HEAD").status_code == 204

    def test_an_unknown_token_is_refused(self, axis: AxisSystem) -> None:
        axis.token = "obwvx_unknown"
        assert axis.call("GET").status_code == 401

    def test_revoking_the_credential_ends_its_tokens(
        self, axis: AxisSystem, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            fleet_credentials.revoke_credential(db, SYSTEM, serial=SYSTEM_SERIAL)
        assert axis.call("HEAD").status_code == 401

    def test_without_a_token_the_swift_routes_refuse(self, axis: AxisSystem) -> None:
        axis.token = ""
        assert axis.call("PUT", "Users").status_code == 401

    def test_a_persons_token_is_refused(self, axis: AxisSystem, factory: sessionmaker[Session]) -> None:
        axis.token = ""
        axis.extra_headers = headers_for(factory, Role.ADMIN)
        assert axis.call("PUT", "Users").status_code == 403
        assert axis.call("GET").status_code == 403

    def test_another_systems_account_is_hidden(
        self, axis: AxisSystem, factory: sessionmaker[Session]
    ) -> None:
        register_system(factory, "AXIS-BWS-2")
        axis.storage_path = axis.storage_path.replace(SYSTEM_SERIAL, "AXIS-BWS-2")
        assert axis.call("GET").status_code == 404
        assert axis.call("PUT", "Users").status_code == 404


class TestCapabilityFile:
    @pytest.mark.parametrize("name", ["Capabilities.json", "Capability.json"])
    def test_is_served_with_its_md5_as_etag(self, axis: AxisSystem, name: str) -> None:
        response = axis.call("GET", f"System/{name}")
        assert response.status_code == 200
        assert response.headers["ETag"] == hashlib.md5(response.content).hexdigest()
        capabilities = response.json()
        assert capabilities["Store"]["StoreGNSSTrackRecording"] is True
        assert capabilities["Store"]["StoreUserIDKey"] is True
        assert capabilities["StoreAndRead"]["StoreReadSystemID"] is True
        head = axis.call("HEAD", f"System/{name}")
        assert head.status_code == 200
        assert head.headers["ETag"] == response.headers["ETag"]

    def test_cannot_be_overwritten(self, axis: AxisSystem) -> None:
        assert axis.put_container("System").status_code == 201
        assert axis.put_object("System", "Capabilities.json", b"{}").status_code == 403

    def test_the_system_id_object_is_stored_and_read_back(self, axis: AxisSystem) -> None:
        assert axis.put_container("System").status_code == 201
        system_id = "6a0d2f9e-1c1b-4f3e-9a55-0b8c7e1d2f30"
        stored = axis.put_object("System", system_id, b"", ConnectionId="conn-1", SystemName="West Mids BWS")
        assert stored.status_code == 201
        head = axis.call("HEAD", f"System/{system_id}")
        assert head.headers["X-Object-Meta-Systemname"] == "West%20Mids%20BWS"
        assert head.headers["X-Object-Meta-Connectionid"] == "conn-1"


class TestRecording:
    def test_complete_hands_each_clip_to_ingest_with_the_recordings_facts(
        self, axis: AxisSystem, ingested: Ingested, factory: sessionmaker[Session]
    ) -> None:
        _register_people_and_cameras(axis)
        _upload_recording(axis)
        assert ingested.wait_for(1, timeout=0.3) == []
        assert _events(factory, AuditAction.AXIS_RECORDING_COMPLETED) == []
        assert axis.post_container(RECORDING, Status="Complete").status_code == 204
        assert _events(factory, AuditAction.AXIS_RECORDING_COMPLETED) == [
            (
                "device:AXIS-BWS-1",
                None,
                "axis_recording",
                f"{SYSTEM_SERIAL}/{RECORDING}",
                None,
                {"clips": 2, "camera_serial": CAMERA, "officer_user_id": "4711", "gnss_track": True},
            )
        ]
        payloads = ingested.wait_for(2)
        assert payloads == [
            _expected_payload(CLIP_1, CLIP_1_BYTES, "2026-11-26T07:30:00+00:00", "2026-11-26T07:32:00+00:00"),
            _expected_payload(CLIP_2, CLIP_2_BYTES, "2026-11-26T07:32:00+00:00", "2026-11-26T07:33:10+00:00"),
        ]

        async def stored(key: str) -> bytes:
            return b"".join([chunk async for chunk in store_of(axis.http.app.state).read(key)])  # type: ignore[attr-defined]

        for payload, body in zip(payloads, (CLIP_1_BYTES, CLIP_2_BYTES), strict=True):
            assert anyio.run(stored, payload["parts"][0]) == body

    def test_a_second_complete_hands_nothing_over_again(
        self, axis: AxisSystem, ingested: Ingested, factory: sessionmaker[Session]
    ) -> None:
        _upload_recording(axis)
        assert axis.post_container(RECORDING, Status="Complete").status_code == 204
        assert len(ingested.wait_for(2)) == 2
        assert axis.post_container(RECORDING, Status="Complete").status_code == 204
        assert axis.put_container(RECORDING, Status="Complete").status_code == 202
        time.sleep(1.0)
        assert len(ingested.payloads) == 2
        assert len(_events(factory, AuditAction.AXIS_RECORDING_COMPLETED)) == 1

    def test_without_a_users_object_the_user_in_the_name_is_passed_on(
        self, axis: AxisSystem, ingested: Ingested, factory: sessionmaker[Session]
    ) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        body = b"clip"
        assert axis.put_object(RECORDING, CLIP_1, body).status_code == 201
        assert axis.post_container(RECORDING, Status="Complete").status_code == 204
        [payload] = ingested.wait_for(1)
        assert payload["metadata"]["officer_user_id"] == USER_UUID
        # No clip times: the trigger time in the name; no track.
        assert payload["metadata"]["recorded_at"] == "2026-11-26T07:30:00+00:00"
        assert payload["metadata"]["stopped_at"] is None
        assert payload["metadata"]["gnss_track_key"] is None
        [(*_, completed)] = _events(factory, AuditAction.AXIS_RECORDING_COMPLETED)
        assert completed == {
            "clips": 1,
            "camera_serial": CAMERA,
            "officer_user_id": USER_UUID,
            "gnss_track": False,
        }

    def test_a_complete_recording_takes_no_more_objects(self, axis: AxisSystem, ingested: Ingested) -> None:
        _upload_recording(axis)
        assert axis.post_container(RECORDING, Status="Complete").status_code == 204
        assert axis.put_object(RECORDING, "20261126_073500_1a2b.mkv", b"late").status_code == 400

    def test_a_body_that_does_not_match_its_etag_is_refused_and_not_kept(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        response = axis.put_object(RECORDING, CLIP_1, CLIP_1_BYTES, etag=hashlib.md5(b"other").hexdigest())
        assert response.status_code == 422
        assert axis.call("HEAD", f"{RECORDING}/{CLIP_1}").status_code == 404

        async def keys() -> list[str]:
            return [key async for key in store_of(axis.http.app.state).keys("axis/")]  # type: ignore[attr-defined]

        assert anyio.run(keys) == []

    def test_a_malformed_etag_is_refused(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        assert axis.put_object(RECORDING, CLIP_1, b"x", etag="not-an-md5").status_code == 422


class TestNames:
    @pytest.mark.parametrize(
        "name",
        [
            "holiday-photos",
            f"{USER_UUID}_{CAMERA}",
            f"{USER_UUID}_{CAMERA}_2026-11-26T07:30:00Z",
            f"{USER_UUID}_{CAMERA}_20261350T073000Z",
            "x" * 257,
        ],
    )
    def test_a_container_the_api_never_uses_is_refused(self, axis: AxisSystem, name: str) -> None:
        assert axis.put_container(name).status_code == 400

    def test_a_clip_with_no_duration_is_refused(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        meta = _clip_meta("2026-11-26T07:30:00Z", "2026-11-26T07:30:00Z")
        assert axis.put_object(RECORDING, CLIP_1, b"clip", **meta).status_code == 400

    def test_a_clip_out_of_bounds_in_time_is_refused(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        meta = _clip_meta("2031-01-01T00:00:00Z", "2031-01-01T00:01:00Z")
        assert axis.put_object(RECORDING, CLIP_1, b"clip", **meta).status_code == 400

    def test_a_time_that_is_not_one_is_refused(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        assert axis.put_object(RECORDING, CLIP_1, b"clip", StartTimeISO="yesterday").status_code == 400

    def test_an_object_name_with_an_empty_segment_is_refused(self, axis: AxisSystem) -> None:
        assert axis.put_container(RECORDING).status_code == 201
        assert axis.call("PUT", f"{RECORDING}/a//b", body=b"x").status_code == 400

    def test_an_object_in_a_container_not_made_is_not_found(self, axis: AxisSystem) -> None:
        assert axis.put_object(RECORDING, CLIP_1, b"clip").status_code == 404

    def test_updating_a_container_not_made_is_not_found(self, axis: AxisSystem) -> None:
        assert axis.post_container(RECORDING, Status="Complete").status_code == 404


class TestRoundTrips:
    def test_containers_and_objects_read_back_as_stored(self, axis: AxisSystem) -> None:
        _register_people_and_cameras(axis)
        _upload_recording(axis)
        head = axis.call("HEAD", RECORDING)
        assert head.status_code == 204
        assert head.headers["X-Container-Meta-Status"] == "Transferring"
        assert head.headers["X-Container-Meta-Timezone"] == "Europe%2FLondon"
        obj = axis.call("HEAD", f"{RECORDING}/{CLIP_1}")
        assert obj.status_code == 200
        assert obj.headers["ETag"] == hashlib.md5(CLIP_1_BYTES).hexdigest()
        assert obj.headers["Content-Length"] == str(len(CLIP_1_BYTES))
        assert obj.headers["X-Object-Meta-Starttimeiso"] == "2026-11-26T07%3A30%3A00Z"
        got = axis.call("GET", f"{RECORDING}/{CLIP_1}")
        assert got.status_code == 200
        assert got.content == CLIP_1_BYTES
        assert got.headers["ETag"] == obj.headers["ETag"]
        user = axis.call("HEAD", f"Users/{USER_UUID}")
        assert user.headers["X-Object-Meta-Name"] == "Sam%20Patel"
        assert user.headers["X-Object-Meta-Userid"] == "4711"

    def test_listings(self, axis: AxisSystem) -> None:
        _register_people_and_cameras(axis)
        _upload_recording(axis)
        account = axis.call("GET")
        assert account.text.splitlines() == [RECORDING, "Devices", "Users"]
        assert account.headers["X-Account-Object-Count"] == "5"
        listing = axis.call("GET", f"{RECORDING}?format=json").json()
        assert [entry["name"] for entry in listing] == [CLIP_1, TRACK, CLIP_2]
        assert listing[0]["hash"] == hashlib.md5(CLIP_1_BYTES).hexdigest()
        assert listing[0]["bytes"] == len(CLIP_1_BYTES)
        assert axis.call("GET", "Users").text == f"{USER_UUID}\n"

    def test_posting_metadata_updates_a_container_and_replaces_an_objects(self, axis: AxisSystem) -> None:
        _register_people_and_cameras(axis)
        assert axis.post_container("Users", Note="kept").status_code == 204
        assert axis.call("HEAD", "Users").headers["X-Container-Meta-Note"] == "kept"
        renamed = axis.call("POST", f"Users/{USER_UUID}", headers={"X-Object-Meta-Name": "Sam%20Patel-Jones"})
        assert renamed.status_code == 202
        head = axis.call("HEAD", f"Users/{USER_UUID}")
        assert head.headers["X-Object-Meta-Name"] == "Sam%20Patel-Jones"
        assert "X-Object-Meta-Userid" not in head.headers

    def test_a_missing_object_is_not_found(self, axis: AxisSystem) -> None:
        assert axis.put_container("Users").status_code == 201
        assert axis.call("GET", "Users/nobody").status_code == 404
        assert axis.call("HEAD", "Users/nobody").status_code == 404


class TestCapacity:
    def test_over_the_quota_an_upload_is_told_storage_is_full(
        self, axis: AxisSystem, factory: sessionmaker[Session]
    ) -> None:
        axis.http.app.state.settings = axis.http.app.state.settings.model_copy(update={"axis_quota_mib": 1})  # type: ignore[attr-defined]
        assert axis.put_container(RECORDING).status_code == 201
        assert axis.put_object(RECORDING, CLIP_1, b"x" * (600 * 1024)).status_code == 201
        assert axis.put_object(RECORDING, CLIP_2, b"x" * (600 * 1024)).status_code == 507
        assert axis.call("HEAD", f"{RECORDING}/{CLIP_2}").status_code == 404

    def test_too_many_uploads_at_once_are_told_to_retry(self, axis: AxisSystem) -> None:
        from openbwv.axis.transfer import upload_slots

        assert axis.put_container(RECORDING).status_code == 201
        slots = upload_slots(axis.http.app.state, 1)  # type: ignore[attr-defined]
        slots.in_flight = slots.limit
        assert axis.put_object(RECORDING, CLIP_1, b"clip").status_code == 503
        slots.in_flight = 0
        assert axis.put_object(RECORDING, CLIP_1, b"clip").status_code == 201


def test_the_device_credential_as_a_bearer_token_is_accepted_too(
    axis_client: TestClient, factory: sessionmaker[Session]
) -> None:
    raw = register_system(factory, "AXIS-BWS-3")
    response = axis_client.head("/api/axis/v1/AXIS-BWS-3", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 204
