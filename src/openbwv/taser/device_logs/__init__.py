"""Taser device logs: the handles' own event logs imported from the vendor's export (CSV or JSON),
stored once however often sent, and reconciled with the deployment reports."""

from openbwv.taser.device_logs.service import (
    DeviceLogRefused,
    EntryFilter,
    ImportReport,
    import_device_log,
    list_entries,
)

__all__ = ["DeviceLogRefused", "EntryFilter", "ImportReport", "import_device_log", "list_entries"]
