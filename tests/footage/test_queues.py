"""The lists people work through, on each database: when each clip is due for deletion (the same
answer as the retention job's), an officer's own clips, a supervisor's team's untagged clips and
the evidence manager's queue."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import auth, clock
from openbwv.errors import InvalidInput
from openbwv.footage import queues, retention
from openbwv.footage.models import Clip, ClipSource, FootageCategory
from openbwv.people.models import Officer
from openbwv.policy import Actor, Role
from tests.builders import make_officer, make_unit, make_user
from tests.footage.helpers import events

WINDOW = timedelta(days=7)


def make_clip(db: Session, *, officer: Officer | None = None, days_ago: float = 1, **columns: object) -> Clip:
    """A clip row recorded ``days_ago`` days before the clock's now, with ``columns`` set."""
    sha = uuid.uuid4().hex * 2
    values: dict[str, object] = {"ingest_state": "ready", "camera_serial": "CAM-Q", **columns}
    clip = Clip(
        sha256=sha,
        size=1000,
        storage_key=f"clips/{sha}",
        officer_id=officer.id if officer else None,
        recorded_at=clock.now() - timedelta(days=days_ago),
        **values,
    )
    db.add(clip)
    db.flush()
    return clip


def category(db: Session, code: str) -> FootageCategory:
    return db.scalars(select(FootageCategory).where(FootageCategory.code == code)).one()


def actor_of(db: Session, role: Role, officer: Officer | None = None) -> Actor:
    return auth.actor_for(make_user(db, roles=[role], officer=officer))


def planned_deletions(db: Session, at: timedelta) -> set[int]:
    steps = retention.planned_steps(db, now=clock.now() + at, window=WINDOW)
    return {s.clip_id for s in steps if s.action == "delete"}


class TestDue:
    def test_an_untagged_clip_is_due_as_the_default_category_says(self, db: Session) -> None:
        clip = make_clip(db, days_ago=10)
        due = retention.periods(db).due(clip)
        assert due.at == clip.recorded_at + timedelta(days=31)
        assert due.rule == "untagged, kept as non_evidential: deleted 31 days after recording"

    def test_a_tagged_clip_is_due_as_its_category_says(self, db: Session) -> None:
        training = FootageCategory(code="training_demo", label="Training", retention_days=90)
        db.add(training)
        db.flush()
        clip = make_clip(db, days_ago=10, category_id=training.id)
        due = retention.periods(db).due(clip)
        assert due.at == clip.recorded_at + timedelta(days=90)
        assert due.rule == "training_demo: deleted 90 days after recording"

    def test_an_evidential_category_keeps_the_clip(self, db: Session) -> None:
        clip = make_clip(db, days_ago=400, category_id=category(db, "use_of_force").id)
        due = retention.periods(db).due(clip)
        assert due.at is None and due.rule == "use_of_force: evidential, kept (MoPI group 2)"

    def test_an_evidential_category_without_a_mopi_group_keeps_the_clip_naming_none(
        self, db: Session
    ) -> None:
        kept = FootageCategory(code="public_inquiry", label="Public inquiry", retention_days=None)
        db.add(kept)
        db.flush()
        clip = make_clip(db, days_ago=400, category_id=kept.id)
        assert retention.periods(db).due(clip) == retention.Due(None, "public_inquiry: evidential, kept")

    @pytest.mark.parametrize(
        ("deletion_rule", "why"),
        [
            ("untagged after 31 days", "deleted: untagged after 31 days"),
            (None, "deleted: by the retention job"),
        ],
    )
    def test_a_deleted_clip_is_due_no_more_and_says_what_deleted_it(
        self, db: Session, deletion_rule: str | None, why: str
    ) -> None:
        clip = make_clip(db, days_ago=40, deleted_at=clock.now(), deletion_rule=deletion_rule)
        assert retention.periods(db).due(clip) == retention.Due(None, why)

    def test_a_restored_clip_is_due_from_its_restoration(self, db: Session) -> None:
        restored_at = clock.now() - timedelta(days=2)
        clip = make_clip(db, days_ago=60, restored_at=restored_at)
        assert retention.periods(db).due(clip).at == restored_at + timedelta(days=31)

    @pytest.mark.parametrize(
        ("columns", "why"),
        [
            ({"evidence_flag": True}, "flagged as evidence"),
            ({"legal_hold": True}, "under a legal hold"),
            ({"case_reference": "OP-7"}, "linked to case OP-7"),
        ],
    )
    def test_flagged_held_and_case_linked_clips_are_kept(
        self, db: Session, columns: dict[str, Any], why: str
    ) -> None:
        clip = make_clip(db, days_ago=400, **columns)
        assert retention.periods(db).due(clip) == retention.Due(None, why)

    def test_the_job_deletes_a_clip_on_its_first_run_after_its_due_date(self, db: Session) -> None:
        untagged = make_clip(db, days_ago=30)
        restored = make_clip(db, days_ago=50, restored_at=clock.now() - timedelta(days=29))
        for clip, days_left in ((untagged, 1), (restored, 2)):
            due = retention.periods(db).due(clip)
            assert due.at == clock.now() + timedelta(days=days_left)
            assert clip.id not in planned_deletions(db, timedelta(days=days_left))
            assert clip.id in planned_deletions(db, timedelta(days=days_left, seconds=1))


