"""Each rule a deployment report must meet, on both databases: the rule's code, and the facts
(collar number, serial, time) in its message."""

from __future__ import annotations

import time
from datetime import timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.audit import AuditAction
from openbwv.errors import Forbidden, InvalidInput
from openbwv.policy import Actor, Role
from openbwv.taser import DeploymentRefused, file_deployment, linking
from openbwv.taser.vocabulary import AGE_BANDS, ETHNICITIES, IMPACT_FACTORS, LOCATION_TYPES, OUTCOMES, REASONS
from tests.access.helpers import events
from tests.builders import make_device, make_officer
from tests.taser.builders import make_clip, make_taser_holder, report_in

SERGEANT = Actor(username="sergeant", roles=frozenset({Role.SUPERVISOR}), user_id=None)


def _refused(db: Session, collar: str, **overrides: object) -> DeploymentRefused:
    with pytest.raises(DeploymentRefused) as refused:
        file_deployment(db, SERGEANT, report_in(collar, **overrides))
    return refused.value


def _stamp(hours_ago: float) -> str:
    return (clock.now() - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M UTC")


class TestLevels:
    def test_a_report_naming_no_level_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5101")
        refusal = _refused(db, "5101", levels=[], cartridges_discharged=0, cartridge_bays=[])
        assert refusal.rule == "no_levels"
        assert refusal.message == (
            f"The report of officer 5101's use of Taser TS-5101 at {_stamp(1)} names no level used."
        )
        # What the API answers with (422): the rule for machines, the message for people.
        assert refusal.detail == {"rule": "no_levels", "message": refusal.message}

    def test_an_unknown_level_is_refused_by_name(self, db: Session) -> None:
        make_taser_holder(db, collar="5102")
        refusal = _refused(db, "5102", levels=["drawn", "tased"], cartridges_discharged=0, cartridge_bays=[])
        assert refusal.rule == "unknown_level"
        assert refusal.message == (
            f"The report of officer 5102's use of Taser TS-5102 at {_stamp(1)} names unknown level tased; "
            "the levels are drawn, aimed, red_dot, arced, drive_stun, angled_drive_stun, fired."
        )
        two = _refused(db, "5102", levels=["zapped", "tased"], cartridges_discharged=0, cartridge_bays=[])
        assert "names unknown levels zapped, tased; the levels are" in two.message


class TestTime:
    def test_a_use_in_the_future_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5103")
        later = clock.now() + timedelta(minutes=5)
        refusal = _refused(db, "5103", occurred_at=later.isoformat())
        assert refusal.rule == "occurred_in_future"
        assert later.strftime("%Y-%m-%d %H:%M UTC") in refusal.message
        assert "5103" in refusal.message and "TS-5103" in refusal.message

    def test_a_use_at_this_very_moment_is_filed_and_audited(self, db: Session) -> None:
        make_taser_holder(db, collar="5107")
        now = clock.now()
        deployment = file_deployment(db, SERGEANT, report_in("5107", occurred_at=now.isoformat()))
        assert (deployment.status, deployment.version, deployment.filed_by) == ("submitted", 1, "sergeant")
        [event] = events(db, "taser:deployment:filed", target_id=str(deployment.id))
        assert (event.actor_username, event.target_type) == ("sergeant", "taser_deployment")
        assert event.details == {
            "officer": "5107",
            "taser": "TS-5107",
            "occurred_at": now.isoformat(),
            "highest_level": "fired",
            "cartridges_discharged": 1,
            "incident_number": "INC-0001",
        }
        # The Taser's own record names the report that discharged its cartridge.
        [discharged] = events(db, AuditAction.FLEET_CARTRIDGE_DISCHARGED, target_id="TS-5107")
        assert discharged.reason == f"deployment report {deployment.id}"
        refusal = _refused(db, "5107", occurred_at=(now + timedelta(seconds=1)).isoformat())
        assert refusal.rule == "occurred_in_future"

    def test_a_report_filed_as_of_an_earlier_moment_links_its_footage_as_of_then(self, db: Session) -> None:
        officer = make_taser_holder(db, collar="5108")
        at, filed_at = clock.now() - timedelta(hours=1), clock.now() - timedelta(minutes=30)
        clip_id = make_clip(
            db, camera="CAM-5108", officer_id=officer.id, start=at - timedelta(minutes=1), minutes=3
        )
        deployment = file_deployment(
            db, SERGEANT, report_in("5108", occurred_at=at.isoformat()), now=filed_at
        )
        [link] = linking.linked_clips(db, [deployment.id])[deployment.id]
        assert (link.clip_id, link.linked_at, deployment.created_at) == (clip_id, filed_at, filed_at)

    def test_a_time_without_its_zone_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5104")
        naive = (clock.now() - timedelta(hours=1)).replace(tzinfo=None)
        with pytest.raises(InvalidInput) as refused:
            file_deployment(db, SERGEANT, report_in("5104", occurred_at=naive.isoformat()))
        assert refused.value.field == "occurred_at"
        assert refused.value.message == "occurred_at: give the time with its zone, e.g. 2026-11-26T20:00:00Z"

    def test_times_are_told_in_utc_whatever_the_servers_zone(
        self, db: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        make_taser_holder(db, collar="5106")
        later = clock.now() + timedelta(minutes=5)
        monkeypatch.setenv("TZ", "Asia/Kolkata")
        time.tzset()
        try:
            refusal = _refused(
                db, "5106", occurred_at=later.astimezone(timezone(timedelta(hours=-5))).isoformat()
            )
        finally:
            monkeypatch.undo()
            time.tzset()
        assert f"reported at {later:%Y-%m-%d %H:%M} UTC, after now" in refusal.message


class TestVocabulary:
    def test_a_value_outside_the_home_office_vocabulary_is_refused_naming_the_field(
        self, db: Session
    ) -> None:
        make_taser_holder(db, collar="5105")
        for field, bad, allowed in [
            ("location_type", "moon", LOCATION_TYPES),
            ("reasons", ["protect_self", "whim"], REASONS),
            ("impact_factors", ["whim"], IMPACT_FACTORS),
            ("subject_age_band", "ancient", AGE_BANDS),
            ("subject_ethnicity", "martian", ETHNICITIES),
            ("outcome", "vanished", OUTCOMES),
        ]:
            with pytest.raises(InvalidInput) as refused:
                file_deployment(db, SERGEANT, report_in("5105", **{field: bad}))
            value = bad[-1] if isinstance(bad, list) else bad
            assert refused.value.field == field
            assert refused.value.message == f"{field}: {value!r} is not one of {', '.join(allowed)}"


class TestCartridges:
    def test_fired_with_no_cartridge_discharged_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5111")
        refusal = _refused(db, "5111", cartridges_discharged=0, cartridge_bays=[])
        assert refusal.rule == "fired_without_cartridge"
        assert "5111" in refusal.message and "TS-5111" in refusal.message and _stamp(1) in refusal.message

    def test_a_cartridge_discharged_without_firing_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5115")
        refusal = _refused(db, "5115", levels=["drawn", "drive_stun"])
        assert refusal.rule == "cartridge_without_firing"
        assert refusal.message == (
            f"Officer 5115 reports 1 cartridge discharged from Taser TS-5115 at {_stamp(1)}, "
            "but not that it was fired."
        )
        two = _refused(
            db, "5115", levels=["drawn", "drive_stun"], cartridges_discharged=2, cartridge_bays=[1, 2]
        )
        assert two.message.startswith("Officer 5115 reports 2 cartridges discharged from Taser TS-5115")

    def test_a_drive_stun_needs_no_cartridge(self, db: Session) -> None:
        make_taser_holder(db, collar="5112")
        deployment = file_deployment(
            db,
            SERGEANT,
            report_in("5112", levels=["drawn", "drive_stun"], cartridges_discharged=0, cartridge_bays=[]),
        )
        assert deployment.highest_level == "drive_stun"

    def test_more_cartridges_than_the_models_bays_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5113")
        refusal = _refused(db, "5113", cartridges_discharged=3, cartridge_bays=[1, 2, 3])
        assert refusal.rule == "too_many_cartridges"
        assert "a X2 holds 2" in refusal.message
        assert "5113" in refusal.message and "TS-5113" in refusal.message and _stamp(1) in refusal.message

    def test_the_bays_must_name_each_cartridge_once(self, db: Session) -> None:
        make_taser_holder(db, collar="5114")
        refusal = _refused(db, "5114", cartridges_discharged=2, cartridge_bays=[1, 1])
        assert refusal.rule == "cartridge_bays_mismatch"
        assert refusal.message == (
            f"Officer 5114 reports 2 cartridges discharged from Taser TS-5114 at {_stamp(1)}; "
            "name one bay of the X2's 1 to 2 for each, each once (given: 1, 1)."
        )
        none = _refused(db, "5114", cartridges_discharged=1, cartridge_bays=[])
        assert none.rule == "cartridge_bays_mismatch"
        assert none.message == (
            f"Officer 5114 reports 1 cartridge discharged from Taser TS-5114 at {_stamp(1)}; "
            "name one bay of the X2's 1 to 2 for each, each once (given: none)."
        )


class TestWhatTheReportNames:
    def test_an_unknown_officer_or_taser_is_refused_naming_the_field(self, db: Session) -> None:
        make_taser_holder(db, collar="5141")
        make_device(db, kind="camera", serial="BWV-5141")
        for overrides, field, message in [
            ({"collar_number": "9999"}, "collar_number", "no officer has collar number 9999"),
            ({"taser_serial": "TS-NONE"}, "taser_serial", "no Taser has serial TS-NONE"),
            ({"taser_serial": "BWV-5141"}, "taser_serial", "no Taser has serial BWV-5141"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                file_deployment(db, SERGEANT, report_in("5141", **overrides))
            assert (refused.value.field, refused.value.message) == (field, f"{field}: {message}")


class TestHolderAndAuthority:
    def test_a_taser_issued_to_someone_else_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5121")
        make_taser_holder(db, collar="5122")
        refusal = _refused(db, "5121", taser_serial="TS-5122")
        assert refusal.rule == "taser_not_issued"
        assert "TS-5122" in refusal.message and "officer 5121" in refusal.message
        assert "issued to officer 5122" in refusal.message and _stamp(1) in refusal.message

    def test_a_use_before_the_taser_was_issued_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="5123", issued_at=clock.now() - timedelta(hours=2))
        refusal = _refused(db, "5123", occurred_at=(clock.now() - timedelta(hours=3)).isoformat())
        assert refusal.rule == "taser_not_issued"
        assert refusal.message == (
            f"Taser TS-5123 was not issued to officer 5123 at {_stamp(3)}: it was issued to nobody then."
        )

    def test_an_officer_whose_authority_had_lapsed_then_is_refused(self, db: Session) -> None:
        now = clock.now()
        make_taser_holder(
            db,
            collar="5124",
            passed_on=(now - timedelta(days=400)).date(),
            issued_at=now - timedelta(days=100),
        )
        refusal = _refused(db, "5124")
        assert refusal.rule == "taser_authority_lapsed"
        assert "5124" in refusal.message and "TS-5124" in refusal.message and _stamp(1) in refusal.message

    def test_an_officer_who_passed_only_after_the_use_is_refused(self, db: Session) -> None:
        now = clock.now()
        make_taser_holder(
            db, collar="5125", passed_on=(now - timedelta(days=5)).date(), issued_at=now - timedelta(days=10)
        )
        used = now - timedelta(days=8)
        refusal = _refused(db, "5125", occurred_at=used.isoformat())
        assert refusal.rule == "taser_authority_required"
        assert "5125" in refusal.message and "TS-5125" in refusal.message
        assert used.strftime("%Y-%m-%d %H:%M UTC") in refusal.message


class TestWhoFiles:
    def test_an_officer_files_only_for_themselves(self, db: Session) -> None:
        holder = make_taser_holder(db, collar="5131")
        colleague = make_officer(db, collar="5132")
        constable = Actor(username="pc", roles=frozenset({Role.OFFICER}), officer_id=colleague.id)
        with pytest.raises(Forbidden) as refused:
            file_deployment(db, constable, report_in(holder.collar_number))
        assert refused.value.rule == "own_reports_only"
        assert "5131" in refused.value.message
