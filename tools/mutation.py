"""Mutation testing of the rule modules: run mutmut, then print the score table and write it into
docs/TESTING.md.

    python tools/mutation.py            # run every mutant, then report
    python tools/mutation.py --report   # report on the last run in mutants/ only
    python tools/mutation.py openbwv.auth.service   # run one module's mutants, then report
    python tools/mutation.py --survivors            # rerun the last run's survivors, then report

What is mutated and which tests run lives in pyproject.toml, ``[tool.mutmut]``: the SQLite half of the
tests that cover the rule modules, browser and slow tests left out. mutmut runs, for each mutant,
only the tests that reach the function it changed, so a new module costs only its own tests.

The score is killed / (mutants - listed equivalents): a mutant no test reaches counts against it,
as does a survivor, unless it is in ``EQUIVALENT`` below with the reason it changes no behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "TESTING.md"
BEGIN = "<!-- mutation table: written by tools/mutation.py -->"
END = "<!-- end of mutation table -->"
TARGET = 0.90

# Modules reported together, as the issue that started this measured them.
GROUPS: dict[str, list[str]] = {
    "policy/rules.py + policy/records.py": ["src/openbwv/policy/rules.py", "src/openbwv/policy/records.py"],
    "fleet/issues.py": ["src/openbwv/fleet/issues.py"],
    "fleet/authority.py": ["src/openbwv/fleet/authority.py"],
    "fleet/training/service.py": ["src/openbwv/fleet/training/service.py"],
    "fleet/training/eligibility.py": ["src/openbwv/fleet/training/eligibility.py"],
    "auth/service.py": ["src/openbwv/auth/service.py"],
    "audit/merkle.py + audit/verify.py": ["src/openbwv/audit/merkle.py", "src/openbwv/audit/verify.py"],
    "access/grants.py": ["src/openbwv/access/grants.py"],
    "footage/playback.py": ["src/openbwv/footage/playback.py"],
    "footage/retention.py": ["src/openbwv/footage/retention.py"],
    "live/views.py": ["src/openbwv/live/views.py"],
    "taser/service.py": ["src/openbwv/taser/service.py"],
}

# Survivors that change no behaviour a user, a caller or the audit log could notice, with why.
# Named as mutmut names them (``mutmut show NAME``); a change to the function renumbers its mutants.
_SQLITE_LIKE = (
    "SQLite's LIKE ignores ASCII case, so upper() and lower() match alike; PostgreSQL's LIKE does not, "
    "and TestListUsers's search for ' LEE ' fails there"
)
_INFERRED_JOIN = "a join with no ON clause infers the same one from the single foreign key"
_RELOAD = (
    "the issue is refreshed right after, so a stale device row changes nothing; only another transaction "
    "returning it at the same moment could tell (no SQLite test can stage it)"
)
_RACE = "the check before it refuses the same duplicate; only a concurrent insert reaches the constraint"
_DISCHARGE_TIME = "discharge_cartridge always records a time, so the message's fallback is never reached"
_WIDTHS = "subtree widths are only compared for equality, and any start or factor keeps equal levels equal"
_NO_LOCK = (
    "SQLite ignores FOR UPDATE (it serialises writers itself); the lock matters on PostgreSQL, which the "
    "mutation run does not use"
)
_OWN_VIEWING_NEWEST = (
    "the viewing event of the caller's live grant is the newest of their viewings of the clip (one grant per "
    "person and clip is live, and it is viewed once; ids follow the one clock), so it is the first row "
    "whatever the limit, and earlier viewings only ever follow it"
)
_NO_USER = "condition_for never asks a rule about an actor without a user id"
_SAME_DAY_PASSES = (
    "both databases read an officer's few passes in the order stored, id order, and keep it for ties "
    "(test_of_two_passes_on_one_day_the_one_recorded_last_stands passes either way); the tie-break guards a "
    "sort free to reorder ties"
)
EQUIVALENT: dict[str, str] = {
    **{
        f"openbwv.auth.service.x_check_account_shape__mutmut_{n}": "only one role (prosecutor) needs an "
        "organisation, so the names are never joined"
        for n in (45, 46)
    },
    "openbwv.auth.service.x_change_password__mutmut_15": "Session.get with no key finds nothing, which the next "
    "line refuses as the guard does",
    "openbwv.auth.service.x__revoke_tokens_of__mutmut_6": "a token revoked already stays revoked: whether it is "
    "revoked is read, never when",
    **{f"openbwv.fleet.issues.x_list_issue_periods__mutmut_{n}": _INFERRED_JOIN for n in (14, 16)},
    **{
        f"openbwv.fleet.issues.x_check_issuable__mutmut_{n}": "a device becomes lost or stolen only through a "
        "movement to that state (add_movement sets the state), so the report is always found"
        for n in (23, 29)
    },
    **{f"openbwv.fleet.training.service.x_officer_training__mutmut_{n}": _SAME_DAY_PASSES for n in (4, 6)},
    **{f"openbwv.fleet.training.service.x_officer_training__mutmut_{n}": _INFERRED_JOIN for n in (9, 11)},
    **{f"openbwv.fleet.training.service.x_create_course__mutmut_{n}": _RACE for n in (36, 39)},
    "openbwv.fleet.training.eligibility.x_describe_eligibility_rules__mutmut_20": "ranks.get(None) is None as the "
    "guard's None is: no rank has an empty code",
    **{
        f"openbwv.fleet.training.service.x_authority_on__mutmut_{n}": "first() takes the first row whatever the "
        "limit, which only stops the rest being read"
        for n in (3, 21)
    },
    "openbwv.fleet.training.eligibility.x__unit_code__mutmut_4": "a rule's unit is a foreign key to a unit, so it "
    "is always found and next() never falls back to its default",
    "openbwv.auth.service.x_issue_token__mutmut_4": "token_urlsafe(None) draws its default, the same 32 bytes",
    "openbwv.auth.service.x_resolve_token__mutmut_5": _INFERRED_JOIN,
    "openbwv.auth.service.x_resolve_token__mutmut_7": _INFERRED_JOIN,
    "openbwv.auth.service.x__refusal__mutmut_7": "int(s // 60) == int(s / 60) for any non-negative s",
    "openbwv.auth.service.x_sign_in__mutmut_149": "int(s // 60) == int(s / 60) for any non-negative s",
    "openbwv.auth.service.x__refusal__mutmut_36": "with no failures from the address the name's count from it "
    "is 0 too, and a count of 0 never waits",
    "openbwv.auth.service.x_sign_in__mutmut_83": "the account was read active a moment before; only one disabled "
    "between the password check and the token's transaction differs (a race no test can stage)",
    "openbwv.auth.service.x_sign_in__mutmut_126": "after a failure only an account lockout is acted on, and the "
    "account count reads no address",
    "openbwv.auth.service.x_list_users__mutmut_4": _SQLITE_LIKE,
    **{
        f"openbwv.fleet.issues.x__already_checked_out__mutmut_{n}": "only called for a device with a current "
        "issue, and an issue's officer always exists (foreign keys): the fallbacks are never reached"
        for n in (3, 10, 17, 22, 23, 30, 31)
    },
    **{
        f"openbwv.fleet.issues.x_holder_at__mutmut_{n}": "a device has at most one open issue (a unique index), "
        "so at most one issue covers a moment: its order and limit pick among one row"
        for n in (3, 4, 5, 6, 7, 30)
    },
    **{
        f"openbwv.fleet.issues.x_holder_at__mutmut_{n}": "an issue's officer always exists (a foreign key): the "
        "fallback is never reached"
        for n in (39, 41)
    },
    "openbwv.fleet.issues.x__check_taser__mutmut_86": _DISCHARGE_TIME,
    "openbwv.fleet.issues.x__check_taser__mutmut_97": _DISCHARGE_TIME,
    "openbwv.fleet.issues.x__open_issues_of__mutmut_7": _INFERRED_JOIN,
    "openbwv.fleet.issues.x__open_issues_of__mutmut_9": _INFERRED_JOIN,
    "openbwv.fleet.training.service.x_latest_expiries__mutmut_6": "max() skips the passes with no expiry, and an "
    "officer with only those is dropped after the query",
    "openbwv.fleet.training.service.x_add_volunteer__mutmut_18": "the register's primary key refuses the second "
    "entry with the same Conflict",
    **{f"openbwv.fleet.training.service.x_add_volunteer__mutmut_{n}": _RACE for n in (29, 32, 33)},
    "openbwv.fleet.training.service.x_create_course__mutmut_40": _RACE,
    "openbwv.audit.verify.xǁStreamingRootǁappend__mutmut_5": _WIDTHS,
    "openbwv.audit.verify.xǁStreamingRootǁappend__mutmut_20": _WIDTHS,
    **{
        f"openbwv.auth.service.x_create_user__mutmut_{n}": "the unique index refuses the same duplicate with the "
        "same Conflict (refusing_duplicates), so a broken check before it changes no answer"
        for n in (36, 37, 43, 44)
    },
    **{f"openbwv.auth.service.x_create_user__mutmut_{n}": _RACE for n in (64, 67, 68, 69, 70)},
    **{
        f"openbwv.fleet.issues.x_issue_device__mutmut_{n}": _RACE
        for n in (99, 100, 101, 102, 103, 105, 107, 108, 109, 110, 111, 115)
    },
    "openbwv.fleet.issues.x_issue_device__mutmut_20": _NO_LOCK,
    "openbwv.fleet.issues.x__label__mutmut_1": "'taser'.capitalize() is 'Taser' too",
    "openbwv.fleet.issues.x__label__mutmut_7": "'taser'.capitalize() is 'Taser' too",
    "openbwv.fleet.issues.x__already_has_camera__mutmut_3": _RACE + " (the only caller without a serial)",
    "openbwv.fleet.issues.x__already_has_camera__mutmut_5": _RACE + " (the only caller without a serial)",
    "openbwv.fleet.issues.x__label__mutmut_8": "'taser'.capitalize() is 'Taser' too",
    "openbwv.fleet.issues.x__already_has_camera__mutmut_4": _RACE + " (the only caller without a serial)",
    "openbwv.fleet.issues.x_issue_device__mutmut_16": _NO_LOCK,
    "openbwv.fleet.issues.x_issue_device__mutmut_19": _NO_LOCK,
    "openbwv.fleet.issues.x_list_open_issues__mutmut_21": "due_back_at < now is not true for a NULL due time anyway",
    "openbwv.fleet.issues.x_list_open_issues__mutmut_7": _INFERRED_JOIN,
    "openbwv.fleet.issues.x_list_open_issues__mutmut_9": _INFERRED_JOIN,
    "openbwv.fleet.issues.x_officers_holding__mutmut_8": _INFERRED_JOIN,
    "openbwv.fleet.issues.x_officers_holding__mutmut_10": _INFERRED_JOIN,
    "openbwv.fleet.training.service.x_authority_of__mutmut_3": "first() reads one row whatever the limit",
    "openbwv.fleet.training.service.x_authority_of__mutmut_18": "first() reads one row whatever the limit",
    "openbwv.fleet.issues.x_holder_at__mutmut_15": _INFERRED_JOIN,
    "openbwv.fleet.issues.x_holder_at__mutmut_17": _INFERRED_JOIN,
    "openbwv.fleet.issues.x_return_issue__mutmut_14": _RELOAD,
    "openbwv.fleet.issues.x_return_issue__mutmut_18": _RELOAD,
    "openbwv.fleet.training.service.x_officer_training__mutmut_9": _INFERRED_JOIN,
    "openbwv.fleet.training.service.x_officer_training__mutmut_11": _INFERRED_JOIN,
    "openbwv.fleet.training.service.x_officer_training__mutmut_4": "two passes of a course on one day fall back "
    "to insertion order, which is id order",
    "openbwv.fleet.training.service.x_officer_training__mutmut_6": "two passes of a course on one day fall back "
    "to insertion order, which is id order",
    "openbwv.fleet.training.service.x_create_course__mutmut_36": _RACE,
    "openbwv.fleet.training.service.x_create_course__mutmut_39": _RACE,
    "openbwv.policy.records.x__held_by__mutmut_1": _NO_USER,
    "openbwv.policy.records.x__redacted_shared_with__mutmut_3": _NO_USER,
    "openbwv.policy.records.x__granted_to__mutmut_1": _NO_USER,
    "openbwv.policy.records.x__supervised_unit__mutmut_3": "an empty set of units admits no clip, and a "
    "supervisor's footage scope is never empty anyway: their account must have an officer record "
    "(check_account_shape), so their own footage's condition is always there",
    "openbwv.policy.records.x__granted_for_conduct__mutmut_1": _NO_USER,
    "openbwv.auth.service.x_list_users__mutmut_10": _SQLITE_LIKE,
    "openbwv.auth.service.x_list_users__mutmut_13": _SQLITE_LIKE,
    **{
        f"openbwv.taser.service.x__check_cartridges__mutmut_{n}": "a Taser's model is checked against the "
        "fleet's models when it is registered, and models are never removed: the one-bay fallback is never reached"
        for n in (38, 40)
    },
    **{
        f"openbwv.taser.service.x_file_deployment__mutmut_{n}": "the discharge is given its time (the report's, "
        "never after now), so its own now only checks that time against the clock, which is no earlier"
        for n in (37, 44)
    },
    **{
        f"openbwv.taser.service.x_collar_numbers__mutmut_{n}": "a report's officer always exists (a foreign key): "
        "the fallback is never reached"
        for n in (9, 11)
    },
    "openbwv.footage.playback.x_may_see__mutmut_3": "looking up the officer of a clip nobody held finds none, "
    "the answer the shortcut gives (one query more)",
    "openbwv.footage.playback.x_clip_page__mutmut_40": "the page shows the newest 50 of both queries together, "
    "and audit ids are given in the order of the one clock (one writer at a time), so each query's newest 50 by "
    "id hold them: reading more shows nothing more",
    "openbwv.footage.playback.x_clip_page__mutmut_41": "offset(None) adds no OFFSET, the same as 0",
    "openbwv.footage.playback.x_clip_page__mutmut_64": "list_reasons tests include_inactive for truth, and None "
    "is false as False is",
    **{f"openbwv.access.grants.x__grant_to_change__mutmut_{n}": _NO_LOCK for n in (13, 15, 16)},
    "openbwv.access.grants.x_may_see_all_grants__mutmut_7": "every role holding access:grant:oversee "
    "(professional standards, admin) also holds access:grant:read, so the first test already decides",
    **{
        f"openbwv.footage.playback.x__viewed_under__mutmut_{n}": _OWN_VIEWING_NEWEST
        for n in (4, 14, 19)  # no limit; no lower bound on the time
    },
    "openbwv.footage.playback.x__viewed_under__mutmut_5": "offset(None) adds no OFFSET, the same as 0",
    **{
        f"openbwv.footage.playback.x__viewed_under__mutmut_{n}": "footage:clip:viewed events are only ever "
        "recorded against a clip (open_playback alone writes them), so the target type selects nothing more"
        for n in (12, 17)
    },
    "openbwv.access.grants.x_list_grants__mutmut_1": "its one caller, the oversight API, always passes its "
    "page's limit",
    "openbwv.access.grants.x_list_own_grants__mutmut_2": "its callers, the own-grants API and page, always pass "
    "their page's limit",
    "openbwv.access.grants.x__check_duration__mutmut_13": "int(s // 60) == int(s / 60) for any non-negative s",
    "openbwv.footage.retention.x_due_by_clause__mutmut_6": "NULL OR x selects what x selects in a WHERE clause",
    "openbwv.footage.retention.x_due_by_clause__mutmut_7": "the default category must delete (a CHECK constraint), so "
    "there is always a bucket and the OR is never empty",
    "openbwv.footage.retention.xǁPeriodsǁdue__mutmut_21": "only read for a tagged clip, whose category id is "
    "never None or 0, so the fallback id is never used",
    **{
        f"openbwv.footage.retention.xǁPeriodsǁdue__mutmut_{n}": "a clip always has a category: a tagged clip's by "
        "its foreign key, an untagged clip the default, which cannot be taken off or retired"
        for n in (34, 35, 36)
    },
    "openbwv.footage.retention.x_period_start__mutmut_3": "restored at the moment it was recorded, either start "
    "is the same time",
    "openbwv.footage.retention.x_periods__mutmut_8": "there is always a default category (it can only be "
    "replaced by another), so next() never runs out and its default is never used",
    **{f"openbwv.footage.retention.x__locked__mutmut_{n}": _NO_LOCK for n in (1, 3)},
    **{
        name: "SQLAlchemy takes synchronize_session=None as False: the session is not synchronised either way"
        for name in (
            "openbwv.footage.retention.x_delete_due_batch__mutmut_18",
            "openbwv.footage.retention.x_destroy_expired_batch__mutmut_14",
            "openbwv.footage.retention.x_purge__mutmut_31",
        )
    },
    "openbwv.footage.retention.x_delete_due_batch__mutmut_69": "once the batch is full, each bucket after is asked "
    "for LIMIT 0 rows and finds none",
    "openbwv.footage.retention.x_due_by__mutmut_8": "a bucket's category always has retention_days, at least 1 "
    "(schema and service), so the fallback is never read",
    "openbwv.footage.retention.x_due_by__mutmut_21": "the merged list is cut at limit after sorting, and a "
    "category's soonest due are its first limit clips by (recorded_at, id): reading more shows nothing more",
    "openbwv.footage.retention.x_due_by__mutmut_25": "a bucket's clips share one category_id (NULL for the "
    "untagged ones), so ordering by it first changes nothing",
    **{
        f"openbwv.footage.retention.x_due_by__mutmut_{n}": "(due, id) is unique, so sorting by it, by the whole "
        "tuple or by its first three sorts alike (the clip itself is never compared)"
        for n in (33, 35)
    },
    **{
        name: "SQLite takes ORDER BY NULL as no key and reads ties off the partial index in id order; PostgreSQL "
        "refuses ORDER BY NULL, and the retention and queue tests fail there"
        for name in (
            "openbwv.footage.retention.x_due_by__mutmut_22",
            "openbwv.footage.retention.x_due_by__mutmut_24",
            "openbwv.footage.retention.x_list_recoverable__mutmut_17",
            "openbwv.footage.retention.x_purge__mutmut_9",
        )
    },
    **{
        name: "ties come off the partial index, whose last column is id, in id order anyway on both databases "
        "(test_clips_due_at_the_same_moment_come_in_id_order and the deleted list's paging test pin the order)"
        for name in (
            "openbwv.footage.retention.x_due_by__mutmut_27",
            "openbwv.footage.retention.x_list_recoverable__mutmut_19",
            "openbwv.footage.retention.x_purge__mutmut_11",
            "openbwv.footage.retention.x__due_query__mutmut_6",
            "openbwv.footage.retention.x__expired_query__mutmut_4",
        )
    },
    **{
        f"openbwv.footage.retention.x_planned_steps__mutmut_{n}": "read whole, the plan yields the same steps in "
        "the same order and its next page is empty; the batch only bounds what is held at once"
        for n in (22, 62)
    },
    "openbwv.live.views.x_end_view__mutmut_25": "an ended view has no stream URL, so the options are never read",
    "openbwv.live.views.x_list_live_reasons__mutmut_3": "list_reasons tests include_inactive for truth, and None "
    "is false as False is",
    **{
        f"openbwv.taser.service.x_file_deployment__mutmut_{n}": "the column's default is 1, the version a filing sets"
        for n in (16, 20)
    },
    **{
        f"openbwv.taser.service.x_list_deployments__mutmut_{n}": "SQLite returns reports of the same moment newest "
        "id first anyway; PostgreSQL does not, and test_filters_by_officer_time_and_highest_level fails there"
        for n in (41, 43)
    },
}

# A failing test, a timeout (mutmut's CPU limit: SIGXCPU, then SIGKILL, which it reports as a
# "segfault"), or a type check.
KILLED = {1, 3, 24, -24, 152, 255, 36, 37, -9}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Row:
    name: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    equivalent: int = 0
    other: int = 0
    measured: str = ""
    """The day (UTC) of the run the figures come from."""
    ran: bool = True
    """Whether any of its mutants has run."""

    @property
    def score(self) -> float:
        counted = self.mutants - self.equivalent
        return self.killed / counted if counted else 1.0


def _configured_files() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def _meta_path(path: str) -> Path:
    return ROOT / "mutants" / (path + ".meta")


def _meta(path: str) -> dict[str, int | None]:
    meta_path = _meta_path(path)
    if not meta_path.exists():
        return {}
    exit_codes: dict[str, int | None] = json.loads(meta_path.read_text())["exit_code_by_key"]
    return exit_codes


def _measured(paths: list[str]) -> str:
    """The day mutmut last wrote the group's results."""
    times = [_meta_path(p).stat().st_mtime for p in paths if _meta_path(p).exists()]
    return datetime.fromtimestamp(max(times), UTC).date().isoformat() if times else ""


