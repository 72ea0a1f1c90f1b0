"""The live view page: only its viewer sees it, it says the view is audited, and its forms renew and
end the view (a renewal refused while the camera is not recording is shown on the page)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth
from openbwv.db import transaction
from openbwv.live import views
from openbwv.policy import Role
from tests.builders import make_user
from tests.live.conftest import SERIAL, FakeRecordingState
from tests.live.test_views import live_events
from tests.web.helpers import HTML, csrf, sign_in


def open_as(factory: sessionmaker[Session], username: str, recording: FakeRecordingState) -> int:
    with transaction(factory) as db:
        user = auth.get_user(db, username)
        assert user is not None
        request = views.ViewRequest(SERIAL, "officer-safety", incident_number="20261201-0007")
        view = views.open_view(
            db, auth.actor_for(user), request=request, recording=recording, options=views.ViewOptions()
        )
    return view.id


def test_the_viewer_sees_the_banner_the_player_and_the_forms(
    client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    sign_in(client, factory, Role.CONTROL_ROOM, username="cr.jones")
    view_id = open_as(factory, "cr.jones", camera)
    page = client.get(f"/live/views/{view_id}", headers=HTML)
    assert page.status_code == 200
    assert "This live view is audited." in page.text and "20261201-0007" in page.text
    assert f'data-stream="/api/v1/live/views/{view_id}/stream"' in page.text
    assert "End the live view" in page.text and "Renew for another 10 minutes" in page.text


def test_another_viewers_page_is_not_found_and_an_officer_is_refused(
    client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    with transaction(factory) as db:
        make_user(db, username="cr.other", roles=[Role.CONTROL_ROOM])
    view_id = open_as(factory, "cr.other", camera)
    sign_in(client, factory, Role.CONTROL_ROOM, username="cr.jones")
    assert client.get(f"/live/views/{view_id}", headers=HTML).status_code == 404
    client.cookies.clear()
    sign_in(client, factory, Role.OFFICER, username="pc.smith")
    assert client.get(f"/live/views/{view_id}", headers=HTML).status_code == 403


@pytest.mark.parametrize("recording_now", [True, False])
def test_renewing_from_the_page_while_recording_or_saying_why_not(
    recording_now: bool, client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    sign_in(client, factory, Role.CONTROL_ROOM, username="cr.jones")
    view_id = open_as(factory, "cr.jones", camera)
    token = csrf(client, f"/live/views/{view_id}")
    camera.cameras[SERIAL] = recording_now
    answer = client.post(
        f"/live/views/{view_id}/renew", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    if recording_now:
        assert answer.status_code == 303 and answer.headers["location"] == f"/live/views/{view_id}"
        assert len(live_events(factory, "access:grant:renewed")) == 1
    else:
        assert answer.status_code == 409 and "is not recording" in answer.text
        assert live_events(factory, "access:grant:renewed") == []


def test_ending_from_the_page_shows_it_has_ended(
    client: TestClient, factory: sessionmaker[Session], camera: FakeRecordingState
) -> None:
    sign_in(client, factory, Role.CONTROL_ROOM, username="cr.jones")
    view_id = open_as(factory, "cr.jones", camera)
    token = csrf(client, f"/live/views/{view_id}")
    answer = client.post(f"/live/views/{view_id}/end", data={"csrf_token": token}, headers=HTML)
    assert answer.status_code == 200 and "This live view has ended." in answer.text
    assert "data-stream" not in answer.text
    assert len(live_events(factory, "access:grant:ended")) == 1
