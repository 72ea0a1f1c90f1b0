from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Role
from openbwv.storage import open_store
from tests.builders import headers_for, make_officer
from tests.footage.helpers import RECORDED_AT, demo_clip, events, holder_of_camera, run_ingest, upload


@pytest.fixture
def owned(settings: Settings, factory: sessionmaker[Session], tmp_path: Path) -> tuple[str, str]:
    """A clip attributed to the officer holding the camera: its hash and the officer's collar."""
    officer, serial = holder_of_camera(factory, collar="7001")
    video = demo_clip(tmp_path)
    run_ingest(settings, factory, upload(open_store(settings), video, camera_serial=serial))
    return hashlib.sha256(video).hexdigest(), officer.collar_number


@pytest.fixture
def held(settings: Settings, factory: sessionmaker[Session], tmp_path: Path) -> str:
    """A clip from a camera not in the fleet, held for review: its hash."""
    video = demo_clip(tmp_path, seed=5)
    run_ingest(settings, factory, upload(open_store(settings), video, camera_serial="STRAY-1"))
    return hashlib.sha256(video).hexdigest()


def _officer_headers(factory: sessionmaker[Session], collar: str) -> dict[str, str]:
    with transaction(factory) as db:
        from openbwv import people

        officer = people.get_officer(db, collar) or make_officer(db, collar=collar)
    return headers_for(factory, Role.OFFICER, officer=officer)


class TestFindFootage:
    def test_the_officer_who_held_the_camera_finds_their_clip(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[str, str]
    ) -> None:
        sha, collar = owned
        response = client.get(
            "/api/v1/footage", params={"sha256": sha.upper()}, headers=_officer_headers(factory, collar)
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["total"], body["total_exact"], body["next_cursor"], body["limit"]) == (1, True, None, 50)
        assert "offset" not in body
        [item] = body["items"]
        assert {k: item[k] for k in ("sha256", "collar_number", "ingest_state")} == {
            "sha256": sha,
            "collar_number": collar,
            "ingest_state": "stored",
        }
        assert item["recorded_at"].startswith(RECORDED_AT.strftime("%Y-%m-%dT%H:%M"))
        assert isinstance(item["id"], int) and item["camera_serial"]
        # Not probed yet, so the track the file carries is not read, and its camera's station has no position.
        assert (item["latitude"], item["longitude"]) == (None, None)

    def test_a_colleague_finds_nothing(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[str, str]
    ) -> None:
        sha, _ = owned
        response = client.get(
            "/api/v1/footage", params={"sha256": sha}, headers=_officer_headers(factory, "7002")
        )
        assert response.status_code == 200
        assert (response.json()["items"], response.json()["total"]) == ([], 0)

    def test_an_evidence_manager_finds_clips_held_for_review_but_not_officers_clips(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[str, str], held: str
    ) -> None:
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        found = client.get("/api/v1/footage", params={"sha256": held}, headers=headers).json()
        assert [(i["ingest_state"], i["collar_number"]) for i in found["items"]] == [
            ("held_for_review", None)
        ]
        assert (
            client.get("/api/v1/footage", params={"sha256": owned[0]}, headers=headers).json()["total"] == 0
        )

    def test_an_officer_does_not_find_a_clip_held_for_review(
        self, client: TestClient, factory: sessionmaker[Session], held: str
    ) -> None:
        response = client.get(
            "/api/v1/footage", params={"sha256": held}, headers=_officer_headers(factory, "7003")
        )
        assert response.json()["total"] == 0

    def test_every_search_is_audited(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[str, str]
    ) -> None:
        sha, collar = owned
        headers = _officer_headers(factory, collar)
        client.get("/api/v1/footage", params={"sha256": sha}, headers=headers)
        client.get("/api/v1/footage", params={"sha256": "a" * 64}, headers=headers)
        with factory() as db:
            searches = events(db, "footage:clip:searched")
        assert [(e.target_type, e.target_id, e.details["total"]) for e in searches] == [
            ("footage_search", sha, 1),
            ("footage_search", "a" * 64, 0),
        ]
        assert searches[0].actor_username != "system" and searches[0].details["clip_ids"]

    def test_refuses_anonymous_callers_and_roles_without_footage(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/api/v1/footage", params={"sha256": "a" * 64}).status_code == 401
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert client.get("/api/v1/footage", params={"sha256": "a" * 64}, headers=headers).status_code == 403

    @pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 65])
    def test_a_hash_that_is_not_sha256_is_refused_with_a_sentence(
        self, bad: str, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.get(
            "/api/v1/footage", params={"sha256": bad}, headers=headers_for(factory, Role.OFFICER)
        )
        assert response.status_code == 422
        assert (
            response.json()["detail"][0]["msg"] == "A SHA-256 digest is 64 hexadecimal characters (0-9, a-f)."
        )
