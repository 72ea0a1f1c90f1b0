from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from openbwv import access
from openbwv.access import AccessKind, AccessRecord
from openbwv.audit import AuditAction
from openbwv.errors import Conflict, InvalidInput, NotFound
from openbwv.policy import Role
from tests.access.helpers import events, make_actor

LIVE = AccessKind.LIVE_VIEW
FOOTAGE = AccessKind.FOOTAGE_VIEW
REDACTED = AccessKind.FOOTAGE_VIEW_REDACTED


class TestDefaultReasons:
    def test_the_migration_seeds_the_default_reasons(self, sqlite_template: Path) -> None:
        engine = create_engine(f"sqlite:///{sqlite_template}")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT r.code, r.active, k.kind, k.effect FROM access_reason r "
                    "JOIN access_reason_rule k ON k.reason_id = r.id"
                )
            ).all()
        engine.dispose()
        stored = {(code, kind, effect) for code, active, kind, effect in rows if active}
        expected = {(s.code, k.value, "permits") for s in access.DEFAULT_REASONS for k in s.permits}
        expected |= {(s.code, k.value, "forbids") for s in access.DEFAULT_REASONS for k in s.forbids}
        assert stored == expected

    @pytest.mark.parametrize("code", ["uof-scrutiny", "stop-search-scrutiny"])
    def test_independent_scrutiny_reasons_forbid_live_view_and_permit_redacted_footage(
        self, db: Session, code: str
    ) -> None:
        reason = access.get_reason(db, code)
        assert reason is not None
        assert reason.forbids == [LIVE]
        assert reason.permits == [REDACTED]

    def test_seeding_again_adds_nothing_and_keeps_the_forces_changes(self, db: Session) -> None:
        admin = make_actor(db, Role.ADMIN)
        access.set_reason_active(db, admin, code="officer-safety", active=False)
        assert access.seed_default_reasons(db) == 0
        reason = access.get_reason(db, "officer-safety")
        assert reason is not None and not reason.active


class TestCreateReason:
    def test_a_new_reason_is_listed_and_audited(self, db: Session) -> None:
        admin = make_actor(db, Role.ADMIN)
        access.create_reason(
            db,
            admin,
            code="welfare-check",
            label="Welfare check",
            permits=["live_view", "footage_view"],
            description="Checking on a vulnerable person at an address.",
        )
        codes = [r.code for r in access.list_reasons(db)]
        assert "welfare-check" in codes
        [event] = events(db, "access:reason:created", target_id="welfare-check")
        assert event.actor_username == admin.username
        assert (event.target_type, event.target_id) == ("access_reason", "welfare-check")
        assert event.details["permits"] == ["footage_view", "live_view"]

    def test_a_reason_cannot_both_permit_and_forbid_a_kind(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            access.create_reason(
                db,
                make_actor(db, Role.ADMIN),
                code="confused",
                label="Confused",
                permits=["live_view", "footage_view"],
                forbids=["live_view"],
            )
        assert refused.value.field == "forbids"
        assert "cannot both permit and forbid live view" in refused.value.message

    @pytest.mark.parametrize(
        ("code", "permits", "field", "message"),
        [
            ("Bad Code", ["live_view"], "code", "lower-case letters or digits"),
            ("-bad", ["live_view"], "code", "lower-case letters or digits"),
            ("fine", [], "permits", "must permit at least one kind"),
            ("fine", ["teleport"], "permits", "unknown kind of access 'teleport'"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(
        self, db: Session, code: str, permits: list[str], field: str, message: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            access.create_reason(db, make_actor(db, Role.ADMIN), code=code, label="X", permits=permits)
        assert refused.value.field == field
        assert message in refused.value.message

    def test_a_taken_code_is_refused(self, db: Session) -> None:
        with pytest.raises(Conflict) as refused:
            access.create_reason(
                db, make_actor(db, Role.ADMIN), code="officer-safety", label="Again", permits=["live_view"]
            )
        assert refused.value.rule == "reason_code_taken"


class TestUpdateReason:
    def test_changing_the_rules_is_audited_with_before_and_after(self, db: Session) -> None:
        admin = make_actor(db, Role.ADMIN)
        reason = access.update_reason(
            db, admin, code="officer-safety", permits=["live_view", "footage_view"], label="Officer welfare"
        )
        assert reason.permits == [FOOTAGE, LIVE]
        assert reason.label == "Officer welfare"
        [event] = events(db, "access:reason:updated")
        changed = event.details["changed"]
        assert isinstance(changed, dict)
        assert changed["permits"] == {
            "from": ["live_view"],
            "to": ["footage_view", "live_view"],
        }

    def test_permitting_a_kind_the_reason_forbids_is_refused_until_the_ban_is_lifted(
        self, db: Session
    ) -> None:
        admin = make_actor(db, Role.ADMIN)
        with pytest.raises(InvalidInput, match="cannot both permit and forbid live view"):
            access.update_reason(
                db, admin, code="uof-scrutiny", permits=["footage_view_redacted", "live_view"]
            )
        reason = access.update_reason(
            db, admin, code="uof-scrutiny", permits=["footage_view_redacted", "live_view"], forbids=[]
        )
        assert reason.forbids == []

    def test_an_unknown_code_is_not_found(self, db: Session) -> None:
        with pytest.raises(NotFound):
            access.update_reason(db, make_actor(db, Role.ADMIN), code="nope", label="Nope")


class TestDeactivateReason:
    def test_a_deactivated_reason_grants_nothing_new_but_old_grants_keep_it(self, db: Session) -> None:
        admin, officer = make_actor(db, Role.ADMIN), make_actor(db, Role.CONTROL_ROOM)
        camera = AccessRecord("camera", "BWV-0001")
        grant = access.grant_access(
            db,
            officer,
            record=camera,
            kind=LIVE,
            reason_code="officer-safety",
            incident_number="20261126-0042",
        )
        access.set_reason_active(db, admin, code="officer-safety", active=False)
        assert "officer-safety" not in [r.code for r in access.list_reasons(db, include_inactive=False)]
        assert grant.reason_code == "officer-safety"
        other = make_actor(db, Role.CONTROL_ROOM)
        with pytest.raises(Conflict, match="Reason 'officer-safety' is no longer in use") as refused:
            access.grant_access(
                db, other, record=camera, kind=LIVE, reason_code="officer-safety", note="Emergency button"
            )
        assert refused.value.rule == "reason_inactive"
        assert [e.target_id for e in events(db, "access:reason:deactivated")] == ["officer-safety"]

    def test_deactivating_twice_is_refused_and_bringing_back_works(self, db: Session) -> None:
        admin = make_actor(db, Role.ADMIN)
        access.set_reason_active(db, admin, code="investigation", active=False)
        with pytest.raises(Conflict) as refused:
            access.set_reason_active(db, admin, code="investigation", active=False)
        assert refused.value.rule == "reason_already_inactive"
        assert access.set_reason_active(db, admin, code="investigation", active=True).active
        [activated] = events(db, AuditAction.ACCESS_REASON_ACTIVATED)
        assert (
            activated.actor_username,
            activated.actor_user_id,
            activated.target_type,
            activated.target_id,
            activated.reason,
            activated.details,
        ) == (admin.username, admin.user_id, "access_reason", "investigation", None, {})
