"""What an outsider tries first: a crash mid-burst, two people at the counter at once, a burst of writes.

Each test runs on SQLite and PostgreSQL. Concurrent requests go through one ``TestClient`` from many
threads, so they meet in the app as they would in a server: in its thread pool, on its connections.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbwv import db as openbwv_db
from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import (
    Db,
    make_engine,
    make_session_factory,
    refusing_duplicates,
    transaction,
    violated_unique,
)
from openbwv.errors import Conflict, DatabaseBusy
from openbwv.fleet.models import Issue
from openbwv.jobs import JobRegistry
from openbwv.people.models import Officer, Unit
from openbwv.policy import Public, Role
from tests.builders import (
    DEFAULT_PASSWORD,
    headers_for,
    make_device,
    make_officer,
    make_pass,
    make_unit,
    make_user,
)
from tests.server_process import ServerProcess


def _all_at_once(count: int, call: Callable[[int], httpx2.Response]) -> list[httpx2.Response]:
    """``call(0)`` … ``call(count - 1)`` from ``count`` threads released together."""
    start = threading.Barrier(count)

    def run(index: int) -> httpx2.Response:
        start.wait()
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _statuses(responses: list[httpx2.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def _rules(responses: list[httpx2.Response]) -> set[str]:
    return {r.json()["detail"]["rule"] for r in responses if r.status_code == 409}


class TestAnsweredMeansStored:
    def test_a_created_officer_is_in_the_database_before_the_answer_starts(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        admin = headers_for(factory, Role.ADMIN)
        reader = make_session_factory(factory.kw["bind"], read_only=True)
        stored_when_answered: list[int] = []

        def officers_stored() -> int:
            with reader() as db:
                return db.scalar(select(func.count()).select_from(Officer)) or 0

        def spy(app: ASGIApp) -> ASGIApp:
            async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
                async def watch(message: Message) -> None:
                    if message["type"] == "http.response.start" and scope["method"] == "POST":
                        stored_when_answered.append(await anyio.to_thread.run_sync(officers_stored))
                    await send(message)

                await app(scope, receive, watch if scope["type"] == "http" else send)

            return wrapped

        app = create_app(settings, factory, jobs=JobRegistry())
        with TestClient(spy(app), base_url="https://testserver") as client:
            body = {"collar_number": "7001", "name": "Ada Okafor", "rank": "constable", "unit": "RESP"}
            assert client.post("/api/v1/officers", json=body, headers=admin).status_code == 201
        assert stored_when_answered == [1]

    @pytest.mark.slow
    def test_no_acknowledged_write_is_lost_when_the_server_is_killed(
        self, database_url: str, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
            make_user(db, username="crash.admin", roles=[Role.ADMIN])
        acknowledged: list[str] = []
        for round_number in range(3):
            server = ServerProcess(
                database_url=database_url, data_dir=tmp_path / "data", log_path=tmp_path / "server.log"
            )
            try:
                server.wait_ready()
                # Signed in through the server: it reads the wall clock, not the test's fixed one.
                admin = server.bearer_headers("crash.admin", DEFAULT_PASSWORD)
                acknowledged += _create_officers_until_killed(server, admin, prefix=f"K{round_number}")
            finally:
                server.kill()
        with factory() as db:
            stored = set(db.scalars(select(Officer.collar_number)).all())
        assert len(acknowledged) >= 3
        assert [c for c in acknowledged if c not in stored] == []


def _create_officers_until_killed(
    server: ServerProcess, headers: dict[str, str], *, prefix: str
) -> list[str]:
    """30 concurrent creates; SIGKILL once 5 are acknowledged. The collars acknowledged with a 201."""
    acknowledged: list[str] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        collar = f"{prefix}{index:03d}"
        body = {"collar_number": collar, "name": "Crash Test", "rank": "constable", "unit": "RESP"}
        try:
            answer = httpx2.post(f"{server.base_url}/api/v1/officers", json=body, headers=headers, timeout=30)
        except httpx2.TransportError:
            return
        if answer.status_code == 201:
            with lock:
                acknowledged.append(collar)
                if len(acknowledged) == 5:
                    server.kill()

    with ThreadPoolExecutor(max_workers=30) as pool:
        list(pool.map(create, range(30)))
    return acknowledged


@pytest.fixture
def concurrent_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings, factory, jobs=JobRegistry()), base_url="https://testserver"
    ) as client:
        yield client


class TestOnlyOneHolder:
    def test_one_camera_issued_to_twenty_officers_at_once_goes_to_one(
        self, concurrent_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        collars = [f"81{i:02d}" for i in range(20)]
        with transaction(factory) as db:
            for collar in collars:
                make_pass(db, make_officer(db, collar=collar), "bwv_user", date(2026, 1, 10))
            make_device(db, serial="CAM-RACE")
        manager = headers_for(factory, Role.EQUIPMENT_MANAGER)
        answers = _all_at_once(
            20,
            lambda i: concurrent_client.post(
                "/api/v1/issues",
                json={"device_serial": "CAM-RACE", "collar_number": collars[i], "kind": "personal"},
                headers=manager,
            ),
        )
        assert _statuses(answers) == {201: 1, 409: 19}
        assert _rules(answers) == {"already_checked_out"}
        with factory() as db:
            assert db.scalar(select(func.count()).where(Issue.returned_at.is_(None))) == 1

    def test_one_officer_given_eleven_personal_cameras_at_once_keeps_one(
        self, concurrent_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_pass(db, make_officer(db, collar="8200"), "bwv_user", date(2026, 1, 10))
            serials = [make_device(db, serial=f"CAM-P{i}").serial for i in range(11)]
        manager = headers_for(factory, Role.EQUIPMENT_MANAGER)
        answers = _all_at_once(
            11,
            lambda i: concurrent_client.post(
                "/api/v1/issues",
                json={"device_serial": serials[i], "collar_number": "8200", "kind": "personal"},
                headers=manager,
            ),
        )
        assert _statuses(answers) == {201: 1, 409: 10}
        assert _rules(answers) == {"officer_already_has_camera"}

    @pytest.mark.parametrize(
        ("path", "body", "role", "rule"),
        [
            ("/api/v1/units", {"code": "DUP", "name": "Duplicate"}, Role.ADMIN, "unit_code_taken"),
            (
                "/api/v1/officers",
                {"collar_number": "8300", "name": "Twin", "rank": "constable", "unit": "RESP"},
                Role.ADMIN,
                "collar_number_taken",
            ),
            (
                "/api/v1/devices",
                {"kind": "camera", "serial": "CAM-DUP", "model": "Axon Body 3"},
                Role.EQUIPMENT_MANAGER,
                "serial_taken",
            ),
            (
                "/api/v1/courses",
                {
                    "code": "dup_course",
                    "name": "Duplicate course",
                    "authority": None,
                    "validity_months": None,
                },
                Role.TRAINING_MANAGER,
                "course_code_taken",
            ),
        ],
    )
    def test_twenty_identical_creates_at_once_store_one_and_refuse_the_rest(
        self,
        concurrent_client: TestClient,
        factory: sessionmaker[Session],
        path: str,
        body: dict[str, Any],
        role: Role,
        rule: str,
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        headers = headers_for(factory, role)
        answers = _all_at_once(20, lambda _: concurrent_client.post(path, json=body, headers=headers))
        assert _statuses(answers) == {201: 1, 409: 19}
        assert _rules(answers) == {rule}


class TestWritersQueue:
    def test_two_hundred_concurrent_writes_all_succeed(
        self, concurrent_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        admin = headers_for(factory, Role.ADMIN)
        answers = _all_at_once(
            200,
            lambda i: concurrent_client.post(
                "/api/v1/officers",
                json={"collar_number": f"9{i:03d}", "name": "Burst", "rank": "constable", "unit": "RESP"},
                headers=admin,
            ),
        )
        assert _statuses(answers) == {201: 200}
        with factory() as db:
            assert db.scalar(select(func.count()).select_from(Officer)) == 200

    def test_a_sqlite_writer_that_cannot_get_the_lock_in_time_is_told_to_retry(
        self, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "busy.sqlite3"
        shutil.copyfile(sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        factory = make_session_factory(engine)
        monkeypatch.setattr(openbwv_db, "SQLITE_WRITER_WAIT_SECONDS", 0.2)
        holding, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with transaction(factory) as db:
                make_unit(db, code="HOLD")
                holding.set()
                release.wait(10)

        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        try:
            assert holding.wait(10)
            started = time.monotonic()
            with pytest.raises(DatabaseBusy), transaction(factory) as db:
                make_unit(db, code="WAIT")
            assert 0.2 <= time.monotonic() - started < 5
        finally:
            release.set()
            holder.join()
        with transaction(factory) as db:
            make_unit(db, code="AFTER")
        with factory() as db:
            assert set(db.scalars(select(Unit.code)).all()) == {"HOLD", "AFTER"}
        engine.dispose()


class TestUniqueViolations:
    def test_the_broken_constraint_is_named_on_both_databases(self, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_unit(db, code="SAME")
        with factory() as db, pytest.raises(IntegrityError) as raised:
            db.add(Unit(code="SAME", name="Again", kind="other"))
            db.flush()
        assert violated_unique(raised.value) == "uq_unit_code"

    def test_a_refused_duplicate_leaves_the_session_usable(self, db: Session) -> None:
        make_unit(db, code="KEEP")
        taken = Conflict("taken", rule="unit_code_taken")
        with pytest.raises(Conflict), refusing_duplicates(db, {"uq_unit_code": taken}):
            db.add(Unit(code="KEEP", name="Again", kind="other"))
        make_unit(db, code="NEXT")
        assert {u.code for u in db.scalars(select(Unit)).all()} == {"KEEP", "NEXT"}

    def test_a_clash_no_service_foresaw_is_a_409_not_a_500(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="SAME")
        app = create_app(settings, factory, jobs=JobRegistry())

        @app.post("/clash", dependencies=[Public])
        def clash(db: Db) -> dict[str, str]:
            db.add(Unit(code="SAME", name="Written past the service", kind="other"))
            return {}

        with TestClient(app, base_url="https://testserver") as client:
            answer = client.post("/clash")
        assert answer.status_code == 409
        assert answer.json()["detail"]["rule"] == "duplicate"
