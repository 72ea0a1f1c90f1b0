"""The auditor's pages: search, one event with its checked proof, checkpoint and verification, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit
from openbwv.audit import log, misuse, proof_file, proofs
from openbwv.audit.models import AuditEvent
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.policy import Actor, Role
from tests.audit.helpers import publish, record_events
from tests.builders import headers_for
from tests.web.helpers import csrf, sign_in

HTML = {"Accept": "text/html"}
CSRF = "page-csrf-token"


@pytest.fixture
def auditor(factory: sessionmaker[Session]) -> dict[str, str]:
    return {**headers_for(factory, Role.AUDITOR, username="auditor1"), **HTML}


class TestEventsPage:
    def test_anonymous_is_sent_to_sign_in_and_officers_refused(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert client.get("/audit", headers=HTML, follow_redirects=False).status_code == 303
        assert client.get("/audit", headers={**headers_for(factory), **HTML}).status_code == 403

    def test_lists_events_newest_first_with_their_leaves(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        ids = record_events(factory, 3)
        publish(factory, settings)
        queued = record_events(factory, 1, reason="Late entry")
        page = client.get("/audit", params={"actor": "asmith"}, headers=auditor).text
        assert "4 events" in page
        assert page.index(f'href="/audit/events/{queued[0]}"') < page.index(f'href="/audit/events/{ids[0]}"')
        assert "<td>queued</td>" in page

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"reason": "RECORD 1"}, 1),
            ({"action": "people:*"}, 3),
            ({"action": "people:officer"}, 0),
            ({"target_type": "officer", "target_id": "1002"}, 1),
            ({"since": "2000-01-01", "until": "2100-01-01T00:00"}, 3),
            ({"until": "2000-01-01"}, 0),
        ],
    )
    def test_filters(
        self,
        client: TestClient,
        factory: sessionmaker[Session],
        auditor: dict[str, str],
        params: dict[str, str],
        expected: int,
    ) -> None:
        record_events(factory, 3)
        page = client.get("/audit", params={"actor": "asmith", **params}, headers=auditor).text
        assert f"{expected} event{'' if expected == 1 else 's'}" in page

    def test_the_actor_field_finds_every_name_starting_with_what_is_typed(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str]
    ) -> None:
        record_events(factory, 2, actor=Actor(username="j.smith"))
        record_events(factory, 1, actor=Actor(username="j.smithers"))
        record_events(factory, 1, actor=Actor(username="a.jones"))
        # A wildcard typed into the field is a character of the name, not a pattern.
        counts = {
            typed: client.get("/audit", params={"actor": typed}, headers=auditor).text
            for typed in ("j.smi", "j.smith", "j.smithe", "%smith", "j_smith")
        }
        assert "3 events" in counts["j.smi"]
        assert "3 events" in counts["j.smith"]
        assert "1 event " in counts["j.smithe"]
        assert "0 events" in counts["%smith"]
        assert "0 events" in counts["j_smith"]

    def test_words_in_the_action_field_find_the_actions_whose_names_hold_them(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str]
    ) -> None:
        record_events(factory, 2, action=audit.AuditAction.AUTH_LOGIN_FAILED)
        record_events(factory, 1, action=audit.AuditAction.AUTH_LOGIN_SUCCEEDED)
        record_events(factory, 1, action=audit.AuditAction.PEOPLE_OFFICER_UPDATED)
        page = client.get("/audit", params={"action": "Login FAIL"}, headers=auditor).text
        assert "2 events" in page
        assert "<code>auth:login:failed</code>." in page
        both = client.get("/audit", params={"action": "login"}, headers=auditor).text
        assert "3 events" in both
        assert "<code>auth:login:locked_out</code>" in both
        nothing = client.get("/audit", params={"action": "teleport"}, headers=auditor).text
        assert "0 events" in nothing
        assert "No action's name holds the words “teleport”." in nothing

    def test_a_malformed_time_is_422(self, client: TestClient, auditor: dict[str, str]) -> None:
        response = client.get("/audit", params={"since": "yesterday"}, headers=auditor)
        assert response.status_code == 422
        assert "give a date" in response.text

    def test_times_are_shown_and_searched_on_the_forces_clocks(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str], clock: FixedClock
    ) -> None:
        clock.set(datetime(2026, 7, 1, 8, 30, tzinfo=UTC))
        record_events(factory, 1)
        page = client.get(
            "/audit", params={"actor": "asmith", "since": "2026-07-01T09:30"}, headers=auditor
        ).text
        assert "1 event" in page and "<td>2026-07-01 09:30:00 BST</td>" in page
        assert '<th scope="col">When (Europe/London)</th>' in page
        assert (
            "0 events"
            in client.get(
                "/audit", params={"actor": "asmith", "since": "2026-07-01T09:31"}, headers=auditor
            ).text
        )

    def test_a_time_the_clocks_skipped_is_422_in_a_sentence(
        self, client: TestClient, auditor: dict[str, str]
    ) -> None:
        response = client.get("/audit", params={"until": "2026-03-29T01:30"}, headers=auditor)
        assert response.status_code == 422
        assert "2026-03-29 01:30 did not happen in Europe/London" in response.text


class TestEventPage:
    def test_an_event_in_a_signed_tree_is_verified_on_the_page(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        ids = record_events(factory, 6)
        publish(factory, settings)
        with factory() as db:
            leaf = proofs.leaf_indexes(db, [ids[4]])[ids[4]]
        page = client.get(f"/audit/events/{ids[4]}", headers=auditor).text
        assert f"Verified: leaf {leaf} of the signed tree of" in page
        assert "&#34;format&#34;:&#34;openbwv-audit-event/1&#34;" in page
        assert "Download the proof file" in page

    def test_an_events_details_read_as_a_labelled_table(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str]
    ) -> None:
        (event_id,) = record_events(
            factory, 1, details={"collar_number": "6101", "changed": {"unit": {"old": "A", "new": "B"}}}
        )
        page = client.get(f"/audit/events/{event_id}", headers=auditor).text
        details = page.split('data-testid="event-details"', 1)[1].split("</table>", 1)[0]
        assert '<th scope="row">Collar number</th><td>6101</td>' in details
        assert '<th scope="row">Changed</th>' in details
        assert '<code>{"unit": {"new": "B", "old": "A"}}</code>' in details
        folded = page.split("<details>", 1)[1].split("</details>", 1)[0]
        assert 'data-testid="leaf"' in folded

    def test_a_queued_event_says_so(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str]
    ) -> None:
        (event_id,) = record_events(factory, 1)
        assert (
            "Queued: the log adds this event within seconds."
            in client.get(f"/audit/events/{event_id}", headers=auditor).text
        )

    def test_an_edited_event_is_shown_as_not_verified(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        ids = record_events(factory, 3)
        publish(factory, settings)
        with transaction(factory) as db:
            db.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(reason="Edited"))
        page = client.get(f"/audit/events/{ids[1]}", headers=auditor).text
        assert "NOT verified" in page

    def test_an_unknown_event_is_404(self, client: TestClient, auditor: dict[str, str]) -> None:
        assert client.get("/audit/events/999999", headers=auditor).status_code == 404

    def test_the_proof_file_checks_offline(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        ids = record_events(factory, 5)
        publish(factory, settings)
        response = client.get(f"/audit/events/{ids[2]}/proof", headers=auditor)
        assert response.status_code == 200
        assert response.headers["content-disposition"].endswith('.tlog-proof"')
        verifier = log.log_signer(settings).verifier()
        checked = proof_file.check_proof(proof_file.parse_proof(response.content), verifier=verifier)
        assert b'"reason":"Correcting record 2"' in checked.leaf

    def test_no_proof_file_before_the_event_is_logged(
        self, client: TestClient, factory: sessionmaker[Session], auditor: dict[str, str]
    ) -> None:
        (event_id,) = record_events(factory, 1)
        assert client.get(f"/audit/events/{event_id}/proof", headers=auditor).status_code == 409


class TestCheckpointPage:
    def test_shows_the_checkpoint_key_and_verifies_on_demand(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        client.cookies.set("openbwv_csrf", CSRF)
        record_events(factory, 4)
        checkpoint = publish(factory, settings)
        page = client.get("/audit/checkpoint", headers=auditor).text
        assert f'data-testid="tree-size">{checkpoint.tree_size}<' in page
        assert log.verifier_key(settings) in page
        assert "Not verified yet." in page
        response = client.post("/audit/verify", data={"csrf_token": CSRF}, headers=auditor)
        assert response.status_code == 200
        assert "OK: " in response.text and "leaves match their events" in response.text
        assert "Run by auditor1" in response.text

    def test_verify_needs_the_form_token(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        """Signed in by the session cookie, as a browser is, a post without that session's token is
        refused (a bearer token, which no other site can make a browser send, needs none)."""
        sign_in(client, factory, Role.AUDITOR, username="auditor2")
        assert client.post("/audit/verify", data={"csrf_token": "other"}, headers=HTML).status_code == 403
        token = csrf(client, "/audit/checkpoint")
        assert client.post("/audit/verify", data={"csrf_token": token}, headers=HTML).status_code == 200

    def test_a_failed_verification_is_shown(
        self, client: TestClient, factory: sessionmaker[Session], settings: Settings, auditor: dict[str, str]
    ) -> None:
        ids = record_events(factory, 3)
        publish(factory, settings)
        with transaction(factory) as db:
            db.execute(update(AuditEvent).where(AuditEvent.id == ids[0]).values(action="auth:logout"))
        client.cookies.set("openbwv_csrf", CSRF)
        page = client.post("/audit/verify", data={"csrf_token": CSRF}, headers=auditor).text
        assert "FAILED: leaf " in page and "no longer matches its leaf hash" in page


class TestAlertsPage:
    def test_professional_standards_sees_alerts_and_the_navigation(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        with transaction(factory) as db:
            for _ in range(10):
                audit.record(
                    db,
                    actor=Actor(username="jbloggs"),
                    action=audit.AuditAction.AUTH_LOGIN_FAILED,
                    target=audit.Target("user", "jbloggs"),
                )
        clock.advance(timedelta(seconds=1))
        misuse.run_misuse_rules(factory, now=clock.now())
        headers = {**headers_for(factory, Role.PROFESSIONAL_STANDARDS), **HTML}
        page = client.get("/audit/alerts", headers=headers).text
        assert "10 failed sign-ins for user jbloggs within 15 minutes" in page
        assert 'href="/audit/alerts"' in page and 'href="/audit"' in page

    def test_auditors_do_not_get_alerts(self, client: TestClient, auditor: dict[str, str]) -> None:
        assert client.get("/audit/alerts", headers=auditor).status_code == 403
        assert 'href="/audit/alerts"' not in client.get("/audit", headers=auditor).text


def _raise_alert(factory: sessionmaker[Session], clock: FixedClock) -> int:
    with transaction(factory) as db:
        for _ in range(10):
            audit.record(
                db,
                actor=Actor(username="jbloggs"),
                action=audit.AuditAction.AUTH_LOGIN_FAILED,
                target=audit.Target("user", "jbloggs"),
            )
    clock.advance(timedelta(seconds=1))
    (alert,) = misuse.run_misuse_rules(factory, now=clock.now(), rules=[misuse.FailedSignIns()])
    return alert.id


class TestAlertHandlingPages:
    @pytest.fixture
    def standards(self, client: TestClient, factory: sessionmaker[Session]) -> dict[str, str]:
        client.cookies.set("openbwv_csrf", CSRF)
        return {**headers_for(factory, Role.PROFESSIONAL_STANDARDS, username="ps.khan"), **HTML}

    def test_the_list_shows_each_state_filters_on_it_and_names_the_rules_that_run(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = _raise_alert(factory, clock)
        page = client.get("/audit/alerts", headers=standards).text
        assert f'href="/audit/alerts/{alert_id}"' in page and '<td class="alert-state">open</td>' in page
        assert "long live view without incident</td>" in page
        assert 'action="/audit/alert-rules/long_live_view_without_incident/minutes"' in page
        for parameter in ("views", "max_seconds", "cameras", "window_minutes"):
            assert f'action="/audit/alert-rules/live_view_browsing/{parameter}"' in page
        closed = client.get("/audit/alerts", params={"state": "closed"}, headers=standards).text
        assert "0 alerts" in closed and '<option value="closed" selected>' in closed

    def test_a_threshold_is_changed_from_the_page_and_one_out_of_bounds_is_refused_there(
        self, client: TestClient, factory: sessionmaker[Session], standards: dict[str, str]
    ) -> None:
        form = "/audit/alert-rules/long_live_view_without_incident/minutes"
        assert (
            'id="t-long_live_view_without_incident-minutes" name="value" type="number" min="1" max="1440" value="20"'
            in (client.get("/audit/alerts", headers=standards).text)
        )
        changed = client.post(
            form, data={"csrf_token": CSRF, "value": "45"}, headers=standards, follow_redirects=False
        )
        assert changed.status_code == 303
        page = client.get(changed.headers["location"], headers=standards).text
        assert "long live view without incident: minutes is now 45 minutes." in page
        assert 'value="45"' in page and "set by ps.khan" in page
        refused = client.post(form, data={"csrf_token": CSRF, "value": "2000"}, headers=standards)
        assert refused.status_code == 422 and "minutes is from 1 to 1440 minutes" in refused.text
        browsing = client.post(
            "/audit/alert-rules/live_view_browsing/cameras",
            data={"csrf_token": CSRF, "value": "6"},
            headers=standards,
        )
        assert browsing.status_code == 422 and "cameras may not exceed views (5)" in browsing.text
        with transaction(factory) as db:
            events = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit:alert_rule:changed"))
            assert [(e.details["old"], e.details["new"]) for e in events] == [(20, 45)]

    def test_acknowledge_note_and_close_from_the_alert_page(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = _raise_alert(factory, clock)
        page = client.get(f"/audit/alerts/{alert_id}", headers=standards).text
        assert f'action="/audit/alerts/{alert_id}/acknowledge"' in page
        base = f"/audit/alerts/{alert_id}"
        for path, data in (
            ("acknowledge", {}),
            ("notes", {"text": "Spoke to the officer."}),
            ("close", {"outcome": "Forgotten password; no misuse."}),
        ):
            response = client.post(
                f"{base}/{path}", data={"csrf_token": CSRF, **data}, headers=standards, follow_redirects=False
            )
            assert response.status_code == 303 and response.headers["location"].startswith(f"{base}?notice=")
        page = client.get(base, headers=standards).text
        assert '<dd id="alert-state">closed</dd>' in page
        assert "Spoke to the officer." in page and "ps.khan, " in page
        assert "Forgotten password; no misuse." in page
        assert f'action="{base}/close"' not in page and f'action="{base}/acknowledge"' not in page

    def test_an_empty_outcome_or_a_second_close_redraws_the_page_with_the_refusal(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock, standards: dict[str, str]
    ) -> None:
        alert_id = _raise_alert(factory, clock)
        base = f"/audit/alerts/{alert_id}"
        empty = client.post(f"{base}/close", data={"csrf_token": CSRF, "outcome": " "}, headers=standards)
        assert empty.status_code == 422 and "outcome: must not be empty" in empty.text
        client.post(f"{base}/close", data={"csrf_token": CSRF, "outcome": "Done."}, headers=standards)
        again = client.post(
            f"{base}/close", data={"csrf_token": CSRF, "outcome": "Again."}, headers=standards
        )
        assert again.status_code == 409 and "was closed by ps.khan" in again.text

    def test_a_signed_in_form_needs_its_token_and_auditors_are_refused(
        self, client: TestClient, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        alert_id = _raise_alert(factory, clock)
        base = f"/audit/alerts/{alert_id}"
        sign_in(client, factory, Role.PROFESSIONAL_STANDARDS, username="ps.page")
        assert (
            client.post(f"{base}/acknowledge", data={"csrf_token": "other"}, headers=HTML).status_code == 403
        )
        token = csrf(client, base)
        acknowledged = client.post(f"{base}/acknowledge", data={"csrf_token": token}, headers=HTML)
        assert (
            acknowledged.status_code == 200 and '<dd id="alert-state">acknowledged</dd>' in acknowledged.text
        )
        client.cookies.set("openbwv_csrf", CSRF)
        auditor = {**headers_for(factory, Role.AUDITOR, username="aud2"), **HTML}
        assert (
            client.post(f"{base}/notes", data={"csrf_token": CSRF, "text": "x"}, headers=auditor).status_code
            == 403
        )
        assert client.get("/audit/alerts/999999", headers=HTML).status_code == 404
