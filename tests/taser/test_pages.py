"""The report's pages on both databases: an officer puts right a returned report on its form, and an
edit after sign-off makes a new version shown beside the old; a refused edit redraws the form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.db import transaction
from openbwv.policy import Actor, Role
from openbwv.taser import file_deployment, review
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.taser.builders import make_taser_holder, report_in
from tests.web.helpers import csrf

HTML = {"Accept": "text/html"}
SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}))


def _sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": DEFAULT_PASSWORD, "csrf_token": csrf(client, "/login")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _form_fields(page: str) -> dict[str, list[str]]:
    """What the form would send as it is drawn: text inputs' values, ticked boxes, chosen options."""
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*value="([^"]*)"', page):
        fields.setdefault(name, []).append(value)
    for name, value in re.findall(r'<input type="checkbox" name="([^"]+)" value="([^"]+)" checked>', page):
        fields.setdefault(name, []).append(value)
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)">(.*?)</select>', page):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = [chosen.group(1) if chosen else ""]
    return fields


def test_an_officer_puts_right_a_returned_report_then_corrects_it_after_sign_off(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        officer = make_taser_holder(db, collar="6601")
        make_user(db, username="pc6601", roles=[Role.OFFICER], officer=officer)
        deployment_id = file_deployment(db, SERGEANT, report_in("6601")).id
        review.return_report(db, SERGEANT, deployment_id, comment="Say where the subject was taken.")
    _sign_in(client, "pc6601")
    page = client.get(f"/taser/deployments/{deployment_id}", headers=HTML).text
    assert "Say where the subject was taken." in page
    form = client.get(f"/taser/deployments/{deployment_id}/edit", headers=HTML)
    assert form.status_code == 200
    fields = _form_fields(form.text)
    assert fields["collar_number"] == ["6601"]
    assert fields["levels"] == ["drawn", "red_dot", "fired"]
    assert fields["cartridge_bays"] == ["1"]
    assert fields["outcome"] == ["arrested"]
    token = csrf(client, f"/taser/deployments/{deployment_id}/edit")
    url = f"/taser/deployments/{deployment_id}/edit"

    refused = client.post(url, data={**fields, "cartridge_bays": ["2"], "csrf_token": token}, headers=HTML)
    assert refused.status_code == 422
    assert "cannot change its cartridge_bays" in refused.text
    assert 'value="2" checked' in refused.text

    saved = client.post(
        url,
        data={**fields, "outcome": "hospitalised", "csrf_token": token},
        headers=HTML,
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert "saved as version 1, submitted for sign-off" in saved.text
    with transaction(factory) as db:
        assert review.sign_off(db, SERGEANT, deployment_id) is not None
    again = client.post(
        url,
        data={**fields, "outcome": "hospitalised", "incident_number": "INC-0002", "csrf_token": token},
        headers=HTML,
        follow_redirects=True,
    )
    assert "saved as version 2" in again.text
    assert "Version 1, replaced by pc6601" in again.text
    assert "INC-0001" in again.text  # the old version, kept and shown
    with factory() as db:
        assert [v.content["outcome"] for v in review.versions(db, deployment_id)] == ["hospitalised"]
