"""Sign-off on both databases: a supervisor signs a report off or returns it with comments; an edit
after sign-off is a new version, the old one kept and shown."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.people.models import Officer
from openbwv.policy import Role
from tests.builders import headers_for
from tests.taser.builders import make_taser_holder, report

URL = "/api/v1/taser/deployments"


def _officer_files(
    client: TestClient, factory: sessionmaker[Session], collar: str
) -> tuple[int, dict[str, str], Officer]:
    with transaction(factory) as db:
        officer = make_taser_holder(db, collar=collar)
    headers = headers_for(factory, Role.OFFICER, officer=officer)
    answer = client.post(URL, json=report(collar), headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"]), headers, officer


def _events(factory: sessionmaker[Session], action: str) -> list[tuple[object, ...]]:
    """Each event of ``action``: actor, target type and id, reason, details."""
    with factory() as db:
        found = db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return [(e.actor_username, e.target_type, e.target_id, e.reason, e.details) for e in found]


def test_a_supervisor_signs_off_and_an_edit_after_makes_a_new_version(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    deployment_id, officer, _ = _officer_files(client, factory, "6301")
    sergeant = headers_for(factory, Role.SUPERVISOR, username="sgt.review")
    assert client.post(f"{URL}/{deployment_id}/sign-off", headers=officer).status_code == 403
    signed = client.post(f"{URL}/{deployment_id}/sign-off", headers=sergeant)
    assert signed.status_code == 200, signed.text
    assert (signed.json()["status"], signed.json()["version"]) == ("signed_off", 1)
    assert signed.json()["signed_off_by"] == "sgt.review"
    again = client.post(f"{URL}/{deployment_id}/sign-off", headers=sergeant)
    assert again.status_code == 409
    assert again.json()["detail"]["rule"] == "not_submitted"
    assert _events(factory, AuditAction.TASER_DEPLOYMENT_SIGNED_OFF) == [
        ("sgt.review", "taser_deployment", str(deployment_id), None, {"version": 1})
    ]

    edited = client.put(
        f"{URL}/{deployment_id}", json=report("6301", outcome="no_further_action"), headers=officer
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["status"], body["version"], body["outcome"], body["signed_off_by"]) == (
        "submitted",
        2,
        "no_further_action",
        None,
    )
    history = client.get(f"{URL}/{deployment_id}/history", headers=officer).json()
    [old] = history["versions"]
    assert (old["version"], old["content"]["outcome"], old["signed_off_by"]) == (
        1,
        "arrested",
        signed.json()["signed_off_by"],
    )
    assert [r["decision"] for r in history["reviews"]] == ["signed_off"]
    with transaction(factory) as db:
        events, _ = audit.list_events(
            db, where=audit.EventFilter(action="taser:deployment:edited"), limit=5, offset=0
        )
        assert events[0].details["changed"] == {"outcome": {"old": "arrested", "new": "no_further_action"}}
        assert events[0].details["version"] == 2


def test_a_returned_report_is_edited_in_place_and_submitted_again(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    deployment_id, officer, _ = _officer_files(client, factory, "6311")
    sergeant = headers_for(factory, Role.SUPERVISOR, username="sgt.return")
    blank = client.post(f"{URL}/{deployment_id}/return", json={"comment": "   "}, headers=sergeant)
    assert blank.status_code == 422
    returned = client.post(
        f"{URL}/{deployment_id}/return", json={"comment": "Add the impact factors you saw."}, headers=sergeant
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert _events(factory, AuditAction.TASER_DEPLOYMENT_RETURNED) == [
        (
            "sgt.return",
            "taser_deployment",
            str(deployment_id),
            "Add the impact factors you saw.",
            {"version": 1},
        )
    ]
    assert client.post(f"{URL}/{deployment_id}/sign-off", headers=sergeant).status_code == 409
    edited = client.put(
        f"{URL}/{deployment_id}", json=report("6311", impact_factors=["alcohol", "crowd"]), headers=officer
    )
    assert (edited.json()["status"], edited.json()["version"]) == ("submitted", 1)
    history = client.get(f"{URL}/{deployment_id}/history", headers=officer).json()
    assert history["versions"] == []
    assert [(r["decision"], r["comment"]) for r in history["reviews"]] == [
        ("returned", "Add the impact factors you saw.")
    ]


def test_an_edit_cannot_change_the_cartridges_nor_be_made_by_a_colleague(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    deployment_id, officer, _ = _officer_files(client, factory, "6321")
    changed = client.put(f"{URL}/{deployment_id}", json=report("6321", cartridge_bays=[2]), headers=officer)
    assert changed.status_code == 422
    assert changed.json()["detail"]["rule"] == "fixed_on_edit"
    assert "cartridge_bays" in changed.json()["detail"]["message"]
    with transaction(factory) as db:
        colleague = make_taser_holder(db, collar="6322")
    other = headers_for(factory, Role.OFFICER, officer=colleague)
    assert client.put(f"{URL}/{deployment_id}", json=report("6321"), headers=other).status_code == 404


def test_a_supervisor_does_not_sign_off_their_own_report(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as db:
        sergeant_officer = make_taser_holder(db, collar="6331")
    sergeant = headers_for(factory, Role.SUPERVISOR, officer=sergeant_officer)
    filed = client.post(URL, json=report("6331"), headers=sergeant)
    assert filed.status_code == 201, filed.text
    refused = client.post(f"{URL}/{filed.json()['id']}/sign-off", headers=sergeant)
    assert refused.status_code == 403
    assert refused.json()["detail"]["rule"] == "own_report_review"
