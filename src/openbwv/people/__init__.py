"""The force's people: units, ranks, officers, and the accounts linked to them."""

from openbwv.people.service import (
    OfficerFilter,
    create_account,
    create_officer,
    create_unit,
    get_account,
    get_officer,
    get_officer_by_id,
    get_unit,
    list_accounts,
    list_officers,
    list_ranks,
    list_units,
    mark_leaver,
)

__all__ = [
    "OfficerFilter",
    "create_account",
    "create_officer",
    "create_unit",
    "get_account",
    "get_officer",
    "get_officer_by_id",
    "get_unit",
    "list_accounts",
    "list_officers",
    "list_ranks",
    "list_units",
    "mark_leaver",
]
