"""Handling misuse alerts through the API (acknowledge, close, notes) and tuning the rules' thresholds,
each step read back from the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import misuse
from openbwv.audit.misuse import FailedSignIns
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.db import transaction
from openbwv.policy import Actor, Role
from tests.builders import headers_for

ALERTS = "/api/v1/audit/alerts"
RULES = "/api/v1/audit/alert-rules"


def raise_alert(factory: sessionmaker[Session], clock: FixedClock, *, typed: str = "jbloggs") -> int:
    """Ten failed sign-ins for ``typed`` and the misuse run that raises their alert; its id."""
    with transaction(factory) as db:
        for _ in range(10):
            audit.record(
                db,
                actor=Actor(username=typed),
                action=audit.AuditAction.AUTH_LOGIN_FAILED,
                target=audit.Target("user", typed),
            )
    clock.advance(timedelta(seconds=1))
    (alert,) = misuse.run_misuse_rules(factory, now=clock.now(), rules=[FailedSignIns()])
    return alert.id


def logged(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def standards(factory: sessionmaker[Session]) -> dict[str, str]:
    return headers_for(factory, Role.PROFESSIONAL_STANDARDS, username="ps.khan")


class TestAcknowledge:
    def test_an_open_alert_is_acknowledged_and_audited(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        response = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=standards)
        assert response.status_code == 200
        body = response.json()
        assert (body["state"], body["acknowledged_by"]) == ("acknowledged", "ps.khan")
        (event,) = logged(factory, "audit:alert:acknowledged")
        assert (event.actor_username, event.target_type, event.target_id) == (
            "ps.khan",
            "alert",
            str(alert_id),
        )
        assert event.details == {
            "rule": "failed_sign_ins_by_username",
            "subject": "user:jbloggs",
            "state": "acknowledged",
        }

    def test_twice_is_a_conflict(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=standards)
        response = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=standards)
        assert response.status_code == 409
        assert response.json()["detail"]["rule"] == "alert_acknowledged"


class TestClose:
    def test_an_acknowledged_alert_closes_with_its_outcome(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=standards)
        response = client.post(
            f"{ALERTS}/{alert_id}/close",
            json={"outcome": "  Officer forgot a password; no action.  "},
            headers=standards,
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["state"], body["closed_by"], body["outcome"]) == (
            "closed",
            "ps.khan",
            "Officer forgot a password; no action.",
        )
        (event,) = logged(factory, "audit:alert:closed")
        assert (event.actor_username, event.target_id) == ("ps.khan", str(alert_id))
        assert event.details["outcome"] == "Officer forgot a password; no action."
        assert event.details["was"] == "acknowledged"

    def test_an_open_alert_may_be_closed_straight_away(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        response = client.post(
            f"{ALERTS}/{alert_id}/close", json={"outcome": "False positive."}, headers=standards
        )
        assert response.json()["state"] == "closed"

    def test_a_closed_alert_refuses_closing_and_acknowledging_naming_the_rule(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        client.post(f"{ALERTS}/{alert_id}/close", json={"outcome": "Done."}, headers=standards)
        for action, body in (("close", {"outcome": "Again."}), ("acknowledge", None)):
            response = client.post(f"{ALERTS}/{alert_id}/{action}", json=body, headers=standards)
            assert response.status_code == 409
            detail = response.json()["detail"]
            assert detail["rule"] == "alert_closed" and "failed_sign_ins_by_username" in detail["message"]
        assert len(logged(factory, "audit:alert:closed")) == 1

    @pytest.mark.parametrize("outcome", ["", "   "])
    def test_an_empty_outcome_is_refused(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        clock: FixedClock,
        standards: dict[str, str],
        outcome: str,
    ) -> None:
        alert_id = raise_alert(factory, clock)
        response = client.post(f"{ALERTS}/{alert_id}/close", json={"outcome": outcome}, headers=standards)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "outcome"]


class TestNotes:
    def test_notes_are_appended_with_author_and_time_in_any_state(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        first = client.post(
            f"{ALERTS}/{alert_id}/notes", json={"text": "Asked the duty inspector."}, headers=standards
        )
        assert first.status_code == 201
        client.post(f"{ALERTS}/{alert_id}/close", json={"outcome": "Explained."}, headers=standards)
        clock.advance(timedelta(minutes=5))
        other = headers_for(factory, Role.ADMIN, username="admin1")
        client.post(f"{ALERTS}/{alert_id}/notes", json={"text": "Line one\nline two"}, headers=other)
        notes = client.get(f"{ALERTS}/{alert_id}", headers=standards).json()["notes"]
        assert [(n["author"], n["text"]) for n in notes] == [
            ("ps.khan", "Asked the duty inspector."),
            ("admin1", "Line one\nline two"),
        ]
        assert notes[1]["written_at"] > notes[0]["written_at"]
        events = logged(factory, "audit:alert:noted")
        assert [(e.actor_username, e.target_id, e.details["text"]) for e in events] == [
            ("ps.khan", str(alert_id), "Asked the duty inspector."),
            ("admin1", str(alert_id), "Line one\nline two"),
        ]

    def test_an_empty_note_is_refused(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = raise_alert(factory, clock)
        response = client.post(f"{ALERTS}/{alert_id}/notes", json={"text": " "}, headers=standards)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "text"]


class TestUnknownAndRefused:
    @pytest.mark.parametrize(
        ("path", "body"), [("acknowledge", None), ("close", {"outcome": "x"}), ("notes", {"text": "x"})]
    )
    def test_an_unknown_alert_is_not_found(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        clock: FixedClock,
        standards: dict[str, str],
        path: str,
        body: dict[str, str] | None,
    ) -> None:
        failed = raise_alert(factory, clock) - 1  # an event, but not an alert
        for alert_id in (failed, 999999):
            assert client.post(f"{ALERTS}/{alert_id}/{path}", json=body, headers=standards).status_code == 404
        assert client.get(f"{ALERTS}/999999", headers=standards).status_code == 404

    @pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPERVISOR])
    def test_roles_without_the_permission_are_refused(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, role: Role
    ) -> None:
        alert_id = raise_alert(factory, clock)
        headers = headers_for(factory, role)
        assert client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=headers).status_code == 403
        assert (
            client.post(f"{ALERTS}/{alert_id}/close", json={"outcome": "x"}, headers=headers).status_code
            == 403
        )
        assert (
            client.post(f"{ALERTS}/{alert_id}/notes", json={"text": "x"}, headers=headers).status_code == 403
        )
        assert (
            client.put(f"{RULES}/live_view_browsing/views", json={"value": 6}, headers=headers).status_code
            == 403
        )
        assert logged(factory, "audit:alert:acknowledged") == []


class TestListByState:
    def test_the_list_shows_state_and_filters_on_it(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        first = raise_alert(factory, clock, typed="one")
        second = raise_alert(factory, clock, typed="two")
        raise_alert(factory, clock, typed="three")
        client.post(f"{ALERTS}/{first}/acknowledge", headers=standards)
        client.post(f"{ALERTS}/{second}/close", json={"outcome": "Done."}, headers=standards)
        every = client.get(ALERTS, headers=standards).json()
        assert [item["state"] for item in every["items"]] == ["open", "closed", "acknowledged"]
        for state, subject in (("open", "user:three"), ("acknowledged", "user:one"), ("closed", "user:two")):
            body = client.get(ALERTS, params={"state": state}, headers=standards).json()
            assert (body["total"], body["items"][0]["subject"]) == (1, subject)
        assert client.get(ALERTS, params={"state": "shelved"}, headers=standards).status_code == 422


class TestThresholds:
    def test_the_rules_that_run_are_listed_with_their_thresholds(
        self, client: TestClient, standards: dict[str, str]
    ) -> None:
        rules = {rule["name"]: rule["thresholds"] for rule in client.get(RULES, headers=standards).json()}
        assert rules["failed_sign_ins_by_username"] == []
        assert {t["parameter"]: t["value"] for t in rules["live_view_browsing"]} == {
            "views": 5,
            "max_seconds": 60,
            "cameras": 5,
            "window_minutes": 30,
        }
        assert {t["parameter"]: t["value"] for t in rules["officer_watched_repeatedly"]} == {
            "days": 3,
            "window_days": 14,
        }
        (minutes,) = rules["long_live_view_without_incident"]
        assert (minutes["value"], minutes["unit"], minutes["changed_by"]) == (20, "minutes", None)

    def test_a_change_is_kept_and_audited_with_the_old_and_new_value(
        self, client: TestClient, factory: sessionmaker[Session], standards: dict[str, str]
    ) -> None:
        response = client.put(
            f"{RULES}/live_view_browsing/window_minutes", json={"value": 45}, headers=standards
        )
        assert response.status_code == 200
        assert (response.json()["value"], response.json()["changed_by"]) == (45, "ps.khan")
        listed = {r["name"]: r["thresholds"] for r in client.get(RULES, headers=standards).json()}
        assert {t["parameter"]: t["value"] for t in listed["live_view_browsing"]}["window_minutes"] == 45
        (event,) = logged(factory, "audit:alert_rule:changed")
        assert (event.actor_username, event.target_type, event.target_id) == (
            "ps.khan",
            "alert_rule",
            "live_view_browsing.window_minutes",
        )
        assert event.details == {
            "rule": "live_view_browsing",
            "parameter": "window_minutes",
            "old": 30,
            "new": 45,
        }

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("long_live_view_without_incident/minutes", 0),
            ("long_live_view_without_incident/minutes", -5),
            ("long_live_view_without_incident/minutes", 1441),
            ("long_live_view_without_incident/minutes", 2.5),
            ("long_live_view_without_incident/minutes", "20"),
            ("officer_watched_repeatedly/days", 15),  # more than the window's 14 days
            ("live_view_browsing/cameras", 6),  # more than the 5 views
        ],
    )
    def test_values_out_of_bounds_are_refused_naming_the_field(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        standards: dict[str, str],
        path: str,
        value: object,
    ) -> None:
        response = client.put(f"{RULES}/{path}", json={"value": value}, headers=standards)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "value"]
        assert logged(factory, "audit:alert_rule:changed") == []

    @pytest.mark.parametrize(
        "path",
        ["no_such_rule/minutes", "live_view_browsing/minutes", "failed_sign_ins_by_username/threshold"],
    )
    def test_an_unknown_rule_or_parameter_is_not_found(
        self, client: TestClient, standards: dict[str, str], path: str
    ) -> None:
        assert client.put(f"{RULES}/{path}", json={"value": 3}, headers=standards).status_code == 404
