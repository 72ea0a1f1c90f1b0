"""What the Axis Body Worn Integration API's names and metadata headers mean.

Containers: ``System``, ``Users``, ``Devices``, one per recording named
``<UserID>_<BWCSerialNumber>_<TriggerOnTime>`` (the trigger time as ``YYYYMMDDTHHMMSSZ``, UTC) and
``RejectedContent_<time>_<UUID>``. In a recording: clips ``<StartTime>_<RecordingID>.mkv|mp4``, their
key files ``….key`` when the system encrypts, the GNSS track ``…_gpstrail.json`` and bookmarks
``bookmark_<Timestamp>_<ID>``. Metadata travels as ``X-Container-Meta-<Key>`` and
``X-Object-Meta-<Key>`` headers whose values are URL-encoded UTF-8; keys are capitalised as the API
writes them (``Starttimeiso``), and compared ignoring case.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from openbwv.errors import OpenbwvError

CONTAINER_META = "x-container-meta-"
OBJECT_META = "x-object-meta-"

# Swift's own limits on names and metadata, which the API inherits.
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_META_COUNT = 90
MAX_META_NAME = 128
MAX_META_VALUE = 256

SYSTEM, USERS, DEVICES = "System", "Users", "Devices"
REJECTED_PREFIX = "RejectedContent_"
CLIP_TYPES = ("mkv", "mp4")
CAPABILITY_NAMES = ("Capabilities.json", "Capability.json")
_TRIGGER_TIME = re.compile(r"^\d{8}T\d{6}Z$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Unstorable(OpenbwvError):
    """400: the API's answer for what the content destination cannot store and never will (a bad
    name, a clip with no duration, a time out of bounds); the system then offers it for download."""

    status_code = 400


@dataclass(frozen=True)
class RecordingName:
    """What a recording container's name says."""

    user_id: str
    camera_serial: str
    triggered_at: datetime


def container_kind(name: str) -> str:
    """The kind of container ``name`` is, refusing a name the API never uses."""
    _check_name(name, MAX_CONTAINER_NAME, slashes=False)
    fixed = {SYSTEM: "system", USERS: "users", DEVICES: "devices"}
    if name in fixed:
        return fixed[name]
    if name.startswith(REJECTED_PREFIX):
        return "rejected"
    recording_name(name)
    return "recording"


def recording_name(name: str) -> RecordingName:
    """The user, camera and trigger time in a recording container's name."""
    parts = name.rsplit("_", 2)
    if len(parts) != 3 or not all(parts) or not _TRIGGER_TIME.match(parts[2]):
        raise Unstorable(
            f"{name!r} is not a container this API uses: a recording is <UserID>_<BWCSerialNumber>_"
            "<TriggerOnTime> with the time as YYYYMMDDTHHMMSSZ."
        )
    try:
        triggered_at = datetime.strptime(parts[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Unstorable(f"{parts[2]!r} is not a time.") from None
    return RecordingName(user_id=parts[0], camera_serial=parts[1], triggered_at=triggered_at)


def object_kind(container_kind: str, name: str, meta: Mapping[str, str]) -> str:
    """The kind of object ``name`` is in a container of ``container_kind``; a recording's object of
    no kind the API names is kept as ``other``."""
    _check_name(name, MAX_OBJECT_NAME, slashes=True)
    if container_kind in ("users", "devices", "system"):
        return container_kind.removesuffix("s")
    lower = name.lower()
    extension = lower.rpartition(".")[2] if "." in lower else ""
    if lower.endswith("_gpstrail.json"):
        return "gnss"
    if extension == "key" or meta_value(meta, "FileType") == "key":
        return "key"
    if lower.startswith("bookmark_"):
        return "bookmark"
    if extension in CLIP_TYPES:
        return "clip"
    if meta_value(meta, "FileType") == "json":
        return "gnss"
    return "other"


def _check_name(name: str, limit: int, *, slashes: bool) -> None:
    if not name or len(name.encode()) > limit:
        raise Unstorable(f"A name must be 1 to {limit} bytes long.")
    if _CONTROL.search(name):
        raise Unstorable("A name must not contain control characters.")
    if not slashes and "/" in name:
        raise Unstorable("A container name must not contain '/'.")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise Unstorable(f"{name!r} has an empty, '.' or '..' path segment.")


def meta_key(header_suffix: str) -> str:
    """A metadata key as the API capitalises it: lower case but the first letter and any after '-'."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in header_suffix.split("-"))


def meta_from_headers(headers: Iterable[tuple[str, str]], prefix: str) -> dict[str, str]:
    """The metadata in ``headers`` under ``prefix`` (lower case), values URL-decoded; an empty value
    is kept, as it means "remove this key" to a container update."""
    meta: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if not lower.startswith(prefix) or len(lower) == len(prefix):
            continue
        key = meta_key(lower[len(prefix) :])
        decoded = unquote(value)
        if len(key) > MAX_META_NAME or len(decoded.encode()) > MAX_META_VALUE:
            raise Unstorable(f"Metadata {key} is longer than Swift allows.")
        if _CONTROL.search(decoded):
            raise Unstorable(f"Metadata {key} must not contain control characters.")
        meta[key] = decoded
    if len(meta) > MAX_META_COUNT:
        raise Unstorable(f"At most {MAX_META_COUNT} metadata items are allowed.")
    return meta


def meta_headers(meta: Mapping[str, str], prefix: str) -> dict[str, str]:
    """``meta`` as response headers: ``X-Object-Meta-Starttime``, values URL-encoded."""
    capitalised = meta_key(prefix.rstrip("-")) + "-"
    return {capitalised + key: quote(value, safe="") for key, value in meta.items()}


def meta_value(meta: Mapping[str, str], key: str) -> str | None:
    """The value of ``key`` in ``meta``, ignoring case; None when absent or empty."""
    wanted = key.lower()
    for name, value in meta.items():
        if name.lower() == wanted and value:
            return value
    return None


def meta_time(meta: Mapping[str, str], key: str) -> datetime | None:
    """A time the API sends twice: ``<key>ISO`` (RFC 3339, UTC) or ``<key>`` (epoch seconds, UTC)."""
    iso = meta_value(meta, f"{key}ISO")
    epoch = meta_value(meta, key)
    try:
        if iso is not None:
            parsed = datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if epoch is not None:
            seconds = float(epoch)
            # Some firmware sends milliseconds.
            return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise Unstorable(f"Metadata {key} is not a time.") from None
    return None


def capability_document() -> bytes:
    """``System/Capabilities.json``: what this content destination stores and reads.

    User IDs (the force's collar numbers, entered in the body worn manager) map recordings to
    officers; the system ID binds the system to this destination; GNSS tracks travel with footage.
    Bookmarks, categories, signed video and rejected content are not offered yet.
    """
    document = {
        "Read": {"ReadCategories": False},
        "Store": {
            "StoreBookmarks": False,
            "StoreGNSSTrackRecording": True,
            "StoreRejectedContent": False,
            "StoreSignedVideo": False,
            "StoreUserIDKey": True,
        },
        "StoreAndRead": {"StoreReadSystemID": True},
    }
    return json.dumps(document, indent=2).encode()


CAPABILITIES = capability_document()
CAPABILITIES_MD5 = hashlib.md5(CAPABILITIES, usedforsecurity=False).hexdigest()
