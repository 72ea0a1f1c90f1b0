from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from openbwv import access
from openbwv.access import AccessKind, AccessRecord, GrantDurations
from openbwv.clock import FixedClock
from openbwv.errors import Conflict, Forbidden, InvalidInput, NotFound
from openbwv.inputs import FREE_TEXT_CONTROL_MESSAGE
from openbwv.policy import SYSTEM, Actor, Role
from tests.access.helpers import events, make_actor
from tests.conftest import TEST_NOW

LIVE = AccessKind.LIVE_VIEW
FOOTAGE = AccessKind.FOOTAGE_VIEW
REDACTED = AccessKind.FOOTAGE_VIEW_REDACTED
CAMERA = AccessRecord("camera", "BWV-0001")
CLIP = AccessRecord("footage", "123")
NO_STATEMENT = "give an incident number, or a note saying why you need access"


def _live_view(db: Session, actor: Actor, **overrides: object) -> access.AccessGrant:
    arguments: dict[str, object] = {
        "record": CAMERA,
        "kind": LIVE,
        "reason_code": "incident-response",
        "incident_number": "20261126-0042",
    }
    arguments.update(overrides)
    return access.grant_access(db, actor, **arguments)  # type: ignore[arg-type]


class TestGrantAccess:
    def test_a_grant_lasts_eight_hours_and_is_audited_with_the_reason_against_the_record(
        self, db: Session
    ) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator, note="Officer shouting for assistance")
        assert grant.expires_at == TEST_NOW + timedelta(hours=8)
        [event] = events(db, "access:grant:granted")
        assert event.actor_username == operator.username
        assert (event.target_type, event.target_id) == ("camera", "BWV-0001")
        assert event.reason == "incident-response; incident 20261126-0042; Officer shouting for assistance"
        assert event.details["kind"] == "live_view"

    def test_live_view_under_a_scrutiny_reason_is_refused_naming_the_reason(self, db: Session) -> None:
        panel = make_actor(db, Role.PANEL_MEMBER)
        with pytest.raises(Conflict) as refused:
            _live_view(db, panel, reason_code="uof-scrutiny")
        assert refused.value.message == "Reason 'uof-scrutiny' forbids live view."
        assert refused.value.rule == "reason_forbids_kind"
        assert access.active_grant(db, panel, record=CAMERA, kind=LIVE) is None
        assert events(db, "access:grant:granted") == []

    def test_a_reason_that_does_not_permit_the_kind_is_refused(self, db: Session) -> None:
        with pytest.raises(
            Conflict, match="Reason 'officer-safety' does not permit viewing footage"
        ) as refused:
            access.grant_access(
                db, make_actor(db), record=CLIP, kind=FOOTAGE, reason_code="officer-safety", note="Check"
            )
        assert refused.value.rule == "reason_does_not_permit_kind"

    def test_a_scrutiny_panel_may_view_redacted_footage(self, db: Session) -> None:
        panel = make_actor(db, Role.PANEL_MEMBER)
        grant = access.grant_access(
            db, panel, record=CLIP, kind=REDACTED, reason_code="uof-scrutiny", note="Panel of 3 December"
        )
        assert access.require_grant(db, panel, record=CLIP, kind=REDACTED) == grant

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"incident_number": None}, "incident_number", NO_STATEMENT),
            ({"incident_number": "  "}, "incident_number", NO_STATEMENT),
            ({"incident_number": "log 42 of today"}, "incident_number", "letters and digits"),
            ({"incident_number": None, "note": "x" * 501}, "note", "at most 500 characters"),
            ({"reason_code": "whim"}, "reason_code", "no such reason code 'whim'"),
            ({"kind": "teleport"}, "kind", "unknown kind of access 'teleport'"),
            ({"record": AccessRecord("Camera!", "1")}, "record_kind", "lower-case letters"),
            ({"duration": timedelta(hours=25)}, "minutes", "from 1 to 1440 minutes"),
            ({"duration": timedelta(0)}, "minutes", "from 1 to 1440 minutes"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(
        self, db: Session, overrides: dict[str, object], field: str, message: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            _live_view(db, make_actor(db, Role.CONTROL_ROOM), **overrides)
        assert refused.value.field == field
        assert message in refused.value.message

    def test_without_an_incident_number_or_a_note_the_refusal_says_what_to_give(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            _live_view(db, make_actor(db, Role.CONTROL_ROOM), incident_number=" ", note=" ")
        assert (refused.value.field, refused.value.reason) == ("incident_number", NO_STATEMENT)

    def test_an_incident_number_of_thirty_characters_is_kept_and_one_more_refused(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        longest = "WM/" + "4" * 27
        assert _live_view(db, operator, incident_number=longest).incident_number == longest
        with pytest.raises(InvalidInput) as refused:
            _live_view(db, operator, record=CLIP, kind=FOOTAGE, incident_number=longest + "1")
        assert refused.value.field == "incident_number"

    def test_a_grant_may_last_exactly_the_most_allowed(self, db: Session) -> None:
        grant = _live_view(db, make_actor(db, Role.CONTROL_ROOM), duration=timedelta(hours=24))
        assert grant.expires_at == TEST_NOW + timedelta(hours=24)

    def test_the_incident_number_is_kept_in_capitals(self, db: Session) -> None:
        grant = _live_view(db, make_actor(db, Role.CONTROL_ROOM), incident_number=" wm/4521/26 ")
        assert grant.incident_number == "WM/4521/26"

    def test_the_force_can_shorten_grants(self, db: Session) -> None:
        short = GrantDurations(default=timedelta(minutes=30), maximum=timedelta(hours=1))
        operator = make_actor(db, Role.CONTROL_ROOM)
        assert _live_view(db, operator, durations=short).expires_at == TEST_NOW + timedelta(minutes=30)
        with pytest.raises(InvalidInput, match="from 1 to 60 minutes"):
            _live_view(db, operator, record=CLIP, duration=timedelta(hours=2), durations=short)

    def test_a_job_acting_for_the_system_cannot_hold_a_grant(self, db: Session) -> None:
        with pytest.raises(Forbidden, match="Only a signed-in person"):
            _live_view(db, SYSTEM)


class TestOnlyOneLiveGrant:
    def test_a_second_grant_of_the_same_access_is_refused(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        first = _live_view(db, operator)
        with pytest.raises(Conflict) as refused:
            _live_view(db, operator, reason_code="officer-safety")
        assert refused.value.rule == "access_already_granted"
        assert f"until 2026-11-26 16:00 UTC (grant {first.id})" in refused.value.message

    def test_other_records_kinds_and_people_are_separate(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        _live_view(db, operator)
        _live_view(db, operator, record=AccessRecord("camera", "BWV-0002"))
        _live_view(db, operator, kind=FOOTAGE)
        _live_view(db, make_actor(db, Role.CONTROL_ROOM))

    def test_once_expired_a_new_grant_replaces_the_old_one(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        old = _live_view(db, operator)
        clock.advance(timedelta(hours=8))
        new = _live_view(db, operator)
        assert (old.ended_at, old.end_cause) == (old.expires_at, "expired")
        assert access.grant_state(old) == "expired"
        assert access.active_grant(db, operator, record=CAMERA, kind=LIVE) == new

    def test_losing_a_race_for_the_same_access_is_refused_without_a_grant_to_name(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        rivals: list[str] = []

        # Another request of the same person's lands between this one's check and its insert.
        def rival_first(session: Session, *_: object) -> None:
            if not rivals and any(isinstance(row, access.AccessGrant) for row in session.new):
                rivals.append("BWV-0001")
                session.connection().execute(
                    insert(access.AccessGrant).values(
                        user_id=operator.user_id,
                        username=operator.username,
                        record_kind="camera",
                        record_id="BWV-0001",
                        kind=LIVE.value,
                        reason_code="officer-safety",
                        note="Rival request",
                        granted_at=TEST_NOW,
                        expires_at=TEST_NOW + timedelta(hours=8),
                        renewed_count=0,
                    )
                )

        event.listen(db, "before_flush", rival_first)
        with pytest.raises(Conflict) as refused:
            _live_view(db, operator)
        event.remove(db, "before_flush", rival_first)
        assert refused.value.message == (
            "You already hold live view of camera BWV-0001; renew or end that grant instead."
        )
        assert refused.value.rule == "access_already_granted"
        assert events(db, "access:grant:granted") == []


class TestRequireGrant:
    def test_without_a_grant_the_caller_is_asked_for_a_reason(self, db: Session) -> None:
        with pytest.raises(Forbidden) as refused:
            access.require_grant(db, make_actor(db, Role.CONTROL_ROOM), record=CAMERA, kind=LIVE)
        assert refused.value.message == (
            "State a reason for access first: you hold no live grant for live view of camera BWV-0001."
        )

    def test_a_grant_counts_until_it_expires(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator, duration=timedelta(minutes=30))
        clock.advance(timedelta(minutes=29))
        assert access.require_grant(db, operator, record=CAMERA, kind=LIVE) == grant
        clock.advance(timedelta(minutes=1))
        assert access.active_grant(db, operator, record=CAMERA, kind=LIVE) is None
        with pytest.raises(Forbidden, match="State a reason for access first"):
            access.require_grant(db, operator, record=CAMERA, kind=LIVE)

    def test_a_grant_opens_only_its_own_record_and_kind_for_its_holder(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        _live_view(db, operator)
        for actor, record, kind in [
            (make_actor(db, Role.CONTROL_ROOM), CAMERA, LIVE),
            (operator, AccessRecord("camera", "BWV-0002"), LIVE),
            (operator, CAMERA, FOOTAGE),
            (SYSTEM, CAMERA, LIVE),
        ]:
            with pytest.raises(Forbidden):
                access.require_grant(db, actor, record=record, kind=kind)


class TestRenewGrant:
    def test_renewing_extends_from_now_and_is_audited(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator)
        clock.advance(timedelta(hours=7))
        access.renew_grant(db, operator, grant_id=grant.id)
        assert grant.expires_at == TEST_NOW + timedelta(hours=15)
        assert grant.renewed_count == 1
        [event] = events(db, "access:grant:renewed")
        assert event.actor_username == operator.username
        assert (event.target_type, event.target_id) == ("camera", "BWV-0001")
        assert event.reason == "incident-response; incident 20261126-0042"
        assert event.details == {
            "grant": grant.id,
            "holder": operator.username,
            "kind": "live_view",
            "incident_number": "20261126-0042",
            "expires_at": "2026-11-26T23:00:00+00:00",
            "previous_expires_at": "2026-11-26T16:00:00+00:00",
            "renewed_count": 1,
        }
        clock.advance(timedelta(hours=2))
        assert access.active_grant(db, operator, record=CAMERA, kind=LIVE) == grant

    def test_each_renewal_is_counted_and_its_event_says_which_it_was(
        self, db: Session, clock: FixedClock
    ) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator)
        for _ in range(3):
            clock.advance(timedelta(hours=1))
            access.renew_grant(db, operator, grant_id=grant.id)
        assert grant.renewed_count == 3
        renewals = events(db, "access:grant:renewed")
        assert [e.details["renewed_count"] for e in renewals] == [1, 2, 3]
        assert [e.details["previous_expires_at"] for e in renewals] == [
            "2026-11-26T16:00:00+00:00",
            "2026-11-26T17:00:00+00:00",
            "2026-11-26T18:00:00+00:00",
        ]

    def test_an_expired_grant_cannot_be_renewed(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator)
        clock.advance(timedelta(hours=9))
        with pytest.raises(
            Conflict, match="expired at 2026-11-26 16:00 UTC; state a reason again"
        ) as refused:
            access.renew_grant(db, operator, grant_id=grant.id)
        assert refused.value.rule == "grant_expired"

    def test_a_reason_deactivated_since_cannot_be_renewed(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator)
        access.set_reason_active(db, make_actor(db, Role.ADMIN), code="incident-response", active=False)
        with pytest.raises(Conflict, match="no longer in use"):
            access.renew_grant(db, operator, grant_id=grant.id)

    def test_only_the_holder_renews(self, db: Session) -> None:
        grant = _live_view(db, make_actor(db, Role.CONTROL_ROOM))
        with pytest.raises(Forbidden) as refused:
            access.renew_grant(db, make_actor(db, Role.PROFESSIONAL_STANDARDS), grant_id=grant.id)
        assert refused.value.message == "Only the holder may renew a grant of access."
        assert events(db, "access:grant:renewed") == []
        with pytest.raises(NotFound):
            access.renew_grant(db, make_actor(db, Role.CONTROL_ROOM), grant_id=grant.id)


class TestEndGrant:
    def test_the_holder_ends_it_and_it_stops_counting_at_once(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator)
        access.end_grant(db, operator, grant_id=grant.id)
        assert access.grant_state(grant) == "ended"
        assert access.active_grant(db, operator, record=CAMERA, kind=LIVE) is None
        [event] = events(db, "access:grant:ended")
        assert (event.actor_username, event.target_type, event.target_id) == (
            operator.username,
            "camera",
            "BWV-0001",
        )
        assert event.reason == "incident-response; incident 20261126-0042"
        assert event.details["ended_by"] == operator.username
        with pytest.raises(Conflict) as refused:
            access.end_grant(db, operator, grant_id=grant.id)
        assert refused.value.rule == "grant_ended"
        # Ended, it no longer blocks a new grant.
        _live_view(db, operator)

    def test_professional_standards_may_end_anyones_grant(self, db: Session) -> None:
        operator, standards = make_actor(db, Role.CONTROL_ROOM), make_actor(db, Role.PROFESSIONAL_STANDARDS)
        grant = _live_view(db, operator)
        access.end_grant(db, standards, grant_id=grant.id)
        assert grant.ended_by == standards.username
        [event] = events(db, "access:grant:ended")
        assert (event.actor_username, event.details["holder"]) == (standards.username, operator.username)

    def test_an_auditor_sees_the_grant_but_may_not_end_it_and_others_do_not_see_it(self, db: Session) -> None:
        grant = _live_view(db, make_actor(db, Role.CONTROL_ROOM))
        with pytest.raises(Forbidden) as refused:
            access.end_grant(db, make_actor(db, Role.AUDITOR), grant_id=grant.id)
        assert (
            refused.value.message == "Only the holder, or professional standards, may end a grant of access."
        )
        assert access.grant_state(grant) == "live"
        assert events(db, "access:grant:ended") == []
        with pytest.raises(NotFound):
            access.end_grant(db, make_actor(db, Role.SUPERVISOR), grant_id=grant.id)


class TestListGrants:
    def test_own_grants_newest_first_and_oversight_sees_everyones(
        self, db: Session, clock: FixedClock
    ) -> None:
        first, second = make_actor(db, Role.CONTROL_ROOM), make_actor(db, Role.SUPERVISOR)
        older = _live_view(db, first, duration=timedelta(hours=1))
        clock.advance(timedelta(hours=2))
        newer = _live_view(db, first, record=CLIP, kind=FOOTAGE)
        _live_view(db, second)
        assert access.list_own_grants(db, first) == ([newer, older], 2)
        assert access.list_own_grants(db, first, live_only=True) == ([newer], 1)
        rows, total = access.list_grants(db, where=access.GrantFilter(record_kind="camera"))
        assert total == 2
        assert {g.username for g in rows} == {first.username, second.username}

    def test_each_filter_keeps_only_its_matches(self, db: Session) -> None:
        first, second = make_actor(db, Role.CONTROL_ROOM), make_actor(db, Role.CONTROL_ROOM)
        camera_one = _live_view(db, first, reason_code="officer-safety")
        camera_two = _live_view(db, second, record=AccessRecord("camera", "BWV-0002"))
        clip = _live_view(db, second, record=CLIP, kind=FOOTAGE)

        def listed(**where: object) -> tuple[set[int], int]:
            rows, total = access.list_grants(db, where=access.GrantFilter(**where))  # type: ignore[arg-type]
            return {g.id for g in rows}, total

        assert listed() == ({camera_one.id, camera_two.id, clip.id}, 3)
        assert listed(record_id="BWV-0002") == ({camera_two.id}, 1)
        assert listed(kind=FOOTAGE) == ({clip.id}, 1)
        assert listed(reason_code="officer-safety") == ({camera_one.id}, 1)
        assert listed(reason_code="incident-response", record_kind="camera") == ({camera_two.id}, 1)
        assert listed(username=first.username, kind=FOOTAGE) == (set(), 0)

    def test_grants_of_the_same_moment_are_listed_latest_first(self, db: Session) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        first, second = (
            _live_view(db, operator, record=AccessRecord("camera", camera))
            for camera in ("BWV-0002", "BWV-0003")
        )
        _live_view(db, operator, record=CLIP, kind=FOOTAGE)
        assert access.list_grants(db, where=access.GrantFilter(record_kind="camera")) == ([second, first], 2)


class TestLiveGrantees:
    def test_only_live_grants_of_the_kind_to_the_record_itself_count(
        self, db: Session, clock: FixedClock
    ) -> None:
        holder, other_clip, ended, lapsing, live_kind, camera = (
            make_actor(db, Role.CONTROL_ROOM) for _ in range(6)
        )
        _live_view(db, holder, record=CLIP, kind=FOOTAGE)
        _live_view(db, other_clip, record=AccessRecord("footage", "124"), kind=FOOTAGE)
        finished = _live_view(db, ended, record=CLIP, kind=FOOTAGE)
        access.end_grant(db, ended, grant_id=finished.id)
        _live_view(db, lapsing, record=CLIP, kind=FOOTAGE, duration=timedelta(hours=1))
        access.grant_access(
            db,
            make_actor(db, Role.PANEL_MEMBER),
            record=CLIP,
            kind=REDACTED,
            reason_code="uof-scrutiny",
            note="Panel",
        )
        _live_view(db, live_kind, record=CLIP, kind=LIVE)
        _live_view(db, camera, record=AccessRecord("camera", "123"), kind=FOOTAGE)
        clock.advance(timedelta(minutes=30))
        assert access.live_grantees(db, record=CLIP, kind=FOOTAGE) == {
            holder.user_id: "incident-response",
            lapsing.user_id: "incident-response",
        }
        # A grant is over at the second it expires.
        clock.advance(timedelta(minutes=30))
        assert access.live_grantees(db, record=CLIP, kind=FOOTAGE) == {holder.user_id: "incident-response"}


class TestCheckReasonFor:
    def test_an_unknown_reason_is_refused_on_the_reason_field(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            access.check_reason_for(db, "whim", FOOTAGE)
        assert (refused.value.field, refused.value.reason) == ("reason", "no such reason code 'whim'")

    def test_a_caller_may_name_its_own_field(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            access.check_reason_for(db, "whim", LIVE, field="reason_code")
        assert refused.value.field == "reason_code"

    def test_a_reason_that_does_not_permit_the_kind_is_forbidden_naming_the_rule(self, db: Session) -> None:
        with pytest.raises(Forbidden) as refused:
            access.check_reason_for(db, "officer-safety", FOOTAGE)
        assert refused.value.message == "Reason 'officer-safety' does not permit viewing footage."
        assert refused.value.rule == "reason_does_not_permit_kind"
        access.check_reason_for(db, "incident-response", FOOTAGE)


class TestGrantedRecordIds:
    def test_only_the_live_grants_of_the_people_of_the_kind_to_records_of_the_kind_count(
        self, db: Session, clock: FixedClock
    ) -> None:
        holder, colleague = make_actor(db, Role.CONTROL_ROOM), make_actor(db, Role.CONTROL_ROOM)
        for clip_id in ("1", "2"):
            _live_view(db, holder, record=AccessRecord("footage", clip_id), kind=FOOTAGE)
        _live_view(db, holder, record=AccessRecord("footage", "3"), kind=FOOTAGE, duration=timedelta(hours=1))
        ended = _live_view(db, holder, record=AccessRecord("footage", "4"), kind=FOOTAGE)
        access.end_grant(db, holder, grant_id=ended.id)
        _live_view(db, holder, record=AccessRecord("footage", "5"), kind=LIVE)
        _live_view(db, holder, record=AccessRecord("camera", "6"), kind=FOOTAGE)
        _live_view(db, colleague, record=AccessRecord("footage", "7"), kind=FOOTAGE)

        assert holder.user_id is not None
        holder_only = {holder.user_id}

        def opened(reason_codes: set[str] | None = None) -> list[str]:
            query = access.granted_record_ids(
                record_kind="footage", kind=FOOTAGE, user_ids=holder_only, reason_codes=reason_codes
            )
            return sorted(db.scalars(query))

        clock.advance(timedelta(minutes=59))
        assert opened() == ["1", "2", "3"]
        # A grant is over at the second it expires.
        clock.advance(timedelta(minutes=1))
        assert opened() == ["1", "2"]
        assert opened(reason_codes={"officer-safety"}) == []
        assert opened(reason_codes={"incident-response"}) == ["1", "2"]


class TestListOwnGrants:
    def test_newest_first_then_latest_id_paged_with_the_total(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        # Two requests: the later clock reading can take the earlier id.
        clock.advance(timedelta(minutes=5))
        latest = _live_view(db, operator, record=AccessRecord("camera", "BWV-0001"))
        clock.set(TEST_NOW)
        earlier, same_moment = (
            _live_view(db, operator, record=AccessRecord("camera", camera))
            for camera in ("BWV-0002", "BWV-0003")
        )
        _live_view(db, make_actor(db, Role.CONTROL_ROOM))
        assert access.list_own_grants(db, operator) == ([latest, same_moment, earlier], 3)
        assert access.list_own_grants(db, operator, limit=2) == ([latest, same_moment], 3)
        assert access.list_own_grants(db, operator, limit=2, offset=2) == ([earlier], 3)

    def test_a_grant_is_live_until_the_second_it_expires(self, db: Session, clock: FixedClock) -> None:
        operator = make_actor(db, Role.CONTROL_ROOM)
        grant = _live_view(db, operator, duration=timedelta(minutes=30))
        clock.advance(timedelta(minutes=29, seconds=59))
        assert access.list_own_grants(db, operator, live_only=True) == ([grant], 1)
        clock.advance(timedelta(seconds=1))
        assert access.list_own_grants(db, operator, live_only=True) == ([], 0)
        assert access.list_own_grants(db, operator) == ([grant], 1)

    def test_none_is_none_in_total_too(self, db: Session) -> None:
        _live_view(db, make_actor(db, Role.CONTROL_ROOM))
        assert access.list_own_grants(db, make_actor(db, Role.CONTROL_ROOM)) == ([], 0)
        assert access.list_own_grants(db, SYSTEM) == ([], 0)


class TestTheNote:
    def test_a_note_of_the_longest_length_with_line_breaks_and_tabs_is_kept(self, db: Session) -> None:
        note = "Complaint received:\n\tofficer's account " + "x" * (500 - 39)
        assert len(note) == 500
        grant = _live_view(db, make_actor(db, Role.CONTROL_ROOM), incident_number=None, note=note)
        assert grant.note == note

    def test_a_note_holding_another_control_character_is_refused_on_its_field(self, db: Session) -> None:
        with pytest.raises(InvalidInput) as refused:
            _live_view(db, make_actor(db, Role.CONTROL_ROOM), incident_number=None, note="Check\x00 this")
        assert refused.value.field == "note"
        assert refused.value.reason == FREE_TEXT_CONTROL_MESSAGE
        assert events(db, "access:grant:granted") == []
