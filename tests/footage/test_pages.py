"""The arrivals page: evidence managers see recent clips' metadata, and every view is audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.policy import Role
from tests.builders import make_officer
from tests.footage.helpers import RECORDED_AT, events
from tests.web.helpers import HTML, sign_in


def make_clip(factory: sessionmaker[Session], *, collar: str | None, n: int = 0) -> int:
    with transaction(factory) as db:
        officer = make_officer(db, collar=collar) if collar else None
        clip = Clip(
            sha256=f"{n:064x}",
            size=1000,
            storage_key=f"clips/{n:064x}",
            camera_serial="CAM-ARRIVE",
            officer_id=officer.id if officer else None,
            recorded_at=RECORDED_AT + timedelta(minutes=n),
            ingest_state="ready",
            duration_s=3.0,
        )
        db.add(clip)
        db.flush()
        return clip.id


class TestArrivalsPage:
    def test_anonymous_is_sent_to_sign_in(self, client: TestClient) -> None:
        answer = client.get("/footage/arrivals", headers=HTML, follow_redirects=False)
        assert answer.status_code in (303, 401)

    def test_an_officer_is_refused(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in(client, factory, Role.OFFICER)
        assert client.get("/footage/arrivals", headers=HTML).status_code == 403

    def test_an_evidence_manager_sees_recent_clips_and_the_view_is_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        first = make_clip(factory, collar="7001", n=1)
        second = make_clip(factory, collar=None, n=2)
        sign_in(client, factory, Role.EVIDENCE_MANAGER)

        answer = client.get("/footage/arrivals", headers=HTML)

        assert answer.status_code == 200
        assert 'href="/footage/arrivals"' in answer.text
        assert "CAM-ARRIVE" in answer.text and "7001" in answer.text and "not attributed" in answer.text
        assert "3.0 s" in answer.text
        with factory() as db:
            [viewed] = events(db, "footage:arrivals:viewed")
        assert viewed.details["clip_ids"] == [second, first]  # newest first

    def test_nothing_yet(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in(client, factory, Role.EVIDENCE_MANAGER)
        assert "No clips have arrived yet." in client.get("/footage/arrivals", headers=HTML).text
