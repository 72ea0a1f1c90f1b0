"""The canonical bytes of an audit event: what the transparency log hashes into its leaf.

A leaf is the UTF-8 encoding of one JSON object with these members, keys sorted by code point, no
insignificant whitespace (``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``)::

    format          "openbwv-audit-event/1"
    id              the event id (integer)
    occurred_at     "YYYY-MM-DDTHH:MM:SS.ffffffZ", UTC, always six fraction digits
    actor_username  string
    actor_user_id   integer or null
    action          string, ``domain:subject:action``
    target_type     string or null
    target_id       string or null
    reason          string or null
    details         object (keys sorted the same way at every depth), as stored
    client_address  string or null
    request_id      string or null

For events whose details hold no floating-point numbers (the norm), this is also the RFC 8785
(JCS) serialisation. Both the log (which hashes) and the verifier (which re-derives the bytes from
the stored event row, so that editing the row is caught) use this module; it builds no tree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

FORMAT = "openbwv-audit-event/1"
FIELDS = (
    "id",
    "occurred_at",
    "actor_username",
    "actor_user_id",
    "action",
    "target_type",
    "target_id",
    "reason",
    "details",
    "client_address",
    "request_id",
)
"""The ``audit_event`` columns a leaf covers: all of them."""

_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("an audit event's time must carry its zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def leaf_bytes(event: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of an event given as a mapping of its ``FIELDS`` (a row's ``_mapping``)."""
    record = {name: event[name] for name in FIELDS}
    record["occurred_at"] = format_time(event["occurred_at"])
    record["format"] = FORMAT
    return _encode(record).encode("utf-8")
