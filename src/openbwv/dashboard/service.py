"""What the home page gathers for the signed-in account: a section for each thing its roles look
after, each read through the owning domain's service functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from openbwv import audit, fleet, people
from openbwv.policy import Actor, Permission, Role, can

# Roles with nothing of their own on the home page yet: what will appear there for them, so that they
# find an explanation rather than an empty page.
WHAT_WILL_APPEAR: dict[Role, str] = {
    Role.PANEL_MEMBER: (
        "As a scrutiny panel member, the sessions of redacted footage you are invited to review will "
        "appear here, with the date of each session."
    ),
    Role.PROSECUTOR: (
        "As a prosecutor, the case bundles the force shares with your organisation will appear here, "
        "ready to open and download for court."
    ),
}
UNLINKED_OFFICER = (
    "Your kit, training and authority will appear here once your account is linked to your officer record."
)


@dataclass(frozen=True)
class ForceFigures:
    """The roll-out and the fleet in counts, with nothing about any one officer."""

    phases: list[fleet.PhaseProgress]
    fleet: fleet.FleetFigures


@dataclass
class Home:
    cards: list[dict[str, Any]] = field(default_factory=list)
    own: fleet.OwnRecord | None = None
    log: audit.LogOverview | None = None
    figures: ForceFigures | None = None
    explanations: list[str] = field(default_factory=list)


def _cards(db: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    if can(actor, Permission.PEOPLE_OFFICER_READ):
        _, active = people.list_officers(db, where=people.OfficerFilter(active=True), limit=1, offset=0)
        cards.append({"figure": active, "label": "Serving officers", "href": "/officers"})
        cards.append({"figure": len(people.list_units(db)), "label": "Units", "href": None})
    if can(actor, Permission.FLEET_DEVICE_READ):
        _, issued = fleet.list_devices(
            db, where=fleet.DeviceFilter(kind="camera", state="issued"), limit=1, offset=0
        )
        _, pooled = fleet.list_devices(
            db, where=fleet.DeviceFilter(kind="camera", state="pooled"), limit=1, offset=0
        )
        overdue = len(fleet.list_open_issues(db, overdue_only=True))
        cards += [
            {"figure": issued, "label": "Cameras issued", "href": "/fleet/devices?kind=camera&state=issued"},
            {
                "figure": pooled,
                "label": "Pooled cameras free",
                "href": "/fleet/devices?kind=camera&state=pooled",
            },
            {"figure": overdue, "label": "Overdue returns", "href": "/fleet/counter"},
        ]
    if can(actor, Permission.TRAINING_RECORD_READ):
        exceptions = fleet.find_authority_exceptions(db, today=today)
        cards += [
            {
                "figure": len(exceptions.lapsing),
                "label": "Taser authorities lapsing in 30 days",
                "href": "/training/expiry",
            },
            {
                "figure": len(exceptions.lapsed_with_taser),
                "label": "Lapsed authorities with a Taser still out",
                "href": "/training/expiry",
            },
            {
                "figure": len(exceptions.ineligible_with_taser),
                "label": "Not eligible under the STRA, Taser still out",
                "href": "/training/expiry",
            },
        ]
    if can(actor, Permission.USERS_ACCOUNT_READ):
        _, users = people.list_accounts(db, search=None, role=None, limit=1, offset=0)
        cards.append({"figure": users, "label": "User accounts", "href": "/users"})
    return cards


def gather_home(db: Session, actor: Actor, *, today: date) -> Home:
    """The home page's sections for ``actor``: headline cards for the roles that hold lists, the
    officer's own kit, training and authority, the audit log's state for whoever reads the log, the
    shared roll-out and fleet figures, and for roles with nothing yet, what will appear."""
    home = Home(cards=_cards(db, actor, today))
    if actor.officer_id is not None:
        # Reading one's own record needs nothing beyond signing in (as the kit page does).
        home.own = fleet.own_record(db, actor.officer_id, today=today)
        home.cards.append({"figure": len(home.own.holding), "label": "Devices you hold", "href": "/kit"})
    elif Role.OFFICER in actor.roles:
        home.explanations.append(UNLINKED_OFFICER)
    if can(actor, Permission.AUDIT_EVENT_READ):
        home.log = audit.log_overview(db)
    if can(actor, Permission.TASER_FIGURES_READ):
        # The figures the force shares outside: counts by phase, unit, kind and state, never a name.
        home.figures = ForceFigures(phases=fleet.rollout_progress(db), fleet=fleet.fleet_figures(db))
    home.explanations += [text for role, text in WHAT_WILL_APPEAR.items() if role in actor.roles]
    return home
