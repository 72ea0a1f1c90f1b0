"""tus 1.0.0 at /api/v1/uploads, request by request: what each route answers and what it keeps."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.observability import public_base_url
from openbwv.policy import DeviceScope, Role
from openbwv.storage import ObjectStore
from openbwv.uploads.models import Upload, UploadPart
from openbwv.uploads.receiving import running_hashes_of
from tests.builders import device_headers_for, headers_for
from tests.conftest import TEST_NOW
from tests.uploads.helpers import (
    OFFSET_STREAM,
    TUS,
    IngestRecorder,
    checksum,
    creation_headers,
    file_metadata,
    joined,
    metadata_header,
    patch_headers,
    source_bytes,
    stored_keys,
)

BASE = "/api/v1/uploads"
DATA = source_bytes(300_000)


def create(client: TestClient, auth: dict[str, str], data: bytes = DATA, **overrides: str) -> str:
    answer = client.post(BASE, headers=creation_headers(auth, data, **overrides))
    assert answer.status_code == 201, answer.text
    return answer.headers["Location"].removeprefix("https://testserver")


def offset_of(client: TestClient, auth: dict[str, str], url: str) -> int:
    answer = client.head(url, headers={**auth, **TUS})
    assert answer.status_code == 200
    return int(answer.headers["Upload-Offset"])


def row(factory: sessionmaker[Session], url: str) -> Upload:
    with factory() as db:
        upload = db.get(Upload, url.rsplit("/", 1)[1])
        assert upload is not None
        return upload


def _request(peer: str, headers: dict[str, str], trusted: str) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings(trusted_proxies=trusted)))
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("internal", 8000),
        "client": (peer, 40000),
        "path": BASE,
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }
    return Request(scope)


class TestLocation:
    FORWARDED = {"Host": "internal:8000", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "bwv.example"}

    def test_behind_a_trusted_proxy_it_is_the_url_the_dock_called(self) -> None:
        request = _request("10.0.0.5", self.FORWARDED, trusted="10.0.0.0/8")
        assert public_base_url(request) == "https://bwv.example"

    def test_a_caller_that_is_not_a_trusted_proxy_cannot_redirect_it(self) -> None:
        request = _request("192.0.2.7", self.FORWARDED, trusted="10.0.0.0/8")
        assert public_base_url(request) == "http://internal:8000"

    def test_a_malformed_forwarded_host_is_ignored(self) -> None:
        headers = {**self.FORWARDED, "X-Forwarded-Host": "evil.example/path?x"}
        assert public_base_url(_request("10.0.0.5", headers, trusted="10.0.0.0/8")) == "https://internal:8000"


class TestOptions:
    def test_announces_the_version_extensions_checksums_and_largest_file_to_anyone(
        self, tus: TestClient
    ) -> None:
        answer = tus.options(BASE)
        assert answer.status_code == 204
        assert answer.headers["Tus-Resumable"] == "1.0.0"
        assert answer.headers["Tus-Version"] == "1.0.0"
        assert answer.headers["Tus-Extension"] == (
            "creation,creation-with-upload,termination,expiration,checksum"
        )
        assert answer.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
        assert answer.headers["Tus-Max-Size"] == str(1024**3)


class TestCreate:
    def test_answers_an_absolute_location_that_head_reports_at_offset_zero(
        self, tus: TestClient, dock: dict[str, str], clock: FixedClock
    ) -> None:
        answer = tus.post(BASE, headers=creation_headers(dock, DATA))
        assert answer.status_code == 201
        assert answer.headers["Tus-Resumable"] == "1.0.0"
        assert answer.headers["Location"].startswith("https://testserver/api/v1/uploads/")
        assert answer.headers["Upload-Expires"] == "Sun, 29 Nov 2026 08:00:00 GMT"
        head = tus.head(answer.headers["Location"], headers={**dock, **TUS})
        assert head.status_code == 200
        assert head.headers["Upload-Offset"] == "0"
        assert head.headers["Upload-Length"] == str(len(DATA))
        assert head.headers["Cache-Control"] == "no-store"
        pairs = dict(item.split(" ") for item in head.headers["Upload-Metadata"].split(","))
        decoded = {key: base64.b64decode(value).decode() for key, value in pairs.items()}
        assert decoded == file_metadata(DATA)

    @pytest.mark.parametrize(
        ("header", "value", "sentence"),
        [
            ("Upload-Length", None, "Give the file's size in bytes as Upload-Length."),
            ("Upload-Length", "-5", "Upload-Length must be a whole number of bytes."),
            ("Upload-Length", "0", "Upload-Length must be at least 1: an empty file holds no footage."),
            ("Upload-Metadata", "filename !!!", "Upload-Metadata's filename is not base64 of UTF-8 text."),
        ],
    )
    def test_refuses_a_bad_header_with_a_sentence(
        self, tus: TestClient, dock: dict[str, str], header: str, value: str | None, sentence: str
    ) -> None:
        headers = creation_headers(dock, DATA)
        if value is None:
            del headers[header]
        else:
            headers[header] = value
        answer = tus.post(BASE, headers=headers)
        assert answer.status_code == 400
        assert answer.json() == {"detail": sentence}
        assert answer.headers["Tus-Resumable"] == "1.0.0"

    @pytest.mark.parametrize(
        ("field", "value", "words"),
        [
            ("camera_serial", "", "must give camera_serial"),
            ("camera_serial", "CAM 1/..", "camera_serial must be a device serial"),
            ("recorded_at", "", "must give recorded_at"),
            ("recorded_at", "2026-11-26T07:58:00", "recorded_at must be an ISO 8601 time with its zone"),
            ("recorded_at", "yesterday", "recorded_at must be an ISO 8601 time with its zone"),
            ("sha256", "", "must give sha256"),
            ("sha256", "ab" * 31, "sha256 must be the file's SHA-256 as 64 hexadecimal digits"),
            ("filename", "", "must give filename"),
            ("filename", "../etc/passwd", "filename must be a file's name"),
        ],
    )
    def test_refuses_metadata_that_does_not_describe_the_file(
        self, tus: TestClient, dock: dict[str, str], field: str, value: str, words: str
    ) -> None:
        pairs = file_metadata(DATA, **{field: value})
        if value == "":
            del pairs[field]
        headers = {**creation_headers(dock, DATA), "Upload-Metadata": metadata_header(pairs)}
        answer = tus.post(BASE, headers=headers)
        assert answer.status_code == 400
        assert words in answer.json()["detail"]

    def test_refuses_a_file_larger_than_the_max_size_before_any_byte(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        headers = {**creation_headers(dock, DATA), "Upload-Length": str(1024**3 + 1)}
        assert tus.post(BASE, headers=headers).status_code == 413

    def test_refuses_another_tus_version_naming_the_one_served(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        headers = {**creation_headers(dock, DATA), "Tus-Resumable": "0.2.2"}
        answer = tus.post(BASE, headers=headers)
        assert answer.status_code == 412
        assert answer.headers["Tus-Version"] == "1.0.0"
        del headers["Tus-Resumable"]
        assert tus.post(BASE, headers=headers).status_code == 412

    def test_refuses_anonymous_a_person_and_a_device_without_upload(
        self, tus: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert tus.post(BASE, headers=creation_headers({}, DATA)).status_code == 401
        person = headers_for(factory, Role.ADMIN)
        assert tus.post(BASE, headers=creation_headers(person, DATA)).status_code == 403
        telemetry_only = device_headers_for(factory, scopes=frozenset({DeviceScope.TELEMETRY}))
        assert tus.post(BASE, headers=creation_headers(telemetry_only, DATA)).status_code == 403


class TestCreationWithUpload:
    def test_the_first_bytes_come_with_the_creation(
        self, tus: TestClient, dock: dict[str, str], factory: sessionmaker[Session]
    ) -> None:
        headers = {**creation_headers(dock, DATA), **OFFSET_STREAM}
        answer = tus.post(BASE, headers=headers, content=DATA[:1000])
        assert answer.status_code == 201
        assert answer.headers["Upload-Offset"] == "1000"
        url = answer.headers["Location"]
        assert offset_of(tus, dock, url) == 1000

    def test_a_whole_file_with_the_creation_completes_it(
        self, ingesting: TestClient, dock: dict[str, str], ingest: IngestRecorder
    ) -> None:
        headers = {
            **creation_headers(dock, DATA),
            **OFFSET_STREAM,
            "Upload-Checksum": checksum("sha256", DATA),
        }
        answer = ingesting.post(BASE, headers=headers, content=DATA)
        assert answer.status_code == 201
        assert answer.headers["Upload-Offset"] == str(len(DATA))
        assert "Upload-Expires" not in answer.headers
        [payload] = ingest.wait_for(1)
        assert payload["sha256_received"] == hashlib.sha256(DATA).hexdigest()

    def test_a_tampered_first_chunk_is_refused_yet_the_upload_exists(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        headers = {
            **creation_headers(dock, DATA),
            **OFFSET_STREAM,
            "Upload-Checksum": checksum("sha1", b"other"),
        }
        answer = tus.post(BASE, headers=headers, content=DATA[:1000])
        assert answer.status_code == 460
        assert offset_of(tus, dock, answer.headers["Location"]) == 0


class TestPatch:
    def test_chunks_in_order_complete_the_upload_and_hand_it_to_footage_ingest(
        self,
        ingesting: TestClient,
        dock: dict[str, str],
        ingest: IngestRecorder,
        upload_settings: Settings,
        factory: sessionmaker[Session],
    ) -> None:
        url = create(ingesting, dock)
        offset = 0
        for size in (1, 99_999, 150_000, 50_000):
            answer = ingesting.patch(
                url, headers=patch_headers(dock, offset), content=DATA[offset : offset + size]
            )
            assert answer.status_code == 204, answer.text
            offset += size
            assert answer.headers["Upload-Offset"] == str(offset)
            assert answer.headers["Tus-Resumable"] == "1.0.0"
        [payload] = ingest.wait_for(1)
        upload_id = url.rsplit("/", 1)[1]
        assert payload == {
            "source": "tus",
            "upload_id": upload_id,
            "parts": payload["parts"],
            "size": len(DATA),
            "sha256_received": hashlib.sha256(DATA).hexdigest(),
            "device_serial": "DOCK-1",
            "metadata": {
                "filename": "AXON_0001.mp4",
                "camera_serial": "CAM-001",
                "recorded_at": "2026-11-26T07:58:00+00:00",
                "sha256": hashlib.sha256(DATA).hexdigest(),
            },
        }
        assert [key.rsplit("/", 1)[1][:16] for key in payload["parts"]] == [
            f"{0:016d}", f"{1:016d}", f"{100_000:016d}", f"{250_000:016d}"
        ]  # fmt: skip
        assert joined(upload_settings, payload["parts"]) == DATA
        done = row(factory, url)
        assert (done.state, done.completed_at, done.offset) == ("complete", TEST_NOW, len(DATA))

    def test_each_part_records_its_own_sha256(
        self, tus: TestClient, dock: dict[str, str], factory: sessionmaker[Session]
    ) -> None:
        url = create(tus, dock)
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:1234])
        with factory() as db:
            part = db.scalars(select(UploadPart)).one()
        assert (part.offset, part.length, part.sha256) == (0, 1234, hashlib.sha256(DATA[:1234]).hexdigest())

    def test_a_patch_at_another_offset_is_refused_with_409(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        url = create(tus, dock)
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:100])
        answer = tus.patch(url, headers=patch_headers(dock, 50), content=DATA[50:150])
        assert answer.status_code == 409
        assert answer.json()["detail"]["rule"] == "upload_offset"
        assert offset_of(tus, dock, url) == 100

    def test_another_content_type_is_refused_with_415(self, tus: TestClient, dock: dict[str, str]) -> None:
        url = create(tus, dock)
        headers = {**patch_headers(dock, 0), "Content-Type": "application/octet-stream"}
        assert tus.patch(url, headers=headers, content=DATA[:100]).status_code == 415

    def test_a_missing_or_malformed_offset_is_refused_with_400(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        url = create(tus, dock)
        headers = patch_headers(dock, 0)
        headers["Upload-Offset"] = "zero"
        assert tus.patch(url, headers=headers, content=b"x").status_code == 400
        del headers["Upload-Offset"]
        assert tus.patch(url, headers=headers, content=b"x").status_code == 400

    @pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
    def test_a_chunk_with_a_matching_checksum_is_kept(
        self, tus: TestClient, dock: dict[str, str], algorithm: str
    ) -> None:
        url = create(tus, dock)
        headers = patch_headers(dock, 0, **{"Upload-Checksum": checksum(algorithm, DATA[:5000])})
        assert tus.patch(url, headers=headers, content=DATA[:5000]).status_code == 204
        assert offset_of(tus, dock, url) == 5000

    @pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
    def test_a_tampered_chunk_is_refused_with_460_and_nothing_of_it_kept(
        self,
        tus: TestClient,
        dock: dict[str, str],
        upload_settings: Settings,
        factory: sessionmaker[Session],
        algorithm: str,
    ) -> None:
        url = create(tus, dock)
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:1000])
        tampered = DATA[1000:6000][:-1] + b"\x00"
        headers = patch_headers(dock, 1000, **{"Upload-Checksum": checksum(algorithm, DATA[1000:6000])})
        answer = tus.patch(url, headers=headers, content=tampered)
        assert answer.status_code == 460
        assert offset_of(tus, dock, url) == 1000
        upload_id = url.rsplit("/", 1)[1]
        with factory() as db:
            parts = list(db.scalars(select(UploadPart.key)))
        assert stored_keys(upload_settings, f"uploads/{upload_id}/") == parts
        # The refused bytes left the running hash alone: the rest completes with the right digest.
        resumed = tus.patch(url, headers=headers, content=DATA[1000:6000])
        assert resumed.status_code == 204

    def test_an_unsupported_checksum_algorithm_is_refused_with_400(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        url = create(tus, dock)
        headers = patch_headers(dock, 0, **{"Upload-Checksum": "md5 " + base64.b64encode(b"x" * 16).decode()})
        answer = tus.patch(url, headers=headers, content=DATA[:10])
        assert answer.status_code == 400
        assert "sha1, sha256" in answer.json()["detail"]

    def test_bytes_past_the_upload_length_are_refused_and_none_kept(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        url = create(tus, dock, data=DATA[:100])
        answer = tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:101])
        assert answer.status_code == 413
        assert offset_of(tus, dock, url) == 0

    def test_a_chunk_over_the_request_body_cap_is_taken_as_it_streams(
        self, upload_settings: Settings, factory: sessionmaker[Session], dock: dict[str, str]
    ) -> None:
        from openbwv.app import create_app
        from openbwv.jobs import JobRegistry

        capped = upload_settings.model_copy(update={"max_body_mib": 1})
        data = source_bytes(3 * 1024 * 1024)
        with TestClient(
            create_app(capped, factory, jobs=JobRegistry()), base_url="https://testserver"
        ) as client:
            url = create(client, dock, data=data)
            answer = client.patch(url, headers=patch_headers(dock, 0), content=data)
            assert (answer.status_code, answer.headers["Upload-Offset"]) == (204, str(len(data)))
            # Every other route keeps the cap.
            too_big = client.post("/api/v1/device/telemetry", headers=dock, content=data)
            assert too_big.status_code == 413

    def test_an_empty_patch_changes_nothing(self, tus: TestClient, dock: dict[str, str]) -> None:
        url = create(tus, dock)
        answer = tus.patch(url, headers=patch_headers(dock, 0), content=b"")
        assert (answer.status_code, answer.headers["Upload-Offset"]) == (204, "0")

    def test_a_process_that_lost_its_running_hash_rebuilds_it_from_the_stored_parts(
        self, ingesting: TestClient, dock: dict[str, str], ingest: IngestRecorder
    ) -> None:
        url = create(ingesting, dock)
        ingesting.patch(url, headers=patch_headers(dock, 0), content=DATA[:70_000])
        running_hashes_of(ingesting.app.state).forget(url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
        ingesting.patch(url, headers=patch_headers(dock, 70_000), content=DATA[70_000:])
        [payload] = ingest.wait_for(1)
        assert payload["sha256_received"] == hashlib.sha256(DATA).hexdigest()

    def test_the_upload_ends_with_its_last_byte_and_refuses_more(
        self, tus: TestClient, dock: dict[str, str]
    ) -> None:
        url = create(tus, dock, data=DATA[:10])
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:10])
        assert tus.patch(url, headers=patch_headers(dock, 10), content=b"x").status_code == 413
        assert offset_of(tus, dock, url) == 10


class TestOwnership:
    def test_another_device_cannot_see_patch_or_terminate_an_upload(
        self, tus: TestClient, dock: dict[str, str], factory: sessionmaker[Session]
    ) -> None:
        url = create(tus, dock)
        other = device_headers_for(factory, kind="dock", serial="DOCK-2")
        assert tus.head(url, headers={**other, **TUS}).status_code == 404
        assert tus.patch(url, headers=patch_headers(other, 0), content=b"abc").status_code == 404
        assert tus.delete(url, headers={**other, **TUS}).status_code == 404
        assert offset_of(tus, dock, url) == 0

    def test_an_unknown_upload_is_404(self, tus: TestClient, dock: dict[str, str]) -> None:
        assert tus.head(f"{BASE}/nosuchupload", headers={**dock, **TUS}).status_code == 404
        assert (
            tus.patch(f"{BASE}/nosuchupload", headers=patch_headers(dock, 0), content=b"a").status_code == 404
        )


class TestTermination:
    def test_deletes_the_parts_and_the_upload_is_gone_after(
        self, tus: TestClient, dock: dict[str, str], upload_settings: Settings
    ) -> None:
        url = create(tus, dock)
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:1000])
        answer = tus.delete(url, headers={**dock, **TUS})
        assert answer.status_code == 204
        assert stored_keys(upload_settings, f"uploads/{url.rsplit('/', 1)[1]}/") == []
        assert tus.head(url, headers={**dock, **TUS}).status_code == 410
        assert tus.patch(url, headers=patch_headers(dock, 1000), content=b"a").status_code == 410
        assert tus.delete(url, headers={**dock, **TUS}).status_code == 410

    def test_a_complete_upload_belongs_to_footage_ingest_and_is_not_terminated(
        self,
        tus: TestClient,
        dock: dict[str, str],
        factory: sessionmaker[Session],
        upload_settings: Settings,
    ) -> None:
        url = create(tus, dock, data=DATA[:10])
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:10])
        upload_id = url.rsplit("/", 1)[1]
        parts = stored_keys(upload_settings, f"uploads/{upload_id}/")
        answer = tus.delete(url, headers={**dock, **TUS})
        assert answer.status_code == 409
        assert answer.json()["detail"] == {
            "rule": "upload_complete",
            "message": "The upload is complete and handed to footage ingest; it cannot be terminated.",
        }
        kept = row(factory, url)
        assert (kept.state, kept.terminated_at, kept.offset) == ("complete", None, 10)
        with factory() as db:
            assert [
                p.key for p in db.scalars(select(UploadPart).where(UploadPart.upload_id == upload_id))
            ] == parts
        assert len(parts) == 1 and stored_keys(upload_settings, f"uploads/{upload_id}/") == parts
        assert offset_of(tus, dock, url) == 10


class TestExpiry:
    def test_each_patch_moves_the_expiry_and_an_expired_upload_is_swept(
        self,
        tus: TestClient,
        dock: dict[str, str],
        clock: FixedClock,
        upload_settings: Settings,
        factory: sessionmaker[Session],
    ) -> None:
        from openbwv.storage import open_store
        from openbwv.uploads.jobs import expire_uploads

        url = create(tus, dock)
        clock.advance(timedelta(hours=10))
        answer = tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:1000])
        assert answer.headers["Upload-Expires"] == "Sun, 29 Nov 2026 18:00:00 GMT"
        clock.advance(timedelta(hours=71))
        assert expire_uploads(factory, open_store(upload_settings)) == 0
        assert offset_of(tus, dock, url) == 1000
        clock.advance(timedelta(hours=1))
        assert tus.head(url, headers={**dock, **TUS}).status_code == 410
        assert expire_uploads(factory, open_store(upload_settings)) == 1
        assert row(factory, url).state == "expired"
        assert stored_keys(upload_settings) == []
        assert expire_uploads(factory, open_store(upload_settings)) == 0

    def test_a_complete_upload_never_expires(
        self,
        ingesting: TestClient,
        dock: dict[str, str],
        clock: FixedClock,
        upload_settings: Settings,
        factory: sessionmaker[Session],
        ingest: IngestRecorder,
    ) -> None:
        from openbwv.storage import open_store
        from openbwv.uploads.jobs import expire_uploads

        url = create(ingesting, dock, data=DATA[:10])
        ingesting.patch(url, headers=patch_headers(dock, 0), content=DATA[:10])
        clock.advance(timedelta(days=30))
        assert expire_uploads(factory, open_store(upload_settings)) == 0
        assert joined(upload_settings, ingest.wait_for(1)[0]["parts"]) == DATA[:10]
        assert offset_of(ingesting, dock, url) == 10


class TestUnrecordedBytes:
    """A request killed between storing its bytes and recording them leaves an object no part names."""

    def _leave(self, settings: Settings, url: str, offset: int) -> str:
        from openbwv.storage import open_store
        from openbwv.uploads.service import new_part_key

        key = new_part_key(url.rsplit("/", 1)[1], offset)
        asyncio.run(_put(open_store(settings), key, b"never recorded"))
        return key

    def test_the_completing_patch_deletes_them(
        self,
        tus: TestClient,
        dock: dict[str, str],
        upload_settings: Settings,
        factory: sessionmaker[Session],
    ) -> None:
        url = create(tus, dock, data=DATA[:10])
        tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:4])
        self._leave(upload_settings, url, 4)
        tus.patch(url, headers=patch_headers(dock, 4), content=DATA[4:10])
        assert row(factory, url).state == "complete"
        with factory() as db:
            parts = sorted(db.scalars(select(UploadPart.key)))
        assert len(parts) == 2
        assert sorted(stored_keys(upload_settings)) == parts

    def test_the_sweep_deletes_those_of_ended_uploads_and_leaves_those_still_receiving(
        self,
        tus: TestClient,
        dock: dict[str, str],
        upload_settings: Settings,
        factory: sessionmaker[Session],
    ) -> None:
        from openbwv.storage import open_store
        from openbwv.uploads.jobs import expire_uploads

        ended, receiving = create(tus, dock, data=DATA[:10]), create(tus, dock, data=DATA[:10])
        tus.patch(ended, headers=patch_headers(dock, 0), content=DATA[:10])
        tus.patch(receiving, headers=patch_headers(dock, 0), content=DATA[:4])
        before = set(stored_keys(upload_settings))
        self._leave(upload_settings, ended, 4)
        streaming = self._leave(upload_settings, receiving, 4)
        assert expire_uploads(factory, open_store(upload_settings)) == 0
        assert set(stored_keys(upload_settings)) == before | {streaming}


async def _put(store: ObjectStore, key: str, data: bytes) -> None:
    async def once() -> AsyncIterator[bytes]:
        yield data

    await store.put(key, once())
