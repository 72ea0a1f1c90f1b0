"""Tagging clips (category, incident number) and what keeps them (evidence flag, legal hold, case
reference) through the API, on each database: who may, and the audit event keeping the old value."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import AuditAction
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.policy import Role
from openbwv.storage import open_store
from tests.builders import headers_for, make_officer
from tests.footage.helpers import events, holder_of_camera, run_ingest, upload
from tests.uploads.helpers import source_bytes


@pytest.fixture
def owned(settings: Settings, factory: sessionmaker[Session], tmp_path: Path) -> tuple[int, dict[str, str]]:
    """A clip attributed to the officer holding the camera: its id and that officer's headers."""
    officer, serial = holder_of_camera(factory, collar="7101")
    data = source_bytes(50_000, seed=3)
    run_ingest(settings, factory, upload(open_store(settings), data, camera_serial=serial))
    with factory() as db:
        clip_id = db.scalars(select(Clip.id)).one()
    return clip_id, headers_for(factory, Role.OFFICER, officer=officer)


def _colleague(factory: sessionmaker[Session]) -> dict[str, str]:
    with transaction(factory) as db:
        officer = make_officer(db, collar="7102")
    return headers_for(factory, Role.OFFICER, officer=officer)


class TestListCategories:
    def test_officers_read_the_categories_and_their_periods(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.get("/api/v1/footage/categories", headers=headers_for(factory, Role.OFFICER))
        assert response.status_code == 200
        by_code = {c["code"]: c for c in response.json()}
        assert by_code["non_evidential"]["retention_days"] == 31
        assert by_code["domestic_abuse"]["retention_days"] is None
        assert by_code["domestic_abuse"]["mopi_group"] == 2

    def test_refuses_anonymous_and_roles_without_tagging(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/api/v1/footage/categories").status_code == 401
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        assert client.get("/api/v1/footage/categories", headers=headers).status_code == 403


class TestTagClip:
    def test_the_owner_tags_their_clip_and_each_change_keeps_the_old_value(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, headers = owned
        first = client.patch(
            f"/api/v1/footage/{clip_id}/tags",
            json={"category": "use_of_force", "incident_number": "INC-0412"},
            headers=headers,
        )
        assert first.status_code == 200, first.text
        assert (first.json()["category"], first.json()["incident_number"]) == ("use_of_force", "INC-0412")
        second = client.patch(
            f"/api/v1/footage/{clip_id}/tags",
            json={"category": "public_order", "note": "Wrong"},
            headers=headers,
        )
        assert (second.json()["category"], second.json()["incident_number"]) == ("public_order", "INC-0412")
        with factory() as db:
            tagged = events(db, "footage:clip:tagged")
        assert [e.details["category"] for e in tagged] == [
            {"old": None, "new": "use_of_force"},
            {"old": "use_of_force", "new": "public_order"},
        ]
        assert tagged[0].details["incident_number"] == {"old": None, "new": "INC-0412"}
        assert "incident_number" not in tagged[1].details and tagged[1].reason == "Wrong"

    def test_a_tag_that_changes_nothing_is_not_audited(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, headers = owned
        client.patch(f"/api/v1/footage/{clip_id}/tags", json={"incident_number": "A1"}, headers=headers)
        client.patch(f"/api/v1/footage/{clip_id}/tags", json={"incident_number": " A1 "}, headers=headers)
        with factory() as db:
            assert len(events(db, "footage:clip:tagged")) == 1

    def test_a_colleague_and_a_missing_clip_get_404(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, headers = owned
        body = {"category": "incident"}
        assert (
            client.patch(
                f"/api/v1/footage/{clip_id}/tags", json=body, headers=_colleague(factory)
            ).status_code
            == 404
        )
        assert client.patch("/api/v1/footage/999999/tags", json=body, headers=headers).status_code == 404

    def test_an_unknown_category_is_refused(
        self, client: TestClient, owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, headers = owned
        response = client.patch(
            f"/api/v1/footage/{clip_id}/tags", json={"category": "nonsense"}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "category"]

    def test_an_evidence_manager_tags_any_clip_and_others_are_refused(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, _ = owned
        body = {"category": None, "incident_number": "X"}
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        assert client.patch(f"/api/v1/footage/{clip_id}/tags", json=body, headers=headers).status_code == 200
        assert client.patch(f"/api/v1/footage/{clip_id}/tags", json=body).status_code == 401
        auditor = headers_for(factory, Role.AUDITOR)
        assert client.patch(f"/api/v1/footage/{clip_id}/tags", json=body, headers=auditor).status_code == 403


@pytest.mark.parametrize(
    ("path", "on", "off", "field", "action_on", "action_off"),
    [
        (
            "evidence",
            {"flagged": True},
            {"flagged": False},
            "evidence_flag",
            AuditAction.FOOTAGE_CLIP_EVIDENCE_FLAGGED,
            AuditAction.FOOTAGE_CLIP_EVIDENCE_UNFLAGGED,
        ),
        (
            "hold",
            {"held": True},
            {"held": False},
            "legal_hold",
            AuditAction.FOOTAGE_CLIP_HOLD_PLACED,
            AuditAction.FOOTAGE_CLIP_HOLD_RELEASED,
        ),
    ],
)
class TestKeepingSwitches:
    def test_an_evidence_manager_switches_it_on_and_off_with_a_reason(
        self,
        path: str,
        on: dict[str, bool],
        off: dict[str, bool],
        field: str,
        action_on: str,
        action_off: str,
        client: TestClient,
        factory: sessionmaker[Session],
        owned: tuple[int, dict[str, str]],
    ) -> None:
        clip_id, _ = owned
        headers = headers_for(factory, Role.EVIDENCE_MANAGER, username="evidence.mgr")
        response = client.put(
            f"/api/v1/footage/{clip_id}/{path}", json={**on, "reason": "R v Smith"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()[field] is True
        response = client.put(
            f"/api/v1/footage/{clip_id}/{path}", json={**off, "reason": "Case closed"}, headers=headers
        )
        assert response.json()[field] is False
        with factory() as db:
            [placed] = events(db, action_on)
            [lifted] = events(db, action_off)
            clip = db.get(Clip, clip_id)
            assert clip is not None and getattr(clip, field) is False
        assert (placed.reason, placed.details[field]) == ("R v Smith", {"old": False, "new": True})
        assert (
            lifted.actor_username,
            lifted.target_type,
            lifted.target_id,
            lifted.reason,
            lifted.details,
        ) == (
            "evidence.mgr",
            "clip",
            str(clip_id),
            "Case closed",
            {"sha256": clip.sha256, field: {"old": True, "new": False}},
        )

    def test_the_owner_may_not_and_a_reason_is_required(
        self,
        path: str,
        on: dict[str, bool],
        off: dict[str, bool],
        field: str,
        action_on: str,
        action_off: str,
        client: TestClient,
        factory: sessionmaker[Session],
        owned: tuple[int, dict[str, str]],
    ) -> None:
        clip_id, headers = owned
        assert (
            client.put(
                f"/api/v1/footage/{clip_id}/{path}", json={**on, "reason": "x"}, headers=headers
            ).status_code
            == 403
        )
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        assert client.put(f"/api/v1/footage/{clip_id}/{path}", json=on, headers=manager).status_code == 422
        assert (
            client.put(
                f"/api/v1/footage/{clip_id}/{path}", json={**on, "reason": "  "}, headers=manager
            ).status_code
            == 422
        )
        assert (
            client.put(
                f"/api/v1/footage/999999/{path}", json={**on, "reason": "x"}, headers=manager
            ).status_code
            == 404
        )


class TestLinkCase:
    def test_linking_and_unlinking_keeps_the_old_reference(
        self, client: TestClient, factory: sessionmaker[Session], owned: tuple[int, dict[str, str]]
    ) -> None:
        clip_id, _ = owned
        headers = headers_for(factory, Role.EVIDENCE_MANAGER)
        linked = client.put(
            f"/api/v1/footage/{clip_id}/case",
            json={"case_reference": "20/1/26", "reason": "Charged"},
            headers=headers,
        )
        assert linked.json()["case_reference"] == "20/1/26"
        unlinked = client.put(
            f"/api/v1/footage/{clip_id}/case",
            json={"case_reference": None, "reason": "Closed"},
            headers=headers,
        )
        assert unlinked.json()["case_reference"] is None
        with factory() as db:
            assert [e.details["case_reference"] for e in events(db, "footage:clip:case_linked")] == [
                {"old": None, "new": "20/1/26"},
                {"old": "20/1/26", "new": None},
            ]
