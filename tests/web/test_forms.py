"""A refused form write: the session is rolled back before the form is drawn again with the reason and
the values entered, so nothing the refused write flushed is ever committed."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import PlainTextResponse, Response

from openbwv import auth
from openbwv.db import transaction
from openbwv.errors import Conflict, OpenbwvError
from openbwv.fleet.models import Issue
from openbwv.fleet.training.models import EligibilityRule
from openbwv.people.models import Unit
from openbwv.policy import Role
from openbwv.web.forms import RedrawForm, redrawing_on_refusal
from tests.builders import make_device, make_officer, make_unit, make_user

HTML = {"Accept": "text/html"}
CSRF = "form-csrf-token"


def _headers(factory: sessionmaker[Session], *roles: Role) -> dict[str, str]:
    with transaction(factory) as db:
        token = auth.issue_token(db, make_user(db, roles=list(roles)), kind="api", ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}", **HTML}


def _post(client: TestClient, path: str, headers: dict[str, str], **form: str) -> httpx2.Response:
    client.cookies.set("openbwv_csrf", CSRF)
    return client.post(path, data={"csrf_token": CSRF, **form}, headers=headers, follow_redirects=False)


def _count(factory: sessionmaker[Session], model: type[object]) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


class TestRedrawingOnRefusal:
    def test_a_conflict_after_a_failed_flush_is_rolled_back_before_the_redraw(
        self, db: Session, factory: sessionmaker[Session]
    ) -> None:
        make_unit(db, code="FIRST")
        make_unit(db, code="TAKEN")
        seen: list[int] = []

        def redraw(refusal: OpenbwvError) -> Response:
            # The redraw queries the session: it must be usable after the failed statement.
            seen.append(int(db.scalar(select(func.count()).select_from(Unit)) or 0))
            return PlainTextResponse(refusal.message, status_code=refusal.status_code)

        with pytest.raises(RedrawForm) as redrawn, redrawing_on_refusal(db, redraw):
            db.add(Unit(code="TAKEN", name="Again", kind="response"))
            try:
                db.flush()
            except IntegrityError as exc:
                raise Conflict("That unit code is taken.") from exc
        assert (redrawn.value.response.status_code, redrawn.value.response.body) == (
            409,
            b"That unit code is taken.",
        )
        assert seen == [0], "what the request wrote before the refusal is rolled back, not redrawn over"
        db.commit()
        assert _count(factory, Unit) == 0


class TestRefusedPageWrites:
    def test_a_refused_rule_stores_nothing_and_keeps_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = _headers(factory, Role.TRAINING_MANAGER)
        response = _post(
            client,
            "/training/eligibility",
            headers,
            authority="taser",
            effective_from="2026-12-01",
            eligible="yes",
            reason="Firearms support only",
            unit="NOPE",
        )
        assert response.status_code == 422
        # The sentence alone, without the field's internal name.
        assert (
            "No unit has the code &#39;NOPE&#39;." in response.text and "unit: no unit" not in response.text
        )
        assert 'value="Firearms support only"' in response.text
        assert 'value="2026-12-01"' in response.text
        assert '<option value="yes" selected>' in response.text
        assert _count(factory, EligibilityRule) == 0

    def test_a_refused_issue_stores_nothing_and_keeps_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-F1")
        response = _post(
            client,
            "/fleet/counter",
            _headers(factory, Role.EQUIPMENT_MANAGER),
            serial="CAM-F1",
            collar_number="9999",
            kind="personal",
            action="issue",
        )
        assert response.status_code == 404
        assert 'value="CAM-F1"' in response.text and 'value="9999"' in response.text
        assert _count(factory, Issue) == 0

    def test_a_refused_account_stores_nothing_and_keeps_what_was_typed(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="4401")
            make_user(db, username="taken", officer=officer)
        headers = _headers(factory, Role.ADMIN)
        before = _count(factory, auth.UserAccount)
        response = _post(
            client,
            "/users/new",
            headers,
            username="second",
            password="a long enough password",
            display_name="Second Account",
            collar_number="4401",
            roles="officer",
        )
        assert response.status_code == 409
        assert "That officer already has a user account." in response.text
        assert 'value="second"' in response.text and 'value="Second Account"' in response.text
        assert _count(factory, auth.UserAccount) == before
