"""A clip's page: metadata and audit history for whoever may see the clip, the player, pictures and
track only once a reason is stated, and a plain statement that viewing is recorded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access, audit, auth
from openbwv.audit import AuditAction, Target
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage.models import Clip
from openbwv.footage.playback import HISTORY_SHOWN
from openbwv.people.models import Officer
from openbwv.policy import SYSTEM, Role
from tests.builders import DEFAULT_PASSWORD, make_officer, make_user
from tests.footage.helpers import BYTES, make_stored_clip
from tests.web.helpers import HTML, csrf, sign_in


@pytest.fixture(autouse=True)
def default_reasons(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        access.seed_default_reasons(db)


@pytest.fixture
def owner(factory: sessionmaker[Session]) -> Officer:
    with transaction(factory) as db:
        return make_officer(db, collar="7001")


def sign_in_as_officer(client: TestClient, factory: sessionmaker[Session], officer: Officer) -> None:
    with transaction(factory) as db:
        make_user(db, username="constable", roles=[Role.OFFICER], officer=officer)
    answer = client.post(
        "/login",
        data={"username": "constable", "password": DEFAULT_PASSWORD, "csrf_token": csrf(client, "/login")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _page(clip_id: int) -> str:
    return f"/footage/clips/{clip_id}"


def view(
    client: TestClient, clip_id: int, reason: str = "evidential-review", incident: str = "20261126-0042"
) -> None:
    answer = client.post(
        f"/footage/clips/{clip_id}/view",
        data={"reason": reason, "incident_number": incident, "csrf_token": csrf(client, _page(clip_id))},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def history(page: str) -> list[tuple[str, str, str]]:
    """The audit history table's rows as who, what and why, top to bottom."""
    table = page.partition('data-testid="history"')[2].partition("</table>")[0]
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    return [(who, what, why) for who, what, why in rows]


def shown_officer(page: str) -> str:
    match = re.search(r"<dt>Officer</dt><dd>([^<]*)</dd>", page)
    assert match is not None
    return match.group(1)