class TestMyFootage:
    def test_an_officer_sees_their_own_clips_newest_first_a_page_at_a_time(self, db: Session) -> None:
        owner, colleague = make_officer(db, collar="7301"), make_officer(db, collar="7302")
        older, newer, newest = (make_clip(db, officer=owner, days_ago=d) for d in (3, 2, 1))
        make_clip(db, officer=colleague)
        make_clip(db, officer=owner, deleted_at=clock.now())
        actor = actor_of(db, Role.OFFICER, owner)

        first = queues.my_footage(db, actor, limit=2)
        assert [r.clip.id for r in first.rows] == [newest.id, newer.id]
        assert first.next_cursor is not None
        second = queues.my_footage(db, actor, limit=2, cursor=first.next_cursor)
        assert [r.clip.id for r in second.rows] == [older.id]
        assert second.next_cursor is None
        assert first.rows[0].due.at == newest.recorded_at + timedelta(days=31)

    def test_the_due_soon_filter_keeps_only_clips_due_within_seven_days(self, db: Session) -> None:
        owner = make_officer(db, collar="7303")
        soon = make_clip(db, officer=owner, days_ago=26)
        make_clip(db, officer=owner, days_ago=20)
        make_clip(db, officer=owner, days_ago=26, evidence_flag=True)
        make_clip(db, officer=owner, days_ago=26, category_id=category(db, "incident").id)
        actor = actor_of(db, Role.OFFICER, owner)
        found = queues.my_footage(db, actor, due_within=queues.DUE_SOON)
        assert [r.clip.id for r in found.rows] == [soon.id]

    def test_an_account_with_no_officer_record_has_no_clips(self, db: Session) -> None:
        found = queues.my_footage(db, actor_of(db, Role.OFFICER))
        assert found.rows == [] and found.unavailable is not None

    def test_a_cursor_this_list_did_not_make_is_refused(self, db: Session) -> None:
        actor = actor_of(db, Role.OFFICER, make_officer(db, collar="7304"))
        with pytest.raises(InvalidInput):
            queues.my_footage(db, actor, cursor="not-a-cursor")


class TestUntaggedInTeam:
    def test_a_supervisor_sees_their_teams_untagged_clips_oldest_first_and_it_is_audited(
        self, db: Session
    ) -> None:
        team, other = make_unit(db, code="TEAMA"), make_unit(db, code="TEAMB")
        sergeant = make_officer(db, collar="7310", rank="sergeant", unit=team)
        member = make_officer(db, collar="7311", unit=team)
        outsider = make_officer(db, collar="7312", unit=other)
        newer = make_clip(db, officer=member, days_ago=1)
        older = make_clip(db, officer=member, days_ago=5)
        make_clip(db, officer=member, category_id=category(db, "incident").id)
        make_clip(db, officer=outsider)
        make_clip(db, officer=None, review_reason="unknown_camera")
        actor = actor_of(db, Role.SUPERVISOR, sergeant)

        found = queues.untagged_in_team(db, actor)

        assert [r.clip.id for r in found.rows] == [older.id, newer.id]
        assert {r.collar_number for r in found.rows} == {"7311"}
        [viewed] = events(db, "footage:queue:viewed")
        assert viewed.target_id == "untagged"
        assert viewed.details["clip_ids"] == [older.id, newer.id]
        assert viewed.details["subject_officer_ids"] == [member.id]

    def test_an_officer_who_supervises_no_unit_sees_nothing(self, db: Session) -> None:
        officer = make_officer(db, collar="7313")
        make_clip(db, officer=officer)
        found = queues.untagged_in_team(db, actor_of(db, Role.OFFICER, officer))
        assert found.rows == [] and found.unavailable is not None