def _rows_in_doc() -> dict[str, Row]:
    """The rows of the table as the doc has it: what a group none of whose mutants ran keeps."""
    doc = DOC.read_text() if DOC.exists() else ""
    _, _, rest = doc.partition(BEGIN)
    rows: dict[str, Row] = {}
    for line in rest.partition(END)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 9 or not cells[1].isdigit():
            continue
        mutants, killed, survived, no_tests, equivalent, other = (int(c) for c in cells[1:7])
        if killed + survived + no_tests == 0:
            continue
        rows[cells[0]] = Row(cells[0], mutants, killed, survived, no_tests, equivalent, other, cells[8])
    return rows


def collect() -> tuple[list[Row], dict[str, list[str]]]:
    """The table's rows, and the unexplained survivors (and unreached mutants) of each group."""
    configured = set(_configured_files())
    missing = configured - {p for paths in GROUPS.values() for p in paths}
    if missing:
        raise SystemExit(f"add {sorted(missing)} to GROUPS in tools/mutation.py")
    rows: list[Row] = []
    left: dict[str, list[str]] = {}
    earlier = _rows_in_doc()
    for name, paths in GROUPS.items():
        row = Row(name, measured=_measured(paths))
        ran = False
        for path in paths:
            for mutant, code in _meta(path).items():
                ran = ran or code is not None
                row.mutants += 1
                if mutant in EQUIVALENT and code not in KILLED:
                    row.equivalent += 1
                elif code in KILLED:
                    row.killed += 1
                elif code in SURVIVED:
                    row.survived += 1
                    left.setdefault(name, []).append(mutant)
                elif code in NO_TESTS:
                    row.no_tests += 1
                    left.setdefault(name, []).append(mutant)
                else:
                    row.other += 1
        if not ran and name in earlier:
            # Not run since the stored results were reset (or none here): the last measured figures.
            row = earlier[name]
        elif not ran:
            row.ran, row.measured = False, "-"
        rows.append(row)
    return rows, left


