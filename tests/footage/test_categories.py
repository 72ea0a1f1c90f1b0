"""Categories as data the force changes, through the API on each database: who may, what is
refused, and the audit event keeping the old terms."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.policy import Role
from openbwv.storage import open_store
from tests.builders import headers_for
from tests.footage.helpers import events, holder_of_camera, run_ingest, upload
from tests.uploads.helpers import source_bytes

TERMS: dict[str, Any] = {"label": "Stop and search", "retention_days": 90}


def _categories(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in client.get("/api/v1/footage/categories", headers=headers).json()}


class TestSaveCategory:
    def test_an_evidence_manager_adds_a_category_and_changes_its_period(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        added = client.put("/api/v1/footage/categories/stop_search", json=TERMS, headers=manager)
        assert added.status_code == 200, added.text
        assert _categories(client, manager)["stop_search"]["retention_days"] == 90
        changed = client.put(
            "/api/v1/footage/categories/stop_search", json={**TERMS, "retention_days": 45}, headers=manager
        )
        assert changed.json()["retention_days"] == 45
        with factory() as db:
            saved = events(db, "footage:category:saved")
        assert [e.details["created"] for e in saved] == [True, False]
        assert saved[1].details["retention_days"] == {"old": 90, "new": 45}
        assert "label" not in saved[1].details

    def test_making_another_category_the_default_moves_the_default(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        response = client.put(
            "/api/v1/footage/categories/unreviewed",
            json={"label": "Not yet reviewed", "retention_days": 62, "is_default": True},
            headers=manager,
        )
        assert response.status_code == 200, response.text
        defaults = [code for code, c in _categories(client, manager).items() if c["is_default"]]
        assert defaults == ["unreviewed"]

    def test_the_default_is_not_taken_off_or_retired_directly(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        terms = {"label": "Non-evidential", "retention_days": 31}
        refused = client.put("/api/v1/footage/categories/non_evidential", json=terms, headers=manager)
        assert refused.status_code == 409
        assert refused.json()["detail"]["rule"] == "default_category"
        retired = client.put(
            "/api/v1/footage/categories/non_evidential",
            json={**terms, "is_default": True, "is_active": False},
            headers=manager,
        )
        assert retired.status_code == 422
        assert _categories(client, manager)["non_evidential"]["is_default"] is True

    def test_terms_that_make_no_sense_are_refused_and_nothing_changes(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        before = _categories(client, manager)
        for code, body in [
            ("kept_forever", {"label": "Kept", "retention_days": None}),
            ("bad_group", {"label": "Kept", "retention_days": None, "mopi_group": 4}),
            ("zero_days", {"label": "Gone", "retention_days": 0}),
            ("huge_days", {"label": "Gone", "retention_days": 2**70}),
            ("blank", {"label": "   ", "retention_days": 10}),
            ("Bad Code", TERMS),
            ("evidential_default", {"label": "E", "mopi_group": 1, "is_default": True}),
        ]:
            response = client.put(f"/api/v1/footage/categories/{code}", json=body, headers=manager)
            assert response.status_code == 422, (code, response.text)
        assert _categories(client, manager) == before

    def test_only_those_who_manage_retention_may(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        for role in (Role.OFFICER, Role.SUPERVISOR, Role.INVESTIGATOR):
            response = client.put(
                "/api/v1/footage/categories/stop_search", json=TERMS, headers=headers_for(factory, role)
            )
            assert response.status_code == 403

    def test_a_retired_category_tags_no_more_clips(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        manager = headers_for(factory, Role.EVIDENCE_MANAGER)
        client.put(
            "/api/v1/footage/categories/stop_search", json={**TERMS, "is_active": False}, headers=manager
        )
        officer, serial = holder_of_camera(factory, collar="7301")
        run_ingest(
            settings,
            factory,
            upload(open_store(settings), source_bytes(20_000, seed=5), camera_serial=serial),
        )
        with transaction(factory) as db:
            clip_id = db.scalars(select(Clip.id)).one()
        owner = headers_for(factory, Role.OFFICER, officer=officer)
        response = client.patch(
            f"/api/v1/footage/{clip_id}/tags", json={"category": "stop_search"}, headers=owner
        )
        assert response.status_code == 422
