"""Upload a docked camera's files over tus, resuming after a crash, and release each only once the
server's SHA-256 of it matches the agent's.

The tus client is tuspy (the tus project's own Python client): it creates, resumes and sends
chunks with ``Upload-Checksum``, and keeps each upload's URL in a store keyed by the file's
fingerprint. The agent brings the fingerprint (the SHA-256 of the whole file, which it computes
anyway for ``Upload-Metadata``) and the store (a JSON file in ``DIR/.openbwv-dock/``), so a re-run
finds the upload it started and never creates a second one for the same file. A crash between
the server creating an upload and the URL being written leaves one unfinished upload, which the
server expires.

A file is released by moving it (and its sidecar) into ``DIR/uploaded/``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import av
import requests
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError
from tusclient.fingerprint.interface import Fingerprint
from tusclient.storage.interface import Storage

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov"})
UPLOADED = "uploaded"
STATE = ".openbwv-dock"
UPLOADS_PATH = "/api/v1/uploads"
CHUNK_SIZE = 4 * 1024 * 1024
HASH_BLOCK = 1024 * 1024

Progress = Callable[[int, int], None]


class DockError(Exception):
    """The run cannot go on (bad credential, server unreachable); the message is a sentence.

    ``exit_code`` 2 is for what the operator must fix before any run can work (the credential file);
    ``fatal`` says that a watching agent must stop rather than try again later (a refused credential).
    """

    def __init__(self, message: str, *, exit_code: int = 1, fatal: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.fatal = fatal


class FileOutcome(StrEnum):
    RELEASED = "released"
    MISMATCH = "mismatch"
    UNDESCRIBED = "undescribed"
    FAILED = "failed"


@dataclass(frozen=True)
class Described:
    """What the agent tells the server about a file."""

    path: Path
    size: int
    sha256: str
    camera_serial: str
    recorded_at: str

    def metadata(self) -> dict[str, str]:
        return {
            "filename": self.path.name,
            "camera_serial": self.camera_serial,
            "recorded_at": self.recorded_at,
            "sha256": self.sha256,
        }


def read_credential(path: Path) -> str:
    """The credential in ``path`` as ``openbwv docks add`` printed it; a sentence when unusable."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise DockError(f"The credential file {path} does not exist.", exit_code=2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DockError(f"The credential file {path} cannot be read: {exc}.", exit_code=2) from None
    words = text.split()
    if not words:
        raise DockError(
            f"The credential file {path} is empty; put the credential `openbwv docks add` printed in it.",
            exit_code=2,
        )
    if len(words) > 1:
        raise DockError(
            f"The credential file {path} must hold the credential alone, on one line.", exit_code=2
        )
    return words[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _recorded_at(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed).isoformat()


def _container_tags(path: Path) -> dict[str, str]:
    try:
        with av.open(str(path)) as container:
            return {str(k): str(v) for k, v in container.metadata.items()}
    except (av.FFmpegError, OSError, ValueError):
        return {}


def describe(path: Path) -> Described | str:
    """The file's description from its container tags (``camera_serial``, ``creation_time``), else
    from its sidecar ``<name>.json`` (``camera_serial``, ``recorded_at``); or why it has none."""
    tags = _container_tags(path)
    serial = tags.get("camera_serial", "").strip()
    recorded = _recorded_at(tags.get("creation_time", "")) if tags.get("creation_time") else None
    sidecar = path.with_name(path.name + ".json")
    if (not serial or recorded is None) and sidecar.exists():
        try:
            facts: Any = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            facts = None
        if isinstance(facts, dict):
            serial = serial or str(facts.get("camera_serial", "")).strip()
            if recorded is None and facts.get("recorded_at"):
                recorded = _recorded_at(str(facts["recorded_at"]))
    if not serial:
        return "it names no camera (no camera_serial tag or sidecar)"
    if recorded is None:
        return "it gives no recording time with its zone (no creation_time tag or sidecar recorded_at)"
    return Described(
        path=path,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        camera_serial=serial,
        recorded_at=recorded,
    )


class UrlStore(Storage):
    """tuspy's URL store as one JSON file, rewritten atomically: fingerprint to upload URL."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    def _write(self, items: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        spare = self.path.with_suffix(".tmp")
        with spare.open("w", encoding="utf-8") as stream:
            json.dump(items, stream, indent=1)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(spare, self.path)

    def get_item(self, key: str) -> str | None:
        return self._read().get(key)

    def set_item(self, key: str, value: str) -> None:
        self._write({**self._read(), key: value})

    def remove_item(self, key: str) -> None:
        items = self._read()
        if items.pop(key, None) is not None:
            self._write(items)


class KnownFingerprint(Fingerprint):
    """The file's fingerprint, already computed: its SHA-256 and size."""

    def __init__(self, described: Described) -> None:
        self.value = f"sha256:{described.sha256}:size:{described.size}"

    def get_fingerprint(self, fs: Any) -> str:
        return self.value


def _status(error: TusCommunicationError) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if status is not None else None


class DockAgent:
    """Uploads the finished video files directly in ``folder`` to the tus server at ``server``."""

    def __init__(self, *, server: str, credential: str, folder: Path, chunk_size: int = CHUNK_SIZE) -> None:
        self.server = server.rstrip("/")
        self.folder = folder
        self.chunk_size = chunk_size
        self.headers = {"Authorization": f"Bearer {credential}"}
        self.urls = UrlStore(folder / STATE / "uploads.json")

    def candidates(self) -> list[Path]:
        """Video files directly in the folder, not hidden (a camera writing under a dot name renames
        the file in when it is finished)."""
        return sorted(
            path
            for path in self.folder.iterdir()
            if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in VIDEO_SUFFIXES
        )

    def _fail(self, error: TusCommunicationError, doing: str) -> DockError:
        status = _status(error)
        if status == 401:
            return DockError(
                "The server refused the dock's credential (401); check the credential file, or issue a "
                "new one with `openbwv devices credential SERIAL`.",
                fatal=True,
            )
        if status is None:
            return DockError(
                f"The server at {self.server} cannot be reached while {doing} ({error}); nothing is lost, "
                "run the agent again to resume."
            )
        return DockError(f"The server answered {status} while {doing}; run the agent again to resume.")

    def upload(self, described: Described, progress: Progress | None = None) -> str:
        """Send the file (resuming an upload the store names) and answer the upload's URL."""
        client = TusClient(self.server + UPLOADS_PATH, headers=dict(self.headers))
        fingerprint = KnownFingerprint(described)
        # By path, not an open stream: tuspy closes the stream it fingerprints.
        source = str(described.path)
        try:
            uploader = client.uploader(
                file_path=source,
                chunk_size=self.chunk_size,
                metadata=described.metadata(),
                store_url=True,
                url_storage=self.urls,
                fingerprinter=fingerprint,
                upload_checksum=True,
            )
        except TusCommunicationError as error:
            if _status(error) not in (404, 410):
                raise self._fail(error, "asking where an upload stands") from None
            # The stored upload expired or was terminated: start again.
            self.urls.remove_item(fingerprint.value)
            uploader = client.uploader(
                file_path=source,
                chunk_size=self.chunk_size,
                metadata=described.metadata(),
                store_url=True,
                url_storage=self.urls,
                fingerprinter=fingerprint,
                upload_checksum=True,
            )
        try:
            if not uploader.url:
                uploader.set_url(uploader.create_url())
                uploader.offset = 0
            if progress is not None:
                progress(uploader.offset, described.size)
            while uploader.offset < described.size:
                uploader.upload_chunk()
                if progress is not None:
                    progress(uploader.offset, described.size)
        except TusCommunicationError as error:
            raise self._fail(error, f"sending {described.path.name}") from None
        return str(uploader.url)

    def server_sha256(self, url: str) -> str | None:
        """The SHA-256 the server computed of a complete upload's bytes (``Upload-Sha256``)."""
        try:
            answer = requests.head(url, headers={**self.headers, "Tus-Resumable": "1.0.0"}, timeout=30)
        except requests.RequestException as error:
            raise self._fail(TusCommunicationError(str(error)), "asking for the server's hash") from None
        if answer.status_code != 200:
            raise self._fail(TusCommunicationError("", answer.status_code), "asking for the server's hash")
        value = answer.headers.get("Upload-Sha256")
        return value.strip().lower() if value else None

    def release(self, described: Described) -> Path:
        """Move the file (and its sidecar) into ``uploaded/``: safe for the camera to wipe."""
        target_dir = self.folder / UPLOADED
        target_dir.mkdir(exist_ok=True)
        target = target_dir / described.path.name
        os.replace(described.path, target)
        sidecar = described.path.with_name(described.path.name + ".json")
        if sidecar.exists():
            os.replace(sidecar, target_dir / sidecar.name)
        self.urls.remove_item(KnownFingerprint(described).value)
        return target

    def process(self, path: Path, progress: Progress | None = None) -> tuple[FileOutcome, str]:
        """Upload one file and release it if the server's hash matches; the outcome and a sentence."""
        described = describe(path)
        if isinstance(described, str):
            return FileOutcome.UNDESCRIBED, f"{path.name} is left where it is: {described}."
        url = self.upload(described, progress)
        received = self.server_sha256(url)
        if received != described.sha256:
            return FileOutcome.MISMATCH, (
                f"{path.name} is left where it is: the server received SHA-256 {received or 'none'}, "
                f"the file's is {described.sha256}."
            )
        self.release(described)
        return (
            FileOutcome.RELEASED,
            f"{path.name} uploaded and checked ({described.sha256[:12]}…); moved to {UPLOADED}/.",
        )