class TestClipPage:
    def test_anonymous_is_sent_to_sign_in(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None)
        assert client.get(_page(clip_id), headers=HTML, follow_redirects=False).status_code in (303, 401)

    def test_a_panel_member_is_refused(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None, held=True)
        sign_in(client, factory, Role.PANEL_MEMBER)
        assert client.get(_page(clip_id), headers=HTML).status_code == 403

    def test_a_clip_hidden_from_the_caller_is_not_found(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        with transaction(factory) as db:
            colleague = make_officer(db, collar="7002")
        sign_in_as_officer(client, factory, colleague)
        assert client.get(_page(clip_id), headers=HTML).status_code == 404
        assert client.get(_page(999999), headers=HTML).status_code == 404

    def test_before_a_reason_the_page_shows_metadata_and_the_form_but_no_pictures(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        page = client.get(_page(clip_id), headers=HTML)
        assert page.status_code == 200
        assert "Viewing is recorded." in page.text
        assert 'data-testid="reason-form"' in page.text
        assert "<video" not in page.text and "/poster" not in page.text
        assert 'value="evidential-review"' in page.text
        # A reason that only permits live view is not offered.
        assert 'value="officer-safety"' not in page.text

    def test_the_page_names_the_clips_officer_by_collar_number(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        assert shown_officer(client.get(_page(clip_id), headers=HTML).text) == "7001"

    @pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
    def test_a_clip_no_officer_held_is_shown_as_not_attributed(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=None, held=True)
        sign_in(client, factory, Role.EVIDENCE_MANAGER)
        page = client.get(_page(clip_id), headers=HTML)
        assert page.status_code == 200
        assert shown_officer(page.text) == "not attributed"

    def test_a_reason_no_longer_in_use_is_not_offered(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        with transaction(factory) as db:
            access.set_reason_active(db, SYSTEM, code="investigation", active=False)
        clip_id = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        page = client.get(_page(clip_id), headers=HTML).text
        assert 'value="evidential-review"' in page
        assert 'value="investigation"' not in page

    def test_the_history_shows_this_clips_events_newest_first(
        self,
        client: TestClient,
        settings: Settings,
        factory: sessionmaker[Session],
        owner: Officer,
        clock: FixedClock,
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        other_clip = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        view(client, clip_id)
        clock.advance(timedelta(minutes=5))
        view(client, other_clip, incident="20261126-0099")
        clock.advance(timedelta(minutes=5))
        download = client.get(
            f"/api/v1/footage/{clip_id}/download",
            params={"reason": "evidential-review", "incident_number": "20261126-0042"},
        )
        assert download.status_code == 200
        stated = "evidential-review; incident 20261126-0042"
        assert history(client.get(_page(clip_id), headers=HTML).text) == [
            ("constable", "footage:clip:exported", stated),
            ("constable", "footage:clip:viewed", stated),
            ("constable", "access:grant:granted", stated),
        ]

    def test_the_callers_own_viewing_stays_in_the_history_however_many_viewings_by_others_follow(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        view(client, clip_id)
        with transaction(factory) as db:
            standards = auth.actor_for(make_user(db, username="psd1", roles=[Role.PROFESSIONAL_STANDARDS]))
            for _ in range(HISTORY_SHOWN):
                audit.record(
                    db,
                    actor=standards,
                    action=AuditAction.FOOTAGE_CLIP_VIEWED,
                    target=Target("clip", str(clip_id)),
                    reason="complaint-investigation; incident CO-2026-17",
                )
        stated = "evidential-review; incident 20261126-0042"
        assert history(client.get(_page(clip_id), headers=HTML).text) == [
            ("constable", "footage:clip:viewed", stated),
            ("constable", "access:grant:granted", stated),
        ]

    def test_stating_a_reason_shows_the_player_and_records_the_viewing(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        with transaction(factory) as db:
            clip = db.get(Clip, clip_id)
            assert clip is not None
            clip.gps_track = [[0, 52.4862, -1.8904], [1, 52.4863, -1.8906], [2, 52.4865, -1.8907]]
        sign_in_as_officer(client, factory, owner)
        answer = client.post(
            f"/footage/clips/{clip_id}/view",
            data={
                "reason": "evidential-review",
                "incident_number": "20261126-0042",
                "csrf_token": csrf(client, _page(clip_id)),
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, _page(clip_id))
        page = client.get(_page(clip_id), headers=HTML).text
        src = re.search(r'<video[^>]*src="([^"]+)"', page, re.S)
        assert src is not None
        assert src.group(1) == (
            f"/api/v1/footage/{clip_id}/content?reason=evidential-review&amp;incident_number=20261126-0042"
        )
        assert 'data-testid="track"' in page and "<polyline" in page
        assert "footage:clip:viewed" in page and "access:grant:granted" in page
        # The player's request reuses the grant: still one viewing event in the history.
        content = client.get(src.group(1).replace("&amp;", "&"), headers={"Range": "bytes=0-9"})
        assert (content.status_code, content.content) == (206, BYTES[:10])
        assert client.get(_page(clip_id), headers=HTML).text.count("footage:clip:viewed") == 1

    def test_a_reason_the_force_forbids_redraws_the_form_with_the_refusal(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
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
        clip_id = make_stored_clip(factory, settings, officer=owner)
        sign_in_as_officer(client, factory, owner)
        answer = client.post(
            f"/footage/clips/{clip_id}/view",
            data={
                "reason": "welfare-check",
                "incident_number": "1",
                "csrf_token": csrf(client, _page(clip_id)),
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 403
        assert "forbids viewing footage" in answer.text
        assert "<video" not in answer.text

    def test_the_history_shows_others_viewings_only_to_those_who_read_the_audit_log(
        self, client: TestClient, settings: Settings, factory: sessionmaker[Session], owner: Officer
    ) -> None:
        clip_id = make_stored_clip(factory, settings, officer=owner)
        with transaction(factory) as db:
            investigator = make_user(db, username="psd1", roles=[Role.PROFESSIONAL_STANDARDS])
            access.grant_access(
                db,
                auth.actor_for(investigator),
                record=access.AccessRecord("footage", str(clip_id)),
                kind="footage_view",
                reason_code="complaint-investigation",
                incident_number="CO-2026-17",
            )
        sign_in_as_officer(client, factory, owner)
        view(client, clip_id)
        own = client.get(_page(clip_id), headers=HTML).text
        assert "psd1" not in own and "CO-2026-17" not in own
        assert [who for who, _, _ in history(own)] == ["constable", "constable"]
        client.post("/logout", data={"csrf_token": csrf(client, _page(clip_id))}, headers=HTML)
        client.cookies.clear()
        answer = client.post(
            "/login",
            data={"username": "psd1", "password": DEFAULT_PASSWORD, "csrf_token": csrf(client, "/login")},
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 303
        seen = client.get(_page(clip_id), headers=HTML)
        assert seen.status_code == 200
        assert "psd1" in seen.text and "complaint-investigation; incident CO-2026-17" in seen.text
        # Professional standards read the audit log: the officer's own viewing is there for them too.
        assert history(seen.text) == [
            ("constable", "footage:clip:viewed", "evidential-review; incident 20261126-0042"),
            ("constable", "access:grant:granted", "evidential-review; incident 20261126-0042"),
            ("psd1", "access:grant:granted", "complaint-investigation; incident CO-2026-17"),
        ]
