"""The audit log's periodic work: sequencing and signing, misuse rules, and nightly verification.

These handlers need the service's settings (the signing key lives in the data directory), so the
registry is built for the settings a worker runs with.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.audit import log, misuse, verification
from openbwv.config import Settings
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM

SEQUENCE_AND_CHECKPOINT = "audit.sequence_and_checkpoint"
MISUSE_RULES = "audit.misuse_rules"
NIGHTLY_VERIFICATION = "audit.nightly_verification"


def registry_for(settings: Settings, *, rules: Sequence[misuse.Rule] | None = None) -> JobRegistry:
    """The audit jobs for ``settings``; the misuse job runs ``rules`` (default: the standard rules)."""
    registry = JobRegistry()
    running = list(rules) if rules is not None else misuse.default_rules()

    @registry.schedule(SEQUENCE_AND_CHECKPOINT, "* * * * * */3")
    def sequence_and_checkpoint(factory: sessionmaker[Session]) -> None:
        """Every three seconds: new events become leaves and a new checkpoint is signed if the tree grew."""
        log.sequence_and_checkpoint(factory, settings)

    @registry.schedule(MISUSE_RULES, "* * * * *")
    def run_misuse_rules(factory: sessionmaker[Session]) -> None:
        """Every minute: raise alerts for professional standards (idempotent: no event is cited twice)."""
        misuse.run_misuse_rules(factory, now=clock.now(), rules=running)

    @registry.schedule(NIGHTLY_VERIFICATION, "15 3 * * *")
    def verify_log(factory: sessionmaker[Session]) -> None:
        """Every night: recompute the whole tree and check every checkpoint, recording the outcome."""
        verification.run_verification(factory, settings, actor=SYSTEM)

    @registry.on_startup_last
    def catch_up(factory: sessionmaker[Session]) -> None:
        """At start-up, sequence whatever queued while no worker ran, other sweeps' events included."""
        log.sequence_and_checkpoint(factory, settings)

    return registry
