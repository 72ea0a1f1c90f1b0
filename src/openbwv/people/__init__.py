"""The force's people: units, ranks, officers, and the accounts linked to them."""

from openbwv.people.models import OFFICER_NAME_LENGTH
from openbwv.people.service import (
    OfficerFilter,
    bulk_create_officers,
    create_account,
    create_officer,
    create_unit,
    existing_collar_numbers,
    get_account,
    get_officer,
    get_officer_by_id,
    get_unit,
    list_accounts,
    list_officers,
    list_ranks,
    list_units,
    mark_leaver,
    officer_ids_by_unit,
    officers_by_ids,
)

__all__ = [
    "OFFICER_NAME_LENGTH",
    "OfficerFilter",
    "bulk_create_officers",
    "create_account",
    "create_officer",
    "create_unit",
    "existing_collar_numbers",
    "get_account",
    "get_officer",
    "get_officer_by_id",
    "get_unit",
    "list_accounts",
    "list_officers",
    "list_ranks",
    "list_units",
    "mark_leaver",
    "officer_ids_by_unit",
    "officers_by_ids",
]
