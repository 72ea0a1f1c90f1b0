"""The report's pages on both databases: an officer puts right a returned report on its form, and an
edit after sign-off makes a new version shown beside the old; a refused edit redraws the form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.policy import Actor, Role
from openbwv.taser import file_deployment, get_deployment, review
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


def _typed_report(collar: str, occurred_at: str) -> dict[str, Any]:
    """The new-report form as an officer fills it in, with ``occurred_at`` typed on the force's clocks."""
    return {
        "collar_number": collar,
        "taser_serial": f"TS-{collar}",
        "occurred_at": occurred_at,
        "lat": "52.4862",
        "lon": "-1.8904",
        "location_type": "street",
        "incident_number": "INC-0001",
        "levels": ["drawn", "red_dot", "fired"],
        "cartridge_bays": ["1"],
        "reasons": ["protect_self", "effect_arrest"],
        "impact_factors": ["possession_of_weapon"],
        "subject_age_band": "18_34",
        "subject_gender": "male",
        "subject_ethnicity": "white",
        "subject_self_defined_ethnicity": "W1",
        "flags": ["officer_assaulted"],
        "outcome": "arrested",
    }


class TestTimesOnTheForcesClocks:
    def test_a_time_typed_in_july_is_stored_an_hour_earlier_in_utc_and_shown_as_typed(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clock.set(datetime(2026, 7, 2, 12, 0, tzinfo=UTC))
        with transaction(factory) as db:
            make_user(
                db, username="pc6611", roles=[Role.OFFICER], officer=make_taser_holder(db, collar="6611")
            )
        _sign_in(client, "pc6611")
        form = client.get("/taser/deployments/new", headers=HTML).text
        assert '<label for="occurred_at">When (Europe/London)</label>' in form
        data = {
            **_typed_report("6611", "2026-07-02T11:30"),
            "csrf_token": csrf(client, "/taser/deployments/new"),
        }
        filed = client.post("/taser/deployments/new", data=data, headers=HTML, follow_redirects=True)
        assert filed.status_code == 200
        deployment_id = int(filed.url.path.rsplit("/", 1)[1])
        with transaction(factory) as db:
            stored = get_deployment(db, SERGEANT, deployment_id)
            assert stored is not None
            assert stored.occurred_at == datetime(2026, 7, 2, 10, 30, tzinfo=UTC)
        assert "<dt>When (Europe/London)</dt><dd>2026-07-02 11:30 BST</dd>" in filed.text
        again = client.get(f"/taser/deployments/{deployment_id}/edit", headers=HTML).text
        assert _form_fields(again)["occurred_at"] == ["2026-07-02T11:30:00"]
        answer = client.get(f"/api/v1/taser/deployments/{deployment_id}")
        assert answer.json()["occurred_at"].startswith("2026-07-02T10:30:00")

    def test_a_time_the_clocks_skipped_is_refused_in_a_sentence(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        clock.set(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
        with transaction(factory) as db:
            make_user(
                db, username="pc6612", roles=[Role.OFFICER], officer=make_taser_holder(db, collar="6612")
            )
        _sign_in(client, "pc6612")
        data = {
            **_typed_report("6612", "2026-03-29T01:30"),
            "csrf_token": csrf(client, "/taser/deployments/new"),
        }
        refused = client.post("/taser/deployments/new", data=data, headers=HTML)
        assert refused.status_code == 422
        assert (
            "When: 2026-03-29 01:30 did not happen in Europe/London: the clocks went forward then"
            in refused.text
        )

    def test_a_winter_report_shows_gmt(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            officer = make_taser_holder(db, collar="6613")
            make_user(db, username="pc6613", roles=[Role.OFFICER], officer=officer)
            deployment_id = file_deployment(db, SERGEANT, report_in("6613")).id
        _sign_in(client, "pc6613")
        page = client.get(f"/taser/deployments/{deployment_id}", headers=HTML).text
        # The fixed clock stands at 2026-11-26 08:00 UTC; the report is of an hour before.
        assert "<dt>When (Europe/London)</dt><dd>2026-11-26 07:00 GMT</dd>" in page
