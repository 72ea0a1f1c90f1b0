"""Independent verification of the stored audit log: ``openbwv audit verify`` and the auditor's page.

It recomputes every leaf hash from its event row (read through the ORM's types, serialised by
``canonical``), the tree's root at every checkpoint's size in one streaming pass
(``verify.StreamingRoot``), checks every checkpoint's signature (``note``) and, given a checkpoint
saved outside the system, that the log still extends it: the root recomputed from today's leaves at
the saved size must equal the saved root, which is stronger than checking a consistency proof.

It never imports the tree builder (``merkle``) or the sequencer (``log``), so a bug or a tampering on
that path cannot hide itself here; it trusts only the verifier key it is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit import canonical, note, verify
from openbwv.audit.actions import AuditAction
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPending, AuditVerification
from openbwv.audit.service import record
from openbwv.config import ConfigError, Settings
from openbwv.db import transaction
from openbwv.errors import Conflict
from openbwv.policy import Actor

KEY_FILE = "audit-log.key"
"""The signer key file the log keeps in the data directory; only read here, never created."""
ON_DEMAND_LIMIT = 200_000
"""Largest log the auditor's page verifies while the browser waits; beyond it, the CLI or the job."""
_STREAM_BATCH = 5_000


class SavedCheckpointError(ValueError):
    """A saved checkpoint file is neither checkpoint JSON nor a signed note."""


@dataclass(frozen=True)
class SavedCheckpoint:
    """A checkpoint kept outside the system: the JSON of ``openbwv audit checkpoint`` or a bare note."""

    note: str
    verifier_key: str | None = None

    @classmethod
    def from_text(cls, text: str) -> SavedCheckpoint:
        if not text.lstrip().startswith("{"):
            return cls(note=text)
        try:
            data = json.loads(text)
            return cls(note=str(data["note"]), verifier_key=data.get("verifier_key"))
        except (ValueError, KeyError, TypeError):
            raise SavedCheckpointError('the file is not checkpoint JSON with a "note"') from None


@dataclass
class Report:
    leaves: int = 0
    """Leaves whose event still matches its leaf hash, counted from the start."""
    checkpoints: int = 0
    queued: int = 0
    first_bad_leaf: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, *, leaf: int | None = None) -> None:
        self.problems.append(message)
        if leaf is not None and (self.first_bad_leaf is None or leaf < self.first_bad_leaf):
            self.first_bad_leaf = leaf

    def summary(self) -> str:
        if self.ok:
            checkpoints = (
                "1 signed checkpoint holds"
                if self.checkpoints == 1
                else (f"all {self.checkpoints:,} signed checkpoints hold")
            )
            return (
                f"OK: {self.leaves:,} leaves match their events and {checkpoints} "
                f"({self.queued:,} events queued for the log)."
            )
        where = f" First bad leaf index: {self.first_bad_leaf}." if self.first_bad_leaf is not None else ""
        return f"FAILED: {self.problems[0]}{where}"


def system_verifier(settings: Settings) -> note.Ed25519Verifier:
    """The verifier key of this system's log, derived from its key file (which must exist)."""
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        raise ConfigError(f"No audit log key in {path}: the log has never signed a checkpoint here.")
    return note.Ed25519Signer.from_skey(path.read_text().strip()).verifier()


def verify_log(
    db: Session, *, verifier: note.Verifier, origin: str, against: SavedCheckpoint | None = None
) -> Report:
    """Check the stored log end to end; the report names the first bad leaf index where it can."""
    report = Report()
    expected = _signed_roots(db, report, verifier=verifier, origin=origin)
    saved = _saved_root(report, against, verifier=verifier, origin=origin) if against else None
    sizes = set(expected) | ({saved[0]} if saved else set())
    roots = _recompute(db, report, sizes)
    stored = db.scalar(select(func.count()).select_from(AuditLeaf)) or 0
    good_below = 0
    for size in sorted(expected):
        if size in roots and roots[size] != expected[size]:
            report.fail(
                f"checkpoint {size}: its signed root does not match the leaves, though each leaf matches its "
                f"stored hash: leaves in [{good_below}, {size}) were rewritten with their hashes"
            )
        elif size > stored:
            report.fail(
                f"checkpoint {size} covers more leaves than the log holds ({stored}): leaves were removed",
                leaf=stored,
            )
        elif size in roots:
            good_below = size
    if saved:
        size, root = saved
        if size > stored:
            report.fail(
                f"the log holds {stored} leaves, fewer than the saved checkpoint's {size}: it was cut back",
                leaf=stored,
            )
        elif size in roots and roots[size] != root:
            report.fail(f"the log is not consistent with the saved checkpoint of {size} leaves")
    _check_queue(db, report)
    return report


def _signed_roots(db: Session, report: Report, *, verifier: note.Verifier, origin: str) -> dict[int, bytes]:
    """Each stored checkpoint's size and root, as signed; unsigned or altered ones are problems."""
    roots = {}
    for row in db.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).scalars():
        report.checkpoints += 1
        try:
            body = note.parse_checkpoint(note.open_note(row.note, [verifier]).text)
        except note.NoteError as exc:
            report.fail(f"checkpoint {row.tree_size}: {exc}")
            continue
        if body.origin != origin:
            report.fail(f"checkpoint {row.tree_size} is for log {body.origin!r}, not {origin!r}")
        elif (body.tree_size, body.root_hash) != (row.tree_size, bytes(row.root_hash)):
            report.fail(f"checkpoint {row.tree_size}: the stored size or root differs from its signed note")
        else:
            roots[body.tree_size] = body.root_hash
    return roots


