"""Fleet: cameras, Tasers, docks and cartridges, who holds them, and the history of every move."""

from openbwv.fleet.authority import AuthorityExceptions, find_authority_exceptions, run_daily_authority_check
from openbwv.fleet.condition import discharge_cartridge
from openbwv.fleet.credentials import SCOPES_BY_KIND, issue_credential
from openbwv.fleet.devices import (
    DeviceFilter,
    create_device,
    devices_by_serial,
    get_device,
    list_devices,
    serials_of_kind,
    taser_model,
)
from openbwv.fleet.docking import record_docking
from openbwv.fleet.issues import (
    HolderAtTime,
    IssuePeriod,
    holder_at,
    issue_device,
    list_issue_periods,
    list_open_issues,
    officer_kit,
    officers_holding,
    return_issue,
)
from openbwv.fleet.overview import FleetFigures, OwnAuthority, OwnRecord, fleet_figures, own_record
from openbwv.fleet.rollout import PhaseProgress, rollout_progress
from openbwv.fleet.stations import (
    camera_station_position,
    list_station_positions,
    set_station_position,
    station_position,
)

__all__ = [
    "SCOPES_BY_KIND",
    "AuthorityExceptions",
    "DeviceFilter",
    "FleetFigures",
    "HolderAtTime",
    "IssuePeriod",
    "OwnAuthority",
    "OwnRecord",
    "PhaseProgress",
    "camera_station_position",
    "create_device",
    "devices_by_serial",
    "discharge_cartridge",
    "find_authority_exceptions",
    "fleet_figures",
    "get_device",
    "holder_at",
    "issue_credential",
    "issue_device",
    "list_devices",
    "list_issue_periods",
    "list_open_issues",
    "list_station_positions",
    "officer_kit",
    "officers_holding",
    "own_record",
    "record_docking",
    "return_issue",
    "rollout_progress",
    "run_daily_authority_check",
    "serials_of_kind",
    "set_station_position",
    "station_position",
    "taser_model",
]
