"""The dock agent against a real server: uploads, resumes after a crash, checks the server's hash."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.dock import DockAgent, FileOutcome
from openbwv.dock.agent import STATE, UPLOADED, describe, read_credential
from openbwv.footage.models import Clip
from openbwv.uploads.models import Upload, UploadPart
from tests.dock.conftest import CAMERA, tagged_clip
from tests.footage.helpers import make_video
from tests.server_process import ServerProcess


def run_agent(server: str, credential: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from openbwv.cli import run; run()", "dock"]
    return subprocess.run(
        [
            *command,
            "--server",
            server,
            "--credential",
            str(credential),
            "--once",
            "--settle",
            "0",
            *extra,
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def uploads(factory: sessionmaker[Session]) -> list[Upload]:
    with factory() as db:
        return list(db.scalars(select(Upload).order_by(Upload.created_at)))


def wait_for_clips(factory: sessionmaker[Session], count: int, timeout: float = 30.0) -> list[Clip]:
    deadline = time.monotonic() + timeout
    while True:
        with factory() as db:
            found = list(db.scalars(select(Clip).order_by(Clip.id)))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class TestOnce:
    def test_uploads_every_file_checks_it_and_moves_it(
        self,
        served: ServerProcess,
        credential_file: Path,
        folder: Path,
        factory: sessionmaker[Session],
        database_url: str,
    ) -> None:
        data = [tagged_clip(folder, f"clip-{n}.mp4", seed=n) for n in range(3)]
        (folder / ".writing.mp4").write_bytes(b"half a file")  # a camera still writing: ignored
        (folder / "notes.txt").write_text("not footage")

        answer = run_agent(served.base_url, credential_file, folder)

        assert answer.returncode == 0, answer.stdout + answer.stderr
        assert sorted(p.name for p in (folder / UPLOADED).iterdir()) == [
            "clip-0.mp4",
            "clip-1.mp4",
            "clip-2.mp4",
        ]
        assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [".writing.mp4", "notes.txt"]
        digests = sorted(hashlib.sha256(d).hexdigest() for d in data)
        stored = uploads(factory)
        assert sorted(u.received_sha256 or "" for u in stored) == digests
        assert {(u.state, u.device_serial, u.metadata_["camera_serial"]) for u in stored} == {
            ("complete", "DOCK-1", CAMERA)
        }
        assert json.loads((folder / STATE / "uploads.json").read_text()) == {}
        if database_url.startswith("sqlite"):  # serve runs footage ingest itself on SQLite only
            assert sorted(c.sha256 for c in wait_for_clips(factory, 3)) == digests

    def test_a_second_run_finds_nothing_to_do(
        self, served: ServerProcess, credential_file: Path, folder: Path, factory: sessionmaker[Session]
    ) -> None:
        tagged_clip(folder, "clip.mp4")
        assert run_agent(served.base_url, credential_file, folder).returncode == 0
        again = run_agent(served.base_url, credential_file, folder)
        assert again.returncode == 0
        assert len(uploads(factory)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestSettleTime:
    """A file is sent only once it has stopped changing: the client side, so SQLite alone."""

    def test_a_file_still_being_written_is_sent_only_once_it_has_stopped_changing(
        self,
        served: ServerProcess,
        credential_file: Path,
        folder: Path,
        factory: sessionmaker[Session],
        tmp_path: Path,
    ) -> None:
        data = tagged_clip(tmp_path, "source.mp4")
        command = [sys.executable, "-c", "from openbwv.cli import run; run()", "dock", "--settle", "1"]
        agent = subprocess.Popen(
            [*command, "--server", served.base_url, "--credential", str(credential_file), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},
        )
        released = folder / UPLOADED / "clip.mp4"
        try:
            assert agent.stdout is not None
            assert agent.stdout.readline().startswith("Watching")
            # A camera writing the clip in place, under its final name, a piece every 0.3 s; its sidecar
            # first, so that even a part of the clip is described and could be sent.
            (folder / "clip.mp4.json").write_text(
                json.dumps({"camera_serial": CAMERA, "recorded_at": "2026-11-26T05:00:00+00:00"})
            )
            piece = len(data) // 8 + 1
            with (folder / "clip.mp4").open("wb") as stream:
                for start in range(0, len(data), piece):
                    stream.write(data[start : start + piece])
                    stream.flush()
                    time.sleep(0.3)
                    assert not released.exists()
            deadline = time.monotonic() + 30
            while not released.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            agent.terminate()
            output, _ = agent.communicate(timeout=30)
        assert released.read_bytes() == data, output
        assert [u.received_sha256 for u in uploads(factory)] == [hashlib.sha256(data).hexdigest()]

    def test_with_a_settle_time_a_quiet_file_is_sent_and_one_being_written_is_left(
        self, served: ServerProcess, credential_file: Path, folder: Path, tmp_path: Path
    ) -> None:
        tagged_clip(folder, "quiet.mp4")
        (folder / "growing.mp4.json").write_text(
            json.dumps({"camera_serial": CAMERA, "recorded_at": "2026-11-26T05:00:00+00:00"})
        )
        done = threading.Event()

        def write() -> None:
            # A sleep, not a timed wait on ``done``: under a shifted clock (faketime) a timed wait on
            # a lock lasts as long as the shift.
            with (folder / "growing.mp4").open("wb") as stream:
                while not done.is_set():
                    stream.write(b"more video")
                    stream.flush()
                    time.sleep(0.2)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            answer = run_agent(served.base_url, credential_file, folder, "--settle", "1")
        finally:
            done.set()
            writer.join()
        assert answer.returncode == 0, answer.stdout + answer.stderr
        assert [p.name for p in (folder / UPLOADED).iterdir()] == ["quiet.mp4"]
        assert (folder / "growing.mp4").exists()


class Crash(Exception):
    pass


def crash_after(offsets: int) -> Callable[[int, int], None]:
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) > offsets:
            raise Crash()

    return progress


class TestCrash:
    def test_a_rerun_resumes_the_same_upload_and_duplicates_nothing(
        self, served: ServerProcess, credential_file: Path, folder: Path, factory: sessionmaker[Session]
    ) -> None:
        data = tagged_clip(folder, "clip.mp4", seconds=4.0)
        agent = DockAgent(
            server=served.base_url,
            credential=read_credential(credential_file),
            folder=folder,
            chunk_size=4 * 1024,
        )
        with pytest.raises(Crash):
            agent.process(folder / "clip.mp4", crash_after(2))  # two chunks stored, then the agent dies
        [partial] = uploads(factory)
        assert partial.state == "receiving"
        assert partial.offset == 2 * 4 * 1024 < len(data)

        answer = run_agent(served.base_url, credential_file, folder)

        assert answer.returncode == 0, answer.stdout + answer.stderr
        [upload] = uploads(factory)
        assert upload.id == partial.id
        assert upload.state == "complete"
        assert upload.received_sha256 == hashlib.sha256(data).hexdigest()
        with factory() as db:
            assert db.scalars(select(UploadPart.offset).where(UploadPart.upload_id == upload.id)).first() == 0
        assert (folder / UPLOADED / "clip.mp4").read_bytes() == data

    def test_a_crash_after_the_last_byte_releases_on_rerun_without_sending_again(
        self, served: ServerProcess, credential_file: Path, folder: Path, factory: sessionmaker[Session]
    ) -> None:
        data = tagged_clip(folder, "clip.mp4")
        agent = DockAgent(server=served.base_url, credential=read_credential(credential_file), folder=folder)
        with pytest.raises(Crash):
            agent.process(folder / "clip.mp4", crash_after(1))  # offset 0, then the whole file
        assert (folder / "clip.mp4").exists()

        assert run_agent(served.base_url, credential_file, folder).returncode == 0

        [upload] = uploads(factory)
        assert upload.state == "complete"
        assert (folder / UPLOADED / "clip.mp4").read_bytes() == data


class TestServerHash:
    def test_a_mismatch_leaves_the_file_for_the_camera(
        self,
        served: ServerProcess,
        credential_file: Path,
        folder: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        tagged_clip(folder, "clip.mp4")
        agent = DockAgent(server=served.base_url, credential=read_credential(credential_file), folder=folder)
        monkeypatch.setattr(agent, "server_sha256", lambda url: "0" * 64)

        outcome, sentence = agent.process(folder / "clip.mp4")

        assert outcome == FileOutcome.MISMATCH
        assert "left where it is" in sentence and "0" * 64 in sentence
        assert (folder / "clip.mp4").exists()
        assert not (folder / UPLOADED).exists()

    def test_the_server_answers_its_hash_only_for_a_complete_upload(
        self, served: ServerProcess, credential_file: Path, folder: Path
    ) -> None:
        data = tagged_clip(folder, "clip.mp4")
        agent = DockAgent(server=served.base_url, credential=read_credential(credential_file), folder=folder)
        described = describe(folder / "clip.mp4")
        assert not isinstance(described, str)
        assert agent.server_sha256(agent.upload(described)) == hashlib.sha256(data).hexdigest()


class TestDescribe:
    def test_a_sidecar_describes_a_file_without_tags(self, folder: Path) -> None:
        make_video(folder / "plain.mp4")
        (folder / "plain.mp4.json").write_text(
            json.dumps({"camera_serial": "CAM-9", "recorded_at": "2026-11-26T05:00:00+00:00"})
        )
        described = describe(folder / "plain.mp4")
        assert not isinstance(described, str)
        assert (described.camera_serial, described.recorded_at) == ("CAM-9", "2026-11-26T05:00:00+00:00")

    def test_a_file_nothing_describes_is_left_with_a_sentence(
        self, folder: Path, served: ServerProcess, credential_file: Path
    ) -> None:
        make_video(folder / "plain.mp4")
        answer = run_agent(served.base_url, credential_file, folder)
        assert answer.returncode == 1
        assert "plain.mp4 is left where it is: it names no camera" in answer.stdout
        assert (folder / "plain.mp4").exists()


class TestRefusals:
    def test_a_missing_credential_file(self, folder: Path, tmp_path: Path) -> None:
        answer = run_agent("http://127.0.0.1:9", tmp_path / "nowhere", folder)
        assert answer.returncode == 2
        assert "The credential file" in answer.stderr and "does not exist" in answer.stderr

    def test_an_empty_credential_file(self, folder: Path, tmp_path: Path) -> None:
        (tmp_path / "empty").write_text("  \n")
        answer = run_agent("http://127.0.0.1:9", tmp_path / "empty", folder)
        assert answer.returncode == 2
        assert "is empty" in answer.stderr

    def test_a_refused_credential(self, served: ServerProcess, folder: Path, tmp_path: Path) -> None:
        tagged_clip(folder, "clip.mp4")
        (tmp_path / "wrong").write_text("not-a-credential\n")
        answer = run_agent(served.base_url, tmp_path / "wrong", folder)
        assert answer.returncode == 1
        assert "refused the dock's credential (401)" in answer.stderr
        assert (folder / "clip.mp4").exists()

    def test_an_unreachable_server(self, credential_file: Path, folder: Path) -> None:
        tagged_clip(folder, "clip.mp4")
        answer = run_agent("http://127.0.0.1:9", credential_file, folder)
        assert answer.returncode == 1
        assert "cannot be reached" in answer.stderr and "run the agent again to resume" in answer.stderr
        assert (folder / "clip.mp4").exists()
