"""The tus ``Upload-Metadata`` header: comma-separated ``key base64value`` pairs, and what a dock
must say in it about the file it sends."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openbwv.uploads.protocol import BadRequest

MAX_HEADER_CHARS = 8 * 1024
REQUIRED = ("filename", "camera_serial", "recorded_at", "sha256")

_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FileDescription:
    """What the dock says about the file: the four fields footage ingest needs, checked."""

    filename: str
    camera_serial: str
    recorded_at: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "camera_serial": self.camera_serial,
            "recorded_at": self.recorded_at,
            "sha256": self.sha256,
        }


def parse_metadata(header: str | None) -> dict[str, str]:
    """The header's pairs, decoded; a key without a value has the empty string."""
    if header is None or not header.strip():
        return {}
    if len(header) > MAX_HEADER_CHARS:
        raise BadRequest(f"Upload-Metadata is longer than {MAX_HEADER_CHARS} characters.")
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        encoded = encoded.strip()
        if not _KEY.match(key):
            raise BadRequest(f"Upload-Metadata has a key that is not a short ASCII word: {key[:64]!r}.")
        if key in pairs:
            raise BadRequest(f"Upload-Metadata gives {key} twice.")
        try:
            value = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise BadRequest(f"Upload-Metadata's {key} is not base64 of UTF-8 text.") from None
        if _CONTROL.search(value):
            raise BadRequest(f"Upload-Metadata's {key} holds control characters.")
        pairs[key] = value
    return pairs


def encode_metadata(pairs: dict[str, Any]) -> str:
    """``pairs`` as an ``Upload-Metadata`` header, for HEAD."""
    return ",".join(
        f"{key} {base64.b64encode(str(value).encode()).decode()}" if value != "" else key
        for key, value in pairs.items()
    )


def describe_file(pairs: dict[str, str]) -> FileDescription:
    """The file's description from the metadata, refusing a missing or malformed field with a sentence."""
    missing = [key for key in REQUIRED if not pairs.get(key, "").strip()]
    if missing:
        raise BadRequest(f"Upload-Metadata must give {', '.join(missing)}.")
    filename = pairs["filename"].strip()
    if len(filename) > 255 or "/" in filename or "\\" in filename or filename in (".", ".."):
        raise BadRequest(
            "Upload-Metadata's filename must be a file's name, without folders, of at most 255 characters."
        )
    camera_serial = pairs["camera_serial"].strip().upper()
    if not _SERIAL.match(camera_serial):
        raise BadRequest(
            "Upload-Metadata's camera_serial must be a device serial: letters, digits, '.', '_' or '-', "
            "at most 64."
        )
    try:
        recorded = datetime.fromisoformat(pairs["recorded_at"].strip())
    except ValueError:
        recorded = None
    if recorded is None or recorded.tzinfo is None:
        raise BadRequest(
            "Upload-Metadata's recorded_at must be an ISO 8601 time with its zone, such as "
            "2026-11-26T07:58:00Z."
        )
    sha256 = pairs["sha256"].strip()
    if not _SHA256.match(sha256):
        raise BadRequest("Upload-Metadata's sha256 must be the file's SHA-256 as 64 hexadecimal digits.")
    return FileDescription(
        filename=filename,
        camera_serial=camera_serial,
        recorded_at=recorded.isoformat(),
        sha256=sha256.lower(),
    )
