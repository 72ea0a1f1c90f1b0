"""Playback and download with a stated reason: Range requests answer exactly the original's bytes on
local disk and S3, one grant and one audit event per viewing session, refusals, downloads with the
clip's SHA-256 and the tlog-proof of their audit event, and each footage record rule through the API
(one who may, one who may not) on both databases."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access, audit, auth, people
from openbwv.app import create_app
from openbwv.audit import log, proof_file
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.jobs import JobRegistry
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM, Actor, Role
from openbwv.storage import open_store
from openbwv.storage.sealing import SealedStore
from tests.builders import make_officer, make_unit, make_user
from tests.footage.helpers import (
    BYTES,
    demo_clip,
    events,
    holder_of_camera,
    make_stored_clip,
    run_ingest,
    upload,
)
from tests.s3 import BUCKET

CHUNK = 1024
REASON = {"reason": "evidential-review", "incident_number": "20261126-0042"}


@pytest.fixture(autouse=True)
def default_reasons(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        access.seed_default_reasons(db)


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    actor: Actor


def caller(factory: sessionmaker[Session], *roles: Role, officer: Officer | None = None) -> Caller:
    with transaction(factory) as db:
        user = make_user(db, roles=list(roles), officer=officer)
        token = auth.issue_token(db, user, kind="api", ttl=timedelta(hours=1))
        actor = auth.actor_for(user)
    return Caller({"Authorization": f"Bearer {token}"}, actor)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


# A stored clip


@pytest.fixture(params=["local", "s3"])
def stored_on(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "local":
        return settings
    request.getfixturevalue("s3_endpoint")
    return settings.model_copy(update={"storage_url": f"s3://{BUCKET}/{uuid.uuid4().hex}"})


@pytest.fixture
def app_on(stored_on: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(stored_on, factory, jobs=JobRegistry())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@dataclass(frozen=True)
class Stored:
    clip_id: int
    data: bytes
    part_size: int
    owner: Caller


@pytest.fixture
def stored(stored_on: Settings, factory: sessionmaker[Session], tmp_path: Path) -> Stored:
    """A real clip ingested from an upload of three parts sealed in 1 KiB chunks: ranges can
    straddle both chunks and parts."""
    officer, serial = holder_of_camera(factory, collar="7001")
    video = demo_clip(tmp_path)
    small_chunks = SealedStore(
        open_store(stored_on).raw,  # type: ignore[attr-defined]
        stored_on.resolved_storage_master_key,
        chunk_size=CHUNK,
    )
    run_ingest(stored_on, factory, upload(small_chunks, video, camera_serial=serial, parts=3))
    with transaction(factory) as db:
        clip_id = db.scalar(select(Clip.id).where(Clip.sha256 == hashlib.sha256(video).hexdigest()))
    assert clip_id is not None
    return Stored(clip_id, video, -(-len(video) // 3), caller(factory, Role.OFFICER, officer=officer))


def _content(clip_id: int) -> str:
    return f"/api/v1/footage/{clip_id}/content"


class TestPlayClipRanges:
    def test_the_whole_clip_is_the_original(self, app_on: TestClient, stored: Stored) -> None:
        answer = app_on.get(_content(stored.clip_id), params=REASON, headers=stored.owner.headers)
        assert answer.status_code == 200
        assert answer.content == stored.data
        assert answer.headers["accept-ranges"] == "bytes"
        assert answer.headers["content-type"] == "video/mp4"

    def test_ranges_answer_exactly_the_requested_bytes(self, app_on: TestClient, stored: Stored) -> None:
        size, part = len(stored.data), stored.part_size
        assert size > 3 * CHUNK
        wanted = [
            (0, 0),
            (0, 99),
            (CHUNK - 10, CHUNK + 9),  # straddles two sealed chunks
            (CHUNK - 1, 3 * CHUNK),  # spans whole chunks
            (part - 5, part + 5),  # straddles two parts
            (part - CHUNK - 3, 2 * part + 7),  # spans a whole part
            (size - 1, size - 1),
        ]
        for first, last in wanted:
            answer = app_on.get(
                _content(stored.clip_id),
                params=REASON,
                headers={**stored.owner.headers, "Range": f"bytes={first}-{last}"},
            )
            assert answer.status_code == 206, (first, last)
            assert answer.content == stored.data[first : last + 1], (first, last)
            assert answer.headers["content-range"] == f"bytes {first}-{last}/{size}"
            assert answer.headers["content-length"] == str(last - first + 1)

    def test_open_and_suffix_ranges(self, app_on: TestClient, stored: Stored) -> None:
        size = len(stored.data)
        headers = stored.owner.headers
        tail = app_on.get(
            _content(stored.clip_id), params=REASON, headers={**headers, "Range": f"bytes={CHUNK + 1}-"}
        )
        assert (tail.status_code, tail.content) == (206, stored.data[CHUNK + 1 :])
        last = app_on.get(
            _content(stored.clip_id), params=REASON, headers={**headers, "Range": "bytes=-5000"}
        )
        assert (last.status_code, last.content) == (206, stored.data[-5000:])
        assert last.headers["content-range"] == f"bytes {size - 5000}-{size - 1}/{size}"
        past = app_on.get(
            _content(stored.clip_id), params=REASON, headers={**headers, "Range": f"bytes={size}-"}
        )
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{size}"

    def test_one_grant_and_one_viewing_event_cover_a_session_of_range_requests(
        self, app_on: TestClient, stored: Stored, factory: sessionmaker[Session]
    ) -> None:
        grants = set()
        for first in (0, 1000, 5000):
            answer = app_on.get(
                _content(stored.clip_id),
                params=REASON,
                headers={**stored.owner.headers, "Range": f"bytes={first}-{first + 99}"},
            )
            assert answer.status_code == 206
            grants.add(answer.headers["x-access-grant"])
        assert len(grants) == 1
        with transaction(factory) as db:
            viewed = events(db, "footage:clip:viewed")
            granted = events(db, "access:grant:granted")
        assert len(viewed) == 1 and len(granted) == 1
        [event] = viewed
        assert event.actor_username == stored.owner.actor.username
        assert (event.target_type, event.target_id) == ("clip", str(stored.clip_id))
        assert event.reason == "evidential-review; incident 20261126-0042"
        assert event.details["grant"] == int(grants.pop())
        assert event.details["incident_number"] == "20261126-0042"


class TestDownloadClip:
    def test_a_download_carries_the_sha256_and_the_proof_of_its_audit_event(
        self, app_on: TestClient, stored: Stored, stored_on: Settings, factory: sessionmaker[Session]
    ) -> None:
        answer = app_on.get(
            f"/api/v1/footage/{stored.clip_id}/download", params=REASON, headers=stored.owner.headers
        )
        assert answer.status_code == 200
        assert answer.content == stored.data
        digest = hashlib.sha256(stored.data)
        assert answer.headers["x-content-sha256"] == digest.hexdigest()
        assert answer.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"
        assert "attachment" in answer.headers["content-disposition"]
        event_id = int(answer.headers["x-audit-event"])
        with transaction(factory) as db:
            [exported] = events(db, "footage:clip:exported")
        assert exported.id == event_id
        assert exported.details["sha256"] == digest.hexdigest()
        proof = proof_file.parse_proof(base64.b64decode(answer.headers["x-audit-proof"]))
        checked = proof_file.check_proof(proof, verifier=log.log_signer(stored_on).verifier())
        assert b"footage:clip:exported" in checked.leaf
        assert str(event_id).encode() in checked.leaf

    def test_each_download_is_an_export_event_of_its_own_with_the_reason_and_the_size(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        recorded = []
        for _ in range(2):
            answer = client.get(f"/api/v1/footage/{clip_id}/download", params=REASON, headers=owner.headers)
            assert (answer.status_code, answer.content) == (200, BYTES)
            recorded.append(int(answer.headers["x-audit-event"]))
        with transaction(factory) as db:
            exported = events(db, "footage:clip:exported")
            [granted] = events(db, "access:grant:granted")
            clip = db.get(Clip, clip_id)
            assert clip is not None
            sha256 = clip.sha256
        assert [e.id for e in exported] == recorded
        for event in exported:
            assert event.actor_username == owner.actor.username
            assert (event.target_type, event.target_id) == ("clip", str(clip_id))
            assert event.reason == "evidential-review; incident 20261126-0042"
            assert event.details == {
                "clip_id": clip_id,
                "sha256": sha256,
                "grant": granted.details["grant"],
                "reason_code": "evidential-review",
                "incident_number": "20261126-0042",
                "subject_officer_id": team[0].id,
                "size": len(BYTES),
            }


class TestViewingSession:
    def test_a_download_then_the_player_records_one_viewing_and_its_range_requests_none(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        download = client.get(f"/api/v1/footage/{clip_id}/download", params=REASON, headers=owner.headers)
        assert download.status_code == 200
        for first in (None, 0, 100):
            ranged = {} if first is None else {"Range": f"bytes={first}-{first + 9}"}
            answer = client.get(_content(clip_id), params=REASON, headers={**owner.headers, **ranged})
            assert answer.status_code == (200 if first is None else 206)
        with transaction(factory) as db:
            [exported] = events(db, "footage:clip:exported")
            [viewed] = events(db, "footage:clip:viewed")
        assert viewed.id > exported.id
        assert (viewed.actor_username, viewed.target_type, viewed.target_id) == (
            owner.actor.username,
            "clip",
            str(clip_id),
        )
        assert viewed.details["grant"] == exported.details["grant"] == int(answer.headers["x-access-grant"])

    def test_the_callers_session_is_found_however_many_viewings_by_others_or_of_other_clips_follow(
        self, settings: Settings, factory: sessionmaker[Session], team: tuple[Officer, ...]
    ) -> None:
        """The player's Range requests find the session from the newest viewing events: those of
        other people watching the same clip since, and of the caller watching other clips since,
        must not hide the caller's own and make each request a new viewing."""
        from openbwv.footage import playback

        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        reason = playback.Reason("evidential-review", "20261126-0042")
        with transaction(factory) as db:
            started = playback.open_playback(
                db, owner.actor, clip_id=clip_id, reason=reason, durations=access.GrantDurations()
            )
            crowd = playback.HISTORY_SHOWN
            for n in range(crowd):
                # Another person's viewing of the clip, and the caller's of another clip, each
                # under a grant of its own.
                for who, target in (
                    (Actor(username=f"viewer.{n}", roles=frozenset({Role.INVESTIGATOR})), clip_id),
                    (owner.actor, clip_id + 1 + n),
                ):
                    audit.record(
                        db,
                        actor=who,
                        action=audit.AuditAction.FOOTAGE_CLIP_VIEWED,
                        target=audit.Target("clip", str(target)),
                        reason="evidential-review; incident 20261126-0042",
                        details={"clip_id": target, "grant": started.grant_id + 1 + n},
                    )
            db.flush()
            assert playback.current_playback(db, owner.actor, clip_id=clip_id, reason=reason) == started
            assert (
                playback.open_playback(
                    db, owner.actor, clip_id=clip_id, reason=reason, durations=access.GrantDurations()
                )
                == started
            )
            mine = [
                e
                for e in events(db, "footage:clip:viewed")
                if e.actor_username == owner.actor.username and e.target_id == str(clip_id)
            ]
        assert [e.details["grant"] for e in mine] == [started.grant_id]


