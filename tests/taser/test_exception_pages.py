"""Professional standards' page of Taser exceptions: listed, explained on the page (a refusal redraws
it with the reason), settings changed in place; supervisors read it, officers are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.policy import Actor, Role
from openbwv.taser import file_deployment, linking
from openbwv.taser.settings import setting
from tests.taser.builders import make_taser_holder, report_in
from tests.web.helpers import csrf, sign_in

HTML = {"Accept": "text/html"}
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))


@pytest.fixture
def exception_id(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as db:
        make_taser_holder(db, collar="6501")
        deployment = file_deployment(db, SERGEANT, report_in("6501"))
        linking.raise_no_footage(db, now=clock.now() + timedelta(hours=73))
        return deployment.id


def test_professional_standards_explain_an_exception_on_the_page(
    client: TestClient, factory: sessionmaker[Session], exception_id: int
) -> None:
    sign_in(client, factory, Role.PROFESSIONAL_STANDARDS)
    page = client.get("/taser/exceptions", headers=HTML)
    assert page.status_code == 200
    assert "No footage" in page.text
    assert "TS-6501" in page.text
    assert f'href="/taser/deployments/{exception_id}"' in page.text
    token = csrf(client, "/taser/exceptions")
    refused = client.post(
        "/taser/exceptions/1/explanation",
        data={"explanation": "other", "text": "", "csrf_token": token},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert "Say what happened when the explanation is &#39;other&#39;." in refused.text
    assert "text:" not in refused.text
    answer = client.post(
        "/taser/exceptions/1/explanation",
        data={"explanation": "not_switched_on", "text": "Camera was off", "csrf_token": token},
        headers=HTML,
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "Exception 1 explained: not switched on." in answer.text
    assert "No exceptions." in answer.text
    shown = client.get("/taser/exceptions?show=all", headers=HTML).text
    assert "not switched on: Camera was off" in shown


def test_a_setting_is_changed_on_the_page_within_its_bounds(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    sign_in(client, factory, Role.PROFESSIONAL_STANDARDS)
    token = csrf(client, "/taser/exceptions")
    refused = client.post(
        "/taser/settings/footage_grace_hours", data={"value": "0", "csrf_token": token}, headers=HTML
    )
    assert refused.status_code == 422
    assert "must be from 1 to 720 hours, not 0" in refused.text
    changed = client.post(
        "/taser/settings/footage_grace_hours",
        data={"value": "48", "csrf_token": token},
        headers=HTML,
        follow_redirects=True,
    )
    assert "now 48 hours" in changed.text
    with factory() as db:
        assert setting(db, "footage_grace_hours") == 48


def test_supervisors_read_the_page_without_forms_and_officers_are_refused(
    client: TestClient, factory: sessionmaker[Session], exception_id: int
) -> None:
    sign_in(client, factory, Role.SUPERVISOR, username="sgt")
    page = client.get("/taser/exceptions", headers=HTML)
    assert page.status_code == 200
    assert "TS-6501" in page.text
    assert "Record explanation" not in page.text
    assert 'action="/taser/settings/' not in page.text
    client.cookies.clear()
    sign_in(client, factory, Role.OFFICER, username="pc")
    assert client.get("/taser/exceptions", headers=HTML).status_code == 403


def test_a_refusal_names_its_time_on_the_forces_clocks_and_the_api_in_utc(
    client: TestClient, factory: sessionmaker[Session], exception_id: int, clock: FixedClock
) -> None:
    clock.set(datetime(2027, 7, 1, 8, 0, tzinfo=UTC))
    sign_in(client, factory, Role.PROFESSIONAL_STANDARDS)
    token = csrf(client, "/taser/exceptions")
    form = {"explanation": "not_switched_on", "text": "Camera was off", "csrf_token": token}
    client.post("/taser/exceptions/1/explanation", data=form, headers=HTML)
    again = client.post("/taser/exceptions/1/explanation", data=form, headers=HTML)
    assert again.status_code == 409
    assert "on 2027-07-01 09:00 BST (not_switched_on)." in again.text
    api = client.post(
        "/api/v1/taser/exceptions/1/explanation",
        json={"explanation": "not_switched_on", "text": "Camera was off"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 409
    assert api.json()["detail"]["message"].endswith("on 2027-07-01 08:00 UTC (not_switched_on).")
