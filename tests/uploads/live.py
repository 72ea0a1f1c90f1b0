"""Uploads against real ``openbwv serve`` processes: raw HTTP that drops connections part-way, and
what the database and the store hold afterwards."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx2
import psycopg
import pytest
from pgqueuer.domain.settings import db_settings
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv.cli import build_cli
from openbwv.config import Settings
from openbwv.footage.models import Clip
from openbwv.uploads import INGEST_TASK
from openbwv.uploads.models import Upload, UploadPart
from tests.server_process import ServerProcess
from tests.uploads.helpers import TUS, creation_headers, joined, patch_headers, stored, stored_keys


def start_server(
    database_url: str, data_dir: Path, log_path: Path, *, storage_url: str = ""
) -> ServerProcess:
    """``openbwv serve`` on the database, data directory and store (default: the data directory's)."""
    extra = {"storage_url": storage_url} if storage_url else {}
    server = ServerProcess(database_url=database_url, data_dir=data_dir, log_path=log_path, settings=extra)
    try:
        server.wait_ready()
    except BaseException:
        server.kill()
        raise
    return server


def create_upload(base_url: str, auth: dict[str, str], data: bytes, **overrides: str) -> str:
    answer = httpx2.post(
        f"{base_url}/api/v1/uploads", headers=creation_headers(auth, data, **overrides), timeout=30
    )
    assert answer.status_code == 201, answer.text
    return str(answer.headers["Location"])


def head_offset(url: str, auth: dict[str, str]) -> int:
    answer = httpx2.head(url, headers={**auth, **TUS}, timeout=30)
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def patch(url: str, auth: dict[str, str], offset: int, body: bytes, **extra: str) -> httpx2.Response:
    return httpx2.patch(url, headers=patch_headers(auth, offset, **extra), content=body, timeout=30)


# How long a dropping client waits after its last byte before it drops: the server hands the app what
# it has read when the connection closes, but discards what it had read and not yet handed over.
LINGER_S = 0.3


def send_then_drop(
    url: str, auth: dict[str, str], offset: int, body: bytes, *, declared: int, **extra: str
) -> None:
    """A PATCH that declares ``declared`` bytes, sends ``body`` (fewer), waits a moment and drops the
    connection."""
    target = urlparse(url)
    headers = {**patch_headers(auth, offset, **extra), "Host": target.netloc, "Content-Length": str(declared)}
    head = f"PATCH {target.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection((target.hostname, target.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        time.sleep(LINGER_S)


def wait_for_offset(url: str, auth: dict[str, str], expected: int, timeout: float = 10.0) -> int:
    """HEAD until the upload stands at ``expected`` (the server records a dropped PATCH's bytes once
    it sees the connection close); the offset it last reported."""
    deadline = time.monotonic() + timeout
    while (offset := head_offset(url, auth)) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return offset


@dataclass(frozen=True)
class StoredUpload:
    state: str
    offset: int
    length: int
    parts: list[tuple[int, int, str]]
    sha256: str


def stored_upload(factory: sessionmaker[Session], url: str) -> StoredUpload:
    upload_id = url.rsplit("/", 1)[1]
    with factory() as db:
        upload = db.get(Upload, upload_id)
        assert upload is not None
        parts = db.execute(
            select(UploadPart.offset, UploadPart.length, UploadPart.key)
            .where(UploadPart.upload_id == upload_id)
            .order_by(UploadPart.offset)
        ).all()
        parts_in_order = [(offset, length, key) for offset, length, key in parts]
        return StoredUpload(
            upload.state, upload.offset, upload.length, parts_in_order, upload.metadata_["sha256"]
        )


def stored_bytes(settings: Settings, factory: sessionmaker[Session], url: str) -> bytes:
    """The upload's parts as stored, joined in order (they must tile the bytes received exactly); once
    footage ingest has stored a complete upload as a clip (a server on SQLite runs its jobs), the clip
    under the file's SHA-256."""
    upload = stored_upload(factory, url)
    position = 0
    for offset, length, _ in upload.parts:
        assert offset == position, f"a gap or overlap at {position}"
        position += length
    assert position == upload.offset
    keys = [key for _, _, key in upload.parts]
    if upload.state != "complete":
        return joined(settings, keys)
    # Ingest may be deleting the parts right now (it does once the clip is stored): wait for it to
    # finish with them, or read them if it leaves them all.
    deadline = time.monotonic() + 30
    while True:
        parts = [stored(settings, key) for key in keys]
        if all(part is not None for part in parts):
            return b"".join(part for part in parts if part is not None)
        if all(part is None for part in parts):
            # Moved into the clip: its row names them once it commits.
            with factory() as db:
                key = db.scalar(select(Clip.storage_key).where(Clip.sha256 == upload.sha256))
            if key is not None:
                clip = stored(settings, key)
                assert clip is not None, "a clip's row names an object that is not stored"
                return clip
        assert time.monotonic() < deadline, "a complete upload's parts are gone, and no clip holds its bytes"
        time.sleep(0.05)


def stray_parts(settings: Settings, factory: sessionmaker[Session]) -> list[str]:
    """Objects under ``uploads/`` that no part row names: bytes nobody will ever read or delete."""
    with factory() as db:
        named = set(db.scalars(select(UploadPart.key)))
    return [key for key in stored_keys(settings) if key not in named]


def storage_check(database_url: str, settings: Settings) -> tuple[int, str]:
    """``openbwv storage check`` on the server's settings: its exit status and the first sentence it
    wrote. Run in this process: a process that has used the object store may abort while the
    interpreter exits (see docs/PERFORMANCE.md), which says nothing about the check."""
    env = {
        "OPENBWV_DATABASE_URL": database_url,
        "OPENBWV_DATA_DIR": str(settings.data_dir),
        "OPENBWV_STORAGE_URL": settings.storage_url,
        "OPENBWV_SECRET_KEY": "test-secret",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("OPENBWV_STORAGE_MASTER_KEY", raising=False)
        result = CliRunner().invoke(build_cli(), ["storage", "check"])
    return result.exit_code, result.output.split(":", 1)[0].strip()


def queued_ingest_payloads(database_url: str) -> list[dict[str, Any]]:
    """The ``footage.ingest`` jobs waiting in PostgreSQL's queue (no worker takes them: ``serve`` runs
    none on PostgreSQL)."""
    with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
        rows = connection.execute(
            f"SELECT payload FROM {db_settings().queue_table} WHERE entrypoint = %s ORDER BY id",
            (INGEST_TASK,),
        ).fetchall()
    return [json.loads(bytes(payload)) for (payload,) in rows]


def check_handed_over(database_url: str, url: str, data: bytes) -> None:
    """On PostgreSQL, where the queued job can be read: the hand-off names the right digest."""
    if not database_url.startswith("postgresql"):
        return
    [payload] = [p for p in queued_ingest_payloads(database_url) if url.endswith(p["upload_id"])]
    assert payload["sha256_received"] == hashlib.sha256(data).hexdigest()
    assert payload["size"] == len(data)
