"""The log at a glance, for the auditor's home page: the latest signed checkpoint and the last run
of the independent verifier."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from openbwv.audit.models import AuditCheckpoint, AuditVerification
from openbwv.audit.proofs import latest_checkpoint
from openbwv.audit.verification import latest_verification


@dataclass(frozen=True)
class LogOverview:
    checkpoint: AuditCheckpoint | None
    verification: AuditVerification | None

    @property
    def outcome(self) -> str | None:
        """The last verification's summary line (``OK: ...`` or ``FAILED: ...``)."""
        return None if self.verification is None else self.verification.message.splitlines()[0]


def log_overview(db: Session) -> LogOverview:
    """The latest checkpoint and the last verification run, either None where there is none yet."""
    return LogOverview(checkpoint=latest_checkpoint(db), verification=latest_verification(db))
