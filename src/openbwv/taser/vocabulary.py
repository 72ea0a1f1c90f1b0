"""The Home Office use-of-force vocabulary for Taser (CED) deployment reports, as data.

Levels are listed from least to most serious; a report's highest level is the one latest in
``LEVELS``. The Home Office groups drive stun and angled drive stun with firing as discharge and
ranks them below a fired Taser; between the two drive stuns, angled is taken as the higher.
"""

from __future__ import annotations

LEVELS: tuple[str, ...] = (
    "drawn",
    "aimed",
    "red_dot",
    "arced",
    "drive_stun",
    "angled_drive_stun",
    "fired",
)
NON_DISCHARGE_LEVELS = frozenset({"drawn", "aimed", "red_dot", "arced"})
DISCHARGE_LEVELS = frozenset({"drive_stun", "angled_drive_stun", "fired"})
CARTRIDGE_LEVELS = frozenset({"fired"})
"""Levels that discharge a cartridge: a drive stun presses the handle on the subject, firing none."""

LOCATION_TYPES: tuple[str, ...] = (
    "street",
    "dwelling",
    "custody",
    "hospital",
    "vehicle",
    "licensed_premises",
    "other",
)
REASONS: tuple[str, ...] = (
    "protect_self",
    "protect_public",
    "protect_other_officers",
    "protect_subject",
    "prevent_offence",
    "effect_arrest",
    "prevent_escape",
    "method_of_entry",
    "other",
)
IMPACT_FACTORS: tuple[str, ...] = (
    "alcohol",
    "drugs",
    "mental_health",
    "possession_of_weapon",
    "prior_knowledge",
    "size_build",
    "crowd",
    "acute_behavioural_disorder",
    "other",
)
AGE_BANDS: tuple[str, ...] = ("under_11", "11_17", "18_34", "35_49", "50_64", "65_plus")
ETHNICITIES: tuple[str, ...] = ("asian", "black", "mixed", "white", "other", "not_stated")
"""The 5+1 perceived ethnicity groups."""
SELF_DEFINED_ETHNICITY_PATTERN = r"^([ABMOW][1-9]|NS)$"
"""A self-defined (16+1 / 18+1) code: a group letter and a number (W1, B2, A1), or NS for not stated."""
OUTCOMES: tuple[str, ...] = (
    "arrested",
    "no_further_action",
    "detained_mental_health",
    "hospitalised",
    "other",
)


def highest_level(levels: list[str]) -> str:
    """The most serious of ``levels`` (known codes, at least one)."""
    return max(levels, key=LEVELS.index)