class TestEvidenceQueue:
    def test_the_three_sections_and_the_view_is_audited(self, db: Session) -> None:
        officer = make_officer(db, collar="7320")
        source = ClipSource(
            source_kind="tus",
            source_id="q-1",
            device_serial="CAM-BAD",
            declared_sha256="a" * 64,
            received_sha256="b" * 64,
            size=10,
            outcome="quarantined",
            quarantine_key="quarantine/q-1",
            payload={},
        )
        db.add(source)
        held = make_clip(db, officer=None, review_reason="no_holder", ingest_state="held_for_review")
        due_soonest = make_clip(db, officer=officer, days_ago=35)
        due_later = make_clip(db, officer=officer, days_ago=26)
        make_clip(db, officer=officer, days_ago=20)
        make_clip(db, officer=officer, days_ago=35, legal_hold=True)
        db.flush()

        queue = queues.evidence_queue(db, actor_of(db, Role.EVIDENCE_MANAGER))

        assert [s.id for s in queue.quarantined] == [source.id] and queue.quarantined_total == 1
        assert [r.clip.id for r in queue.held] == [held.id] and queue.held_total == 1
        assert [r.clip.id for r in queue.due] == [due_soonest.id, due_later.id] and queue.due_total == 2
        assert queue.due[0].due.at == due_soonest.recorded_at + timedelta(days=31)
        [viewed] = events(db, "footage:queue:viewed")
        assert viewed.details["source_ids"] == [source.id]
        assert set(cast(list[int], viewed.details["clip_ids"])) == {held.id, due_soonest.id, due_later.id}

    def test_the_due_section_merges_the_categories_soonest_due_first_and_counts_them_all(
        self, db: Session
    ) -> None:
        training = FootageCategory(code="training_demo", label="Training", retention_days=90)
        db.add(training)
        db.flush()
        # Untagged clips made newest first: their ids run against their due dates.
        due_in_5_days, due_7_days_ago, due_9_days_ago, due_8_days_ago = (
            make_clip(db, days_ago=days) for days in (26, 38, 40, 39)
        )
        due_5_days_ago = make_clip(db, days_ago=95, category_id=training.id)
        tagged = make_clip(db, days_ago=35, category_id=category(db, "non_evidential").id)
        make_clip(db, days_ago=20)

        queue = queues.evidence_queue(db, actor_of(db, Role.EVIDENCE_MANAGER), limit=3)
        assert [r.clip.id for r in queue.due] == [due_9_days_ago.id, due_8_days_ago.id, due_7_days_ago.id]
        assert [r.due.at for r in queue.due] == [clock.now() - timedelta(days=d) for d in (9, 8, 7)]
        assert queue.due_total == 6

        everything = queues.evidence_queue(db, actor_of(db, Role.EVIDENCE_MANAGER), limit=10)
        assert [r.clip.id for r in everything.due][3:5] == [due_5_days_ago.id, tagged.id]
        assert [r.clip.id for r in everything.due][5:] == [due_in_5_days.id]

    def test_clips_due_at_the_same_moment_come_in_id_order(self, db: Session) -> None:
        ids = [make_clip(db, days_ago=35).id for _ in range(5)]
        queue = queues.evidence_queue(db, actor_of(db, Role.EVIDENCE_MANAGER), limit=2)
        assert ([r.clip.id for r in queue.due], queue.due_total) == (ids[:2], 5)

    def test_the_due_section_is_bounded_and_counts_the_rest(self, db: Session) -> None:
        for days in (40, 39, 38):
            make_clip(db, days_ago=days)
        queue = queues.evidence_queue(db, actor_of(db, Role.EVIDENCE_MANAGER), limit=2)
        assert len(queue.due) == 2 and queue.due_total == 3
