"""Footage for every use, on both databases: the clips inside the window and radius are linked and
kept as evidence, those outside are not; footage that docks later is linked when it is probed; a use
with no footage past the grace period becomes an exception until someone records why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.footage import Clip
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.taser import file_deployment, linking
from openbwv.taser.models import Deployment
from openbwv.taser.settings import set_setting
from tests.builders import headers_for, make_officer
from tests.taser.builders import make_clip, make_position, make_taser_holder, report, report_in

LAT, LON = 52.4862, -1.8904
NORTH_100_M = 0.0009
NORTH_1_KM = 0.009
URL = "/api/v1/taser/deployments"
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))


def _use_at() -> datetime:
    return clock.now() - timedelta(hours=1)


def _file(db: Session, collar: str) -> Deployment:
    return file_deployment(db, SERGEANT, report_in(collar, occurred_at=_use_at().isoformat()))


def _links(db: Session, deployment_id: int) -> dict[int, str]:
    return {link.clip_id: link.reason for link in linking.linked_clips(db, [deployment_id])[deployment_id]}


class TestLinkingAtFiling:
    def test_only_the_clips_inside_the_window_and_radius_are_linked_and_kept(
        self, factory: sessionmaker[Session]
    ) -> None:
        at = _use_at()
        with transaction(factory) as db:
            officer = make_taser_holder(db, collar="6201")
            colleague = make_officer(db, collar="6202").id
            far_officer = make_officer(db, collar="6203").id
            clips = {
                "own, running through the use": make_clip(
                    db, camera="CAM-OWN", officer_id=officer.id, start=at - timedelta(minutes=20), minutes=30
                ),
                "own, ended an hour before": make_clip(
                    db, camera="CAM-OWN", officer_id=officer.id, start=at - timedelta(hours=2), minutes=30
                ),
                "colleague's track 100 m away": make_clip(
                    db,
                    camera="CAM-NEAR",
                    officer_id=colleague,
                    start=at - timedelta(minutes=5),
                    minutes=10,
                    track=[(LAT + NORTH_100_M, LON)],
                ),
                "track 1 km away": make_clip(
                    db,
                    camera="CAM-FAR",
                    officer_id=far_officer,
                    start=at - timedelta(minutes=5),
                    minutes=10,
                    track=[(LAT + NORTH_1_KM, LON)],
                ),
                "no track, telemetry 50 m away": make_clip(
                    db, camera="CAM-TELE", start=at + timedelta(minutes=2), minutes=5
                ),
                "no track, telemetry 1 km away": make_clip(
                    db, camera="CAM-TELE-FAR", start=at + timedelta(minutes=2), minutes=5
                ),
            }
            make_position(
                db, camera="CAM-TELE", at=at + timedelta(minutes=1), lat=LAT + NORTH_100_M / 2, lon=LON
            )
            make_position(db, camera="CAM-TELE-FAR", at=at, lat=LAT + NORTH_1_KM, lon=LON)
            make_position(db, camera="CAM-TELE-FAR", at=at - timedelta(hours=3), lat=LAT, lon=LON)
            deployment = _file(db, "6201")
        with transaction(factory) as db:
            assert _links(db, deployment.id) == {
                clips["own, running through the use"]: "own_camera",
                clips["colleague's track 100 m away"]: "nearby_track",
                clips["no track, telemetry 50 m away"]: "nearby_telemetry",
            }
            flagged = set(db.scalars(select(Clip.id).where(Clip.evidence_flag.is_(True))))
            assert flagged == set(_links(db, deployment.id))
            events, _ = audit.list_events(
                db, where=audit.EventFilter(action="taser:footage:linked"), limit=10, offset=0
            )
            assert events[0].details["clips"] == sorted(_links(db, deployment.id))

    def test_a_wider_radius_set_by_professional_standards_links_the_farther_track(
        self, factory: sessionmaker[Session]
    ) -> None:
        at = _use_at()
        with transaction(factory) as db:
            make_taser_holder(db, collar="6211")
            far = make_clip(
                db,
                camera="CAM-FAR",
                start=at - timedelta(minutes=5),
                minutes=10,
                track=[(LAT + NORTH_1_KM, LON)],
            )
            set_setting(db, SYSTEM, "link_radius_m", 1500)
            deployment = _file(db, "6211")
        with transaction(factory) as db:
            assert _links(db, deployment.id) == {far: "nearby_track"}

    def test_the_report_shows_its_linked_clips(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        at = _use_at()
        with transaction(factory) as db:
            officer = make_taser_holder(db, collar="6221")
            clip_id = make_clip(
                db, camera="CAM-6221", officer_id=officer.id, start=at - timedelta(minutes=1), minutes=3
            )
        headers = headers_for(factory, Role.OFFICER, officer=officer)
        answer = client.post(URL, json=report("6221", occurred_at=at.isoformat()), headers=headers)
        assert answer.status_code == 201, answer.text
        [clip] = answer.json()["clips"]
        assert (clip["clip_id"], clip["reason"], clip["camera_serial"]) == (clip_id, "own_camera", "CAM-6221")
        assert client.get(f"{URL}/{answer.json()['id']}", headers=headers).json()["clips"] == [clip]


class TestLateFootage:
    def test_a_clip_probed_after_the_report_is_linked_then(self, factory: sessionmaker[Session]) -> None:
        at = _use_at()
        with transaction(factory) as db:
            officer = make_taser_holder(db, collar="6231")
            deployment = _file(db, "6231")
            assert _links(db, deployment.id) == {}
            elsewhere = make_clip(
                db,
                camera="CAM-X",
                start=at,
                minutes=5,
                track=[(LAT + NORTH_1_KM, LON)],
                probed_at=clock.now(),
            )
            docked = make_clip(
                db,
                camera="CAM-6231",
                officer_id=officer.id,
                start=at - timedelta(minutes=3),
                minutes=6,
                probed_at=clock.now(),
            )
        with transaction(factory) as db:
            assert linking.link_new_footage(db) == 1
            assert linking.link_new_footage(db) == 0
            assert _links(db, deployment.id) == {docked: "own_camera"}
            assert db.get(Clip, docked).evidence_flag  # type: ignore[union-attr]
            assert not db.get(Clip, elsewhere).evidence_flag  # type: ignore[union-attr]

    def test_a_late_clip_is_linked_by_telemetry_only_when_its_own_camera_was_near(
        self, factory: sessionmaker[Session]
    ) -> None:
        at = _use_at()
        with transaction(factory) as db:
            make_taser_holder(db, collar="6232")
            deployment = _file(db, "6232")
            make_position(db, camera="CAM-NEAR", at=at, lat=LAT + NORTH_100_M / 2, lon=LON)
            make_position(db, camera="CAM-AWAY", at=at, lat=LAT + NORTH_1_KM, lon=LON)
            near, away = (
                make_clip(
                    db, camera=camera, start=at + timedelta(minutes=1), minutes=5, probed_at=clock.now()
                )
                for camera in ("CAM-NEAR", "CAM-AWAY")
            )
        with transaction(factory) as db:
            assert linking.link_new_footage(db) == 1
            assert _links(db, deployment.id) == {near: "nearby_telemetry"}
            assert not db.get(Clip, away).evidence_flag  # type: ignore[union-attr]


class TestNoFootage:
    def test_a_use_without_footage_becomes_an_exception_after_the_grace_period(
        self, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_taser_holder(db, collar="6241")
            deployment = _file(db, "6241")
        grace = timedelta(hours=72)
        with transaction(factory) as db:
            assert linking.raise_no_footage(db, now=clock.now() + grace - timedelta(hours=2)) == 0
            assert linking.raise_no_footage(db, now=clock.now() + grace) == 1
            assert linking.raise_no_footage(db, now=clock.now() + grace) == 0
        with transaction(factory) as db:
            events, total = audit.list_events(
                db, where=audit.EventFilter(action="taser:exception:raised"), limit=10, offset=0
            )
            assert total == 1
            assert events[0].details["kind"] == "no_footage"
            assert events[0].details["deployment"] == deployment.id

    def test_footage_found_at_the_grace_period_raises_nothing_and_late_footage_closes_it(
        self, factory: sessionmaker[Session]
    ) -> None:
        at = _use_at()
        with transaction(factory) as db:
            officer = make_taser_holder(db, collar="6251")
            deployment = _file(db, "6251")
            later = clock.now() + timedelta(hours=80)
            assert linking.raise_no_footage(db, now=later) == 1
            make_clip(db, camera="CAM-6251", officer_id=officer.id, start=at, minutes=2, probed_at=later)
            assert linking.link_new_footage(db, now=later) == 1
        with transaction(factory) as db:
            from openbwv.taser.exceptions import list_exceptions

            rows, _ = list_exceptions(db, kind="no_footage", open_only=False, limit=10, offset=0)
            assert [(r.deployment_id, r.explanation, r.explained_by) for r in rows] == [
                (deployment.id, "footage_arrived", "system")
            ]


class TestExceptionsApi:
    @pytest.fixture
    def raised(self, factory: sessionmaker[Session]) -> int:
        with transaction(factory) as db:
            make_taser_holder(db, collar="6261")
            _file(db, "6261")
            linking.raise_no_footage(db, now=clock.now() + timedelta(hours=73))
        return 1

    def test_professional_standards_explain_an_exception_once(
        self, client: TestClient, factory: sessionmaker[Session], raised: int
    ) -> None:
        headers = headers_for(factory, Role.PROFESSIONAL_STANDARDS, username="psd.reviewer")
        listed = client.get("/api/v1/taser/exceptions", headers=headers).json()
        assert listed["total"] == 1
        [row] = listed["items"]
        assert (row["kind"], row["taser_serial"], row["explanation"]) == ("no_footage", "TS-6261", None)
        url = f"/api/v1/taser/exceptions/{row['id']}/explanation"
        refused = client.post(url, json={"explanation": "other"}, headers=headers)
        assert refused.status_code == 422
        assert "say what happened" in refused.text
        unknown = client.post(url, json={"explanation": "spark_test"}, headers=headers)
        assert unknown.status_code == 422
        assert "camera_not_issued" in unknown.text
        answer = client.post(
            url, json={"explanation": "not_switched_on", "text": "Camera was off"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["explained_by"] == "psd.reviewer"
        again = client.post(url, json={"explanation": "camera_failed"}, headers=headers)
        assert again.status_code == 409
        assert again.json()["detail"]["rule"] == "already_explained"
        with factory() as db:
            deployment_id = db.scalars(select(Deployment.id)).one()
            [explained] = db.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.TASER_EXCEPTION_EXPLAINED)
            ).all()
        assert (
            explained.actor_username,
            explained.target_type,
            explained.target_id,
            explained.reason,
            explained.details,
        ) == (
            "psd.reviewer",
            "taser_exception",
            str(row["id"]),
            "Camera was off",
            {"kind": "no_footage", "explanation": "not_switched_on", "deployment": deployment_id},
        )
        assert client.get("/api/v1/taser/exceptions", headers=headers).json()["total"] == 0
        assert client.get("/api/v1/taser/exceptions?open=false", headers=headers).json()["total"] == 1

    def test_officers_neither_read_nor_explain_exceptions(
        self, client: TestClient, factory: sessionmaker[Session], raised: int
    ) -> None:
        headers = headers_for(factory, Role.OFFICER)
        assert client.get("/api/v1/taser/exceptions", headers=headers).status_code == 403
        supervisor = headers_for(factory, Role.SUPERVISOR)
        assert client.get("/api/v1/taser/exceptions", headers=supervisor).status_code == 200
        assert (
            client.post(
                "/api/v1/taser/exceptions/1/explanation",
                json={"explanation": "camera_failed"},
                headers=supervisor,
            ).status_code
            == 403
        )


class TestSettingsApi:
    def test_a_setting_changes_within_its_bounds_and_is_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.PROFESSIONAL_STANDARDS)
        out_of_bounds = client.put(
            "/api/v1/taser/settings/link_radius_m", json={"value": 50_000}, headers=headers
        )
        assert out_of_bounds.status_code == 422
        assert "10 to 5000 metres" in out_of_bounds.text
        unknown = client.put("/api/v1/taser/settings/nope", json={"value": 1}, headers=headers)
        assert unknown.status_code == 422
        answer = client.put("/api/v1/taser/settings/link_radius_m", json={"value": 400}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert {s["name"]: s["value"] for s in answer.json()}["link_radius_m"] == 400
        with transaction(factory) as db:
            events, _ = audit.list_events(
                db, where=audit.EventFilter(action="taser:setting:changed"), limit=10, offset=0
            )
            assert events[0].details == {"old": 200, "new": 400, "unit": "metres"}
        supervisor = headers_for(factory, Role.SUPERVISOR)
        assert (
            client.put(
                "/api/v1/taser/settings/link_radius_m", json={"value": 300}, headers=supervisor
            ).status_code
            == 403
        )
