"""Categories as data the force changes: an evidence manager adds a category or changes how long
one keeps its clips, each change an audit event keeping the old values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit
from openbwv.audit import AuditAction, Target
from openbwv.errors import Conflict, InvalidInput
from openbwv.footage.models import FootageCategory
from openbwv.policy import Actor

CATEGORY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# Above a century a retention period is a typing slip, not a policy; evidential footage is kept
# under its MoPI review group instead (no days).
MAX_RETENTION_DAYS = 36_500
MOPI_GROUPS = (1, 2, 3)


@dataclass(frozen=True)
class CategoryTerms:
    """What a category says: its label, how long it keeps a clip (days; None: kept under its MoPI
    review group, reviewed every ``review_years``), whether it is how untagged clips are kept, and
    whether clips may still be tagged with it."""

    label: str
    retention_days: int | None
    mopi_group: int | None
    review_years: int | None
    is_default: bool
    is_active: bool


def _checked(terms: CategoryTerms) -> CategoryTerms:
    label = terms.label.strip()
    if not label:
        raise InvalidInput("label", "Give the category a label.")
    if terms.retention_days is not None and not 1 <= terms.retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInput("retention_days", f"Between 1 and {MAX_RETENTION_DAYS} days, or none.")
    if terms.retention_days is None and terms.mopi_group is None:
        raise InvalidInput(
            "mopi_group", "A category that keeps clips without a period names its MoPI review group."
        )
    if terms.mopi_group is not None and terms.mopi_group not in MOPI_GROUPS:
        raise InvalidInput("mopi_group", "MoPI review groups are 1, 2 and 3.")
    if terms.review_years is not None and not 1 <= terms.review_years <= 100:
        raise InvalidInput("review_years", "Between 1 and 100 years.")
    if terms.is_default and terms.retention_days is None:
        raise InvalidInput("is_default", "The default category keeps untagged clips for a number of days.")
    if terms.is_default and not terms.is_active:
        raise InvalidInput("is_active", "The default category stays active.")
    return CategoryTerms(
        label=label[:100],
        retention_days=terms.retention_days,
        mopi_group=terms.mopi_group,
        review_years=terms.review_years,
        is_default=terms.is_default,
        is_active=terms.is_active,
    )


def _terms_of(category: FootageCategory) -> dict[str, Any]:
    return {
        "label": category.label,
        "retention_days": category.retention_days,
        "mopi_group": category.mopi_group,
        "review_years": category.review_years,
        "is_default": category.is_default,
        "is_active": category.is_active,
    }


def save_category(db: Session, actor: Actor, code: str, terms: CategoryTerms) -> FootageCategory:
    """Add the category ``code`` or change its terms; one audit event with the old and new values of
    what changed. Making a category the default takes the default off the one before; the default
    cannot be taken off a category directly (make another the default), and it cannot be retired."""
    code = code.strip().lower()
    if not CATEGORY_CODE.match(code):
        raise InvalidInput(
            "code", "Lower-case letters, digits, hyphens and underscores, at most 40 characters."
        )
    wanted = _checked(terms)
    # Categories are few: locking them all orders this change against any other, so that two
    # evidence managers making different categories the default cannot both win.
    categories = {c.code: c for c in db.scalars(select(FootageCategory).with_for_update())}
    category = categories.get(code)
    if category is not None and category.is_default and not wanted.is_default:
        raise Conflict(
            "This is the default category: make another category the default instead.",
            rule="default_category",
        )
    old = _terms_of(category) if category is not None else None
    if wanted.is_default:
        for other in categories.values():
            if other.is_default and other.code != code:
                other.is_default = False
        db.flush()
    if category is None:
        category = FootageCategory(code=code)
        db.add(category)
    for name, value in vars(wanted).items():
        setattr(category, name, value)
    db.flush()
    new = _terms_of(category)
    changes = {
        k: {"old": old[k] if old else None, "new": v} for k, v in new.items() if not old or old[k] != v
    }
    if changes:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_CATEGORY_SAVED,
            target=Target("footage_category", code),
            details={"created": old is None, **changes},
        )
    return category