# Refusals and record rules, on a clip whose bytes are a few stored bytes


@pytest.fixture
def team(factory: sessionmaker[Session]) -> tuple[Officer, Officer, Officer]:
    """An owner, a colleague in the same unit, and an officer of another unit."""
    with transaction(factory) as db:
        unit = make_unit(db, code="NPT1", name="Neighbourhood", kind="neighbourhood")
        other = make_unit(db, code="RESP2")
        return (
            make_officer(db, collar="7001", unit=unit),
            make_officer(db, collar="7002", unit=unit),
            make_officer(db, collar="7003", unit=other),
        )


def grant(factory: sessionmaker[Session], who: Caller, clip_id: int, reason: str) -> None:
    with transaction(factory) as db:
        access.grant_access(
            db,
            who.actor,
            record=access.AccessRecord("footage", str(clip_id)),
            kind="footage_view",
            reason_code=reason,
            incident_number="20261126-0042",
        )


class TestPlayClipRefusals:
    def test_anonymous_is_refused(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None)
        assert client.get(_content(clip_id), params=REASON).status_code == 401

    def test_no_reason_is_422(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        answer = client.get(_content(clip_id), headers=owner.headers)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", "reason"]

    def test_a_reason_the_force_forbids_for_viewing_footage_is_403_naming_the_rule(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        with transaction(factory) as db:
            access.create_reason(
                db,
                SYSTEM,
                code="welfare-check",
                label="Welfare",
                permits=["live_view"],
                forbids=["footage_view"],
            )
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        answer = client.get(
            _content(clip_id), params={**REASON, "reason": "welfare-check"}, headers=owner.headers
        )
        assert answer.status_code == 403
        assert answer.json()["detail"]["rule"] == "reason_forbids_kind"
        assert "welfare-check" in answer.json()["detail"]["message"]
        with transaction(factory) as db:
            assert events(db, "access:grant:granted") == []

    def test_a_reason_that_does_not_permit_viewing_footage_is_403(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        answer = client.get(
            _content(clip_id), params={**REASON, "reason": "officer-safety"}, headers=owner.headers
        )
        assert answer.status_code == 403
        assert answer.json()["detail"]["rule"] == "reason_does_not_permit_kind"

    def test_an_unknown_reason_is_422_and_a_missing_statement_too(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        owner = caller(factory, Role.OFFICER, officer=team[0])
        unknown = client.get(_content(clip_id), params={"reason": "curiosity"}, headers=owner.headers)
        assert unknown.status_code == 422
        bare = client.get(_content(clip_id), params={"reason": "evidential-review"}, headers=owner.headers)
        assert bare.status_code == 422

    def test_a_missing_clip_is_404(
        self, client: TestClient, factory: sessionmaker[Session], team: tuple[Officer, ...]
    ) -> None:
        owner = caller(factory, Role.OFFICER, officer=team[0])
        answer = client.get(_content(999999), params=REASON, headers=owner.headers)
        assert (answer.status_code, answer.json()) == (404, {"detail": "No such clip."})

    @pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.PROSECUTOR])
    def test_panel_members_and_prosecutors_never_play_from_the_library(
        self, role: Role, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None, held=True)
        outsider = caller(factory, role)
        assert client.get(_content(clip_id), params=REASON, headers=outsider.headers).status_code == 403


class TestWhoMayPlay:
    """Each footage record rule: one caller it lets through, and the nearest one it does not, who
    is answered 404 exactly like a missing clip."""

    def _plays(self, client: TestClient, who: Caller, clip_id: int) -> int:
        answer = client.get(_content(clip_id), params=REASON, headers=who.headers)
        if answer.status_code == 404:
            assert answer.json() == {"detail": "No such clip."}
        else:
            assert answer.content == BYTES
        return answer.status_code

    def test_officer_sees_own_footage(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        owner, colleague, _ = team
        clip_id = make_stored_clip(factory, settings, officer=owner)
        assert self._plays(client, caller(factory, Role.OFFICER, officer=owner), clip_id) == 200
        assert self._plays(client, caller(factory, Role.OFFICER, officer=colleague), clip_id) == 404

    def test_supervisor_sees_their_teams_footage(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        owner, colleague, outsider = team
        clip_id = make_stored_clip(factory, settings, officer=owner)
        assert self._plays(client, caller(factory, Role.SUPERVISOR, officer=colleague), clip_id) == 200
        assert self._plays(client, caller(factory, Role.SUPERVISOR, officer=outsider), clip_id) == 404
        # The same unit is not enough without the supervisor's role.
        with transaction(factory) as db:
            constable = make_officer(db, collar="7004", unit=people.get_unit(db, "NPT1"))
        assert self._plays(client, caller(factory, Role.OFFICER, officer=constable), clip_id) == 404

    def test_evidence_manager_sees_footage_held_for_review(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None, held=True)
        assert self._plays(client, caller(factory, Role.EVIDENCE_MANAGER), clip_id) == 200
        assert self._plays(client, caller(factory, Role.SUPERVISOR), clip_id) == 404

    def test_evidence_manager_sees_footage_through_a_grant_of_access(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        granted, other = caller(factory, Role.EVIDENCE_MANAGER), caller(factory, Role.EVIDENCE_MANAGER)
        grant(factory, granted, clip_id, "evidential-review")
        assert self._plays(client, granted, clip_id) == 200
        assert self._plays(client, other, clip_id) == 404
        # Stating a reason to the player is no way round it: no grant is made for a hidden clip.
        with transaction(factory) as db:
            assert len(events(db, "access:grant:granted")) == 1

    def test_investigator_sees_footage_through_a_grant_of_access(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        granted, other = caller(factory, Role.INVESTIGATOR), caller(factory, Role.INVESTIGATOR)
        grant(factory, granted, clip_id, "investigation")
        assert self._plays(client, granted, clip_id) == 200
        assert self._plays(client, other, clip_id) == 404

    def test_professional_standards_see_footage_through_a_complaint_or_conduct_grant(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        complaint = caller(factory, Role.PROFESSIONAL_STANDARDS)
        other_reason = caller(factory, Role.PROFESSIONAL_STANDARDS)
        grant(factory, complaint, clip_id, "complaint-investigation")
        grant(factory, other_reason, clip_id, "investigation")
        assert self._plays(client, complaint, clip_id) == 200
        assert self._plays(client, other_reason, clip_id) == 404

    def test_a_grant_for_another_clip_shows_nothing(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        other_clip = make_stored_clip(factory, settings, officer=team[1])
        manager = caller(factory, Role.EVIDENCE_MANAGER)
        grant(factory, manager, other_clip, "evidential-review")
        assert self._plays(client, manager, clip_id) == 404

    def test_the_single_read_and_policy_on_the_record_agree(
        self, settings: Settings, factory: sessionmaker[Session], team: tuple[Officer, ...]
    ) -> None:
        from openbwv.footage import playback

        owner, colleague, outsider = team
        clip_id = make_stored_clip(factory, settings, officer=owner)
        with transaction(factory) as db:
            sergeant = make_officer(db, collar="7005", rank="sergeant", unit=people.get_unit(db, "NPT1"))
        callers = [
            caller(factory, Role.OFFICER, officer=owner),
            caller(factory, Role.OFFICER, officer=colleague),
            caller(factory, Role.SUPERVISOR, officer=sergeant),
            caller(factory, Role.SUPERVISOR, officer=outsider),
            caller(factory, Role.EVIDENCE_MANAGER),
            caller(factory, Role.PROFESSIONAL_STANDARDS),
        ]
        grant(factory, callers[5], clip_id, "complaint-investigation")
        with transaction(factory) as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            seen = [playback.get_clip(db, c.actor, clip_id) is not None for c in callers]
            decided = [playback.may_see(db, c.actor, clip) for c in callers]
        assert seen == decided == [True, False, True, False, False, True]

    def test_for_a_clip_nobody_held_the_two_agree_too(
        self, settings: Settings, factory: sessionmaker[Session], team: tuple[Officer, ...]
    ) -> None:
        """A camera's clip from a time it was issued to no one (pooled, in the armoury) has no
        officer, so no unit: no officer or supervisor sees it by team, nor an evidence manager while
        it is neither held nor granted; a grant opens it."""
        from openbwv.footage import playback

        clip_id = make_stored_clip(factory, settings, officer=None)
        with transaction(factory) as db:
            sergeant = make_officer(db, collar="7006", rank="sergeant", unit=people.get_unit(db, "NPT1"))
        callers = [
            caller(factory, Role.OFFICER, officer=team[0]),
            caller(factory, Role.SUPERVISOR, officer=sergeant),
            caller(factory, Role.EVIDENCE_MANAGER),
            caller(factory, Role.PROFESSIONAL_STANDARDS),
        ]
        grant(factory, callers[3], clip_id, "complaint-investigation")
        with transaction(factory) as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            seen = [playback.get_clip(db, c.actor, clip_id) is not None for c in callers]
            decided = [playback.may_see(db, c.actor, clip) for c in callers]
        assert seen == decided == [False, False, False, True]


class TestClipPictures:
    def test_the_poster_is_shown_only_within_a_grant_and_only_to_who_may_see_the_clip(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        team: tuple[Officer, ...],
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=team[0])
        with transaction(factory) as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            clip.poster_key = clip.storage_key
        owner = caller(factory, Role.OFFICER, officer=team[0])
        colleague = caller(factory, Role.OFFICER, officer=team[1])
        poster = f"/api/v1/footage/{clip_id}/poster"
        assert client.get(poster, headers=owner.headers).status_code == 403
        assert client.get(_content(clip_id), params=REASON, headers=owner.headers).status_code == 200
        shown = client.get(poster, headers=owner.headers)
        assert (shown.status_code, shown.headers["content-type"], shown.content) == (200, "image/jpeg", BYTES)
        assert client.get(poster, headers=colleague.headers).status_code == 404
        strip = client.get(f"/api/v1/footage/{clip_id}/thumbnails", headers=owner.headers)
        assert (strip.status_code, strip.json()) == (404, {"detail": "No such thumbnails."})
