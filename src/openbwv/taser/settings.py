"""The numbers the Taser rules read (radii, windows, grace periods, tolerances), kept as data so that
professional standards change them without a release; each change is audited with the old value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.policy import Actor
from openbwv.taser.models import TaserSetting


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    unit: str
    default: float
    low: float
    high: float


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("link_radius_m", "Cameras linked within", "metres", 200, 10, 5_000),
        Setting(
            "link_window_minutes",
            "Footage linked from this long before to after the use",
            "minutes",
            15,
            1,
            240,
        ),
        Setting(
            "footage_grace_hours", "A use with no footage becomes an exception after", "hours", 72, 1, 24 * 30
        ),
        Setting("report_due_hours", "A trigger pull needs a report within", "hours", 24, 1, 24 * 14),
        Setting(
            "device_time_tolerance_s",
            "A report's time may differ from the device's by",
            "seconds",
            300,
            5,
            86_400,
        ),
        Setting(
            "device_match_hours",
            "A report and a device event are taken as one use within",
            "hours",
            3,
            0.25,
            24,
        ),
        Setting("spark_test_max_s", "A spark test lasts at most", "seconds", 5, 1, 30),
        Setting(
            "spark_test_window_minutes",
            "A spark test is done within this long of the Taser's issue",
            "minutes",
            30,
            0,
            240,
        ),
        Setting(
            "record_radius_m", "An armed Taser starts cameras recording within", "metres", 300, 10, 5_000
        ),
        Setting(
            "suppress_below",
            "Figures shared outside the force suppress counts other than 0 below",
            "uses",
            5,
            2,
            20,
        ),
        Setting(
            "record_seen_within_s",
            "A camera counts as near an armed Taser when its position is at most (and an arming older "
            "than this starts no recording)",
            "seconds",
            120,
            10,
            3_600,
        ),
    )
}


def setting(db: Session, name: str) -> float:
    """The setting's value: the force's, else its default."""
    value = db.scalar(select(TaserSetting.value).where(TaserSetting.name == name))
    return SETTINGS[name].default if value is None else value


def all_settings(db: Session) -> dict[str, float]:
    """Every setting's value by name."""
    stored = dict(db.execute(select(TaserSetting.name, TaserSetting.value)).all())
    return {name: stored.get(name, s.default) for name, s in SETTINGS.items()}


def set_setting(db: Session, actor: Actor, name: str, value: float, *, now: datetime | None = None) -> float:
    """Change a setting within its bounds, audited with the old and new value."""
    known = SETTINGS.get(name)
    if known is None:
        raise InvalidInput(
            "name", f"no Taser setting is called {name!r}; the settings are {', '.join(SETTINGS)}"
        )
    if not known.low <= value <= known.high:
        raise InvalidInput(
            "value",
            f"\u201c{known.label} \u2026\u201d must be from {known.low:g} to {known.high:g} {known.unit}, "
            f"not {value:g}",
        )
    old = setting(db, name)
    row = db.get(TaserSetting, name)
    when = now or clock.now()
    if row is None:
        db.add(TaserSetting(name=name, value=value, updated_by=actor.username, updated_at=when))
    else:
        row.value, row.updated_by, row.updated_at = value, actor.username, when
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_SETTING_CHANGED,
        target=Target("taser_setting", name),
        details={"old": old, "new": value, "unit": known.unit},
    )
    return value
