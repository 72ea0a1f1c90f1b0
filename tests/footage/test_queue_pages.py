"""An officer's footage, a supervisor's team's untagged clips and the evidence manager's queue as
pages: who may open each, what they show, and the tag form's round trip (CSRF, refusals redrawn)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, people
from openbwv.db import transaction
from openbwv.footage.models import Clip, ClipSource, FootageCategory
from openbwv.people.models import Officer
from openbwv.policy import Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_unit, make_user
from tests.footage.helpers import events
from tests.web.helpers import HTML, csrf, sign_in


def add_clip(
    factory: sessionmaker[Session], officer: Officer | None, *, days_ago: float = 1, **columns: object
) -> int:
    sha = uuid.uuid4().hex * 2
    values: dict[str, object] = {"ingest_state": "ready", "camera_serial": "CAM-PAGE", **columns}
    with transaction(factory) as db:
        clip = Clip(
            sha256=sha,
            size=1000,
            storage_key=f"clips/{sha}",
            officer_id=officer.id if officer else None,
            recorded_at=clock.now() - timedelta(days=days_ago),
            **values,
        )
        db.add(clip)
        db.flush()
        return clip.id


def officer_in(factory: sessionmaker[Session], collar: str, unit: str = "RESP") -> Officer:
    with transaction(factory) as db:
        found = people.get_unit(db, unit) or make_unit(db, code=unit)
        return make_officer(db, collar=collar, unit=found)


def sign_in_as(client: TestClient, factory: sessionmaker[Session], role: Role, officer: Officer) -> None:
    username = f"u{officer.collar_number}"
    with transaction(factory) as db:
        make_user(db, username=username, roles=[role], officer=officer)
    answer = client.post(
        "/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": csrf(client, "/login")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def clip_row(factory: sessionmaker[Session], clip_id: int) -> Clip:
    with factory() as db:
        clip = db.get(Clip, clip_id)
        assert clip is not None
        db.expunge(clip)
        return clip


class TestMyFootagePage:
    def test_anonymous_is_sent_to_sign_in_and_a_role_without_tagging_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/footage/mine", headers=HTML, follow_redirects=False).status_code == 303
        sign_in(client, factory, Role.EQUIPMENT_MANAGER)
        assert client.get("/footage/mine", headers=HTML).status_code == 403

    def test_an_officer_sees_their_clips_with_when_each_is_due(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner, colleague = officer_in(factory, "7401"), officer_in(factory, "7402")
        due = add_clip(factory, owner, days_ago=28)
        kept = add_clip(factory, owner, days_ago=2, evidence_flag=True)
        hidden = add_clip(factory, colleague)
        sign_in_as(client, factory, Role.OFFICER, owner)

        page = client.get("/footage/mine", headers=HTML)

        assert page.status_code == 200
        assert 'href="/footage/mine"' in page.text
        assert f'data-testid="clip-{due}"' in page.text and f'data-testid="clip-{kept}"' in page.text
        assert f'data-testid="clip-{hidden}"' not in page.text
        when = clip_row(factory, due).recorded_at + timedelta(days=31)
        assert when.strftime("%Y-%m-%d %H:%M") in page.text
        assert "kept <small>(flagged as evidence)</small>" in page.text
        soon = client.get("/footage/mine?due=7", headers=HTML).text
        assert f'data-testid="clip-{due}"' in soon and f'data-testid="clip-{kept}"' not in soon

    def test_the_tag_form_round_trip_is_audited(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner = officer_in(factory, "7403")
        clip_id = add_clip(factory, owner)
        sign_in_as(client, factory, Role.OFFICER, owner)
        answer = client.post(
            f"/footage/clips/{clip_id}/tags",
            data={
                "category": "use_of_force",
                "incident_number": "INC-0412",
                "back": "mine",
                "csrf_token": csrf(client, "/footage/mine"),
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, f"/footage/mine#clip-{clip_id}")
        clip = clip_row(factory, clip_id)
        with factory() as db:
            assert db.get(FootageCategory, clip.category_id).code == "use_of_force"  # type: ignore[union-attr]
            [tagged] = events(db, "footage:clip:tagged")
        assert clip.incident_number == "INC-0412"
        assert tagged.details["category"] == {"old": None, "new": "use_of_force"}
        assert (
            "kept <small>(use_of_force: evidential, kept (MoPI group 2))</small>"
            in client.get("/footage/mine", headers=HTML).text
        )

    def test_a_form_without_the_token_is_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner = officer_in(factory, "7404")
        clip_id = add_clip(factory, owner)
        sign_in_as(client, factory, Role.OFFICER, owner)
        answer = client.post(
            f"/footage/clips/{clip_id}/tags",
            data={"category": "incident"},
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 403
        assert clip_row(factory, clip_id).category_id is None

    def test_a_refused_tag_redraws_the_list_with_the_reason_and_what_was_entered(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner = officer_in(factory, "7405")
        clip_id = add_clip(factory, owner)
        sign_in_as(client, factory, Role.OFFICER, owner)
        answer = client.post(
            f"/footage/clips/{clip_id}/tags",
            data={
                "category": "no_such",
                "incident_number": "INC-9",
                "csrf_token": csrf(client, "/footage/mine"),
            },
            headers=HTML,
        )
        assert answer.status_code == 422
        assert f"Clip {clip_id} was not tagged: category: No such category." in answer.text
        assert 'value="INC-9"' in answer.text
        with factory() as db:
            assert events(db, "footage:clip:tagged") == []

    def test_tagging_a_colleagues_clip_is_not_found(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        owner, colleague = officer_in(factory, "7406"), officer_in(factory, "7407")
        clip_id = add_clip(factory, owner)
        sign_in_as(client, factory, Role.OFFICER, colleague)
        answer = client.post(
            f"/footage/clips/{clip_id}/tags",
            data={"category": "incident", "csrf_token": csrf(client, "/footage/mine")},
            headers=HTML,
        )
        assert answer.status_code == 404
        assert "No such clip." in answer.text
        assert clip_row(factory, clip_id).category_id is None


class TestUntaggedPage:
    def test_an_officer_is_refused(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in_as(client, factory, Role.OFFICER, officer_in(factory, "7410"))
        assert client.get("/footage/untagged", headers=HTML).status_code == 403

    def test_a_supervisor_sees_and_tags_their_teams_untagged_clips(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        sergeant = officer_in(factory, "7411", unit="TEAMA")
        member, outsider = (
            officer_in(factory, "7412", unit="TEAMA"),
            officer_in(factory, "7413", unit="TEAMB"),
        )
        team_clip, other = add_clip(factory, member), add_clip(factory, outsider)
        sign_in_as(client, factory, Role.SUPERVISOR, sergeant)

        page = client.get("/footage/untagged", headers=HTML)

        assert page.status_code == 200
        assert 'href="/footage/untagged"' in page.text
        assert (
            f'data-testid="clip-{team_clip}"' in page.text and f'data-testid="clip-{other}"' not in page.text
        )
        answer = client.post(
            f"/footage/clips/{team_clip}/tags",
            data={
                "category": "incident",
                "back": "untagged",
                "csrf_token": csrf(client, "/footage/untagged"),
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (
            303,
            f"/footage/untagged#clip-{team_clip}",
        )
        assert f'data-testid="clip-{team_clip}"' not in client.get("/footage/untagged", headers=HTML).text
        with factory() as db:
            assert len(events(db, "footage:queue:viewed")) == 3


class TestEvidenceQueuePage:
    def test_a_supervisor_is_refused(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        sign_in(client, factory, Role.SUPERVISOR)
        assert client.get("/footage/queue", headers=HTML).status_code == 403

    def test_an_evidence_manager_sees_the_three_sections(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        officer = officer_in(factory, "7420")
        with transaction(factory) as db:
            db.add(
                ClipSource(
                    source_kind="tus",
                    source_id="q-page",
                    device_serial="CAM-BAD",
                    declared_sha256="a" * 64,
                    received_sha256="b" * 64,
                    size=10,
                    outcome="quarantined",
                    quarantine_key="quarantine/q-page",
                    payload={},
                )
            )
        held = add_clip(factory, None, review_reason="unknown_camera", ingest_state="held_for_review")
        due = add_clip(factory, officer, days_ago=27)
        sign_in(client, factory, Role.EVIDENCE_MANAGER)

        page = client.get("/footage/queue", headers=HTML)

        assert page.status_code == 200
        assert 'href="/footage/queue"' in page.text
        assert "CAM-BAD" in page.text and "a" * 64 in page.text and "b" * 64 in page.text
        assert f'href="/footage/clips/{held}"' in page.text and "unknown_camera" in page.text
        assert f'href="/footage/clips/{due}"' in page.text and "7420" in page.text
        assert "Due for deletion within 7 days (1)" in page.text