def _saved_root(
    report: Report, saved: SavedCheckpoint, *, verifier: note.Verifier, origin: str
) -> tuple[int, bytes] | None:
    try:
        if saved.verifier_key is not None:
            key = note.Ed25519Verifier.from_vkey(saved.verifier_key)
            if (key.name, key.key_id) != (verifier.name, verifier.key_id):
                report.fail(f"the saved checkpoint names key {saved.verifier_key}, not the log's key")
                return None
        body = note.parse_checkpoint(note.open_note(saved.note, [verifier]).text)
    except note.NoteError as exc:
        report.fail(f"the saved checkpoint does not verify: {exc}")
        return None
    if body.origin != origin:
        report.fail(f"the saved checkpoint is for log {body.origin!r}, not {origin!r}")
        return None
    return body.tree_size, body.root_hash


def _recompute(db: Session, report: Report, sizes: set[int]) -> dict[int, bytes]:
    """Walk the leaves in order, re-deriving each hash from its event row; the roots at ``sizes``.

    Stops at the first leaf that is missing, whose event is missing, or whose event no longer
    gives its hash: every root past it would fail anyway.
    """
    stream = verify.StreamingRoot()
    roots = {0: stream.root()} if 0 in sizes else {}
    columns = [getattr(AuditEvent, name) for name in canonical.FIELDS]
    query = (
        select(AuditLeaf.leaf_index, AuditLeaf.event_id, AuditLeaf.leaf_hash, *columns)
        .outerjoin(AuditEvent, AuditEvent.id == AuditLeaf.event_id)
        .order_by(AuditLeaf.leaf_index)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    for row in db.execute(query):
        index = stream.size
        if row.leaf_index != index:
            report.fail(f"leaf {index} is missing from the log", leaf=index)
            break
        if row.id is None:
            report.fail(f"leaf {index}: its event {row.event_id} has been deleted", leaf=index)
            break
        digest = verify.leaf_hash(canonical.leaf_bytes(row._mapping))
        if digest != row.leaf_hash:
            report.fail(
                f"leaf {index}: event {row.event_id} no longer matches its leaf hash (changed after it was logged)",
                leaf=index,
            )
            break
        stream.append(digest)
        if stream.size in sizes:
            roots[stream.size] = stream.root()
    report.leaves = stream.size
    return roots


def _check_queue(db: Session, report: Report) -> None:
    """Every event must be a leaf or queued to become one."""
    report.queued = db.scalar(select(func.count()).select_from(AuditPending)) or 0
    outside = db.scalars(
        select(AuditEvent.id)
        .where(
            ~exists().where(AuditLeaf.event_id == AuditEvent.id),
            ~exists().where(AuditPending.event_id == AuditEvent.id),
        )
        .order_by(AuditEvent.id)
        .limit(5)
    ).all()
    if outside:
        report.fail(f"events {', '.join(map(str, outside))} are neither in the log nor queued for it")
    vanished = db.scalars(
        select(AuditPending.event_id)
        .where(~exists().where(AuditEvent.id == AuditPending.event_id))
        .order_by(AuditPending.event_id)
        .limit(5)
    ).all()
    if vanished:
        report.fail(f"queued events {', '.join(map(str, vanished))} were deleted before they were logged")


def run_verification(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    against: SavedCheckpoint | None = None,
    verifier: note.Verifier | None = None,
) -> Report:
    """Verify the log (with the system's own key unless another is given), then store the outcome for
    the auditor's pages and record that the check ran."""
    started = clock.now()
    with factory() as db:
        report = verify_log(
            db,
            verifier=verifier or system_verifier(settings),
            origin=settings.audit_log_origin,
            against=against,
        )
    _store(factory, report, actor=actor, started=started)
    return report


def verify_on_demand(
    factory: sessionmaker[Session], settings: Settings, *, actor: Actor, verifier: note.Verifier
) -> Report:
    """``run_verification`` for someone waiting on a page: refused (``Conflict``) for a large log."""
    with factory() as db:
        size = db.scalar(select(func.count()).select_from(AuditLeaf)) or 0
    if size > ON_DEMAND_LIMIT:
        raise Conflict(
            f"The log has {size:,} leaves, too many to verify while you wait; "
            "the scheduled job or `openbwv audit verify` checks it."
        )
    return run_verification(factory, settings, actor=actor, verifier=verifier)


def _store(factory: sessionmaker[Session], report: Report, *, actor: Actor, started: datetime) -> None:
    with transaction(factory) as db:
        db.add(
            AuditVerification(
                started_at=started,
                finished_at=clock.now(),
                run_by=actor.username,
                ok=report.ok,
                leaves_checked=report.leaves,
                checkpoints_checked=report.checkpoints,
                first_bad_leaf=report.first_bad_leaf,
                message="\n".join([report.summary(), *report.problems[1:]]),
            )
        )
        record(
            db,
            actor=actor,
            action=AuditAction.AUDIT_LOG_VERIFIED,
            details={"ok": report.ok, "leaves": report.leaves, "first_bad_leaf": report.first_bad_leaf},
        )


def latest_verification(db: Session) -> AuditVerification | None:
    return db.scalars(select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)).first()