def table(rows: list[Row]) -> str:
    lines = [
        "| module | mutants | killed | survived | no test reaches | equivalent | not run | score | measured |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.mutants} | {r.killed} | {r.survived} | {r.no_tests} | {r.equivalent} "
            f"| {r.other} | {f'{r.score:.1%}' if r.ran else '-'} | {r.measured} |"
        )
    return "\n".join(lines)


def equivalents() -> str:
    if not EQUIVALENT:
        return "No survivor is listed as equivalent."
    return "\n".join(f"- `{name}`: {why}" for name, why in sorted(EQUIVALENT.items()))


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else ""
    if BEGIN in doc and END in doc:
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        doc = f"{head}{BEGIN}\n{text}\n{END}{tail}"
    else:
        doc = f"{doc}\n{BEGIN}\n{text}\n{END}\n"
    DOC.write_text(doc)


def run_mutmut(patterns: list[str]) -> None:
    children = os.environ.get("MUTATION_CHILDREN", str(os.cpu_count() or 1))
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", children, *patterns]
    # mutmut's own exit status says nothing about the score; the table does.
    subprocess.run(command, cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="dotted module names whose mutants to run (default: all)")
    parser.add_argument("--report", action="store_true", help="only report on the last run")
    parser.add_argument(
        "--survivors", action="store_true", help="rerun only the last run's survivors and unreached mutants"
    )
    args = parser.parse_args()
    if args.survivors:
        names = [name for mutants in collect()[1].values() for name in mutants]
        if names:
            run_mutmut(names)
    elif not args.report:
        run_mutmut([n if n.endswith("*") else f"{n}*" for n in args.modules])
    rows, left = collect()
    text = table(rows)
    print(text)
    for name, mutants in left.items():
        print(f"\n{name}: {len(mutants)} not killed (`mutmut show NAME` shows one)")
        print("  " + "\n  ".join(sorted(mutants)))
    write_doc(f"{text}\n\nEquivalent survivors:\n\n{equivalents()}")
    below = [r.name for r in rows if r.ran and r.mutants and r.score < TARGET]
    if below:
        print(f"\nbelow {TARGET:.0%}: {', '.join(below)}")


if __name__ == "__main__":
    main()
