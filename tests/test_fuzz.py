"""Property-based fuzzing of the whole JSON API from its OpenAPI description.

Schemathesis generates requests for every operation, valid and invalid, and checks each answer: never
a server error, and always a status code, content type and body that the OpenAPI description
declares. It runs in-process against the app on SQLite, once per kind of caller, with a bounded
number of examples per operation and a fixed seed, so that it is repeatable and quick.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.fleet import training
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM, Role
from tests.builders import device_headers_for, headers_for, make_device, make_officer, make_pass, make_unit

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = {"admin": (Role.ADMIN,), "officer": (Role.OFFICER,), "anonymous": (), "device": ()}


@pytest.fixture
def fuzz_factory(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[FastAPI, sessionmaker[Session]]]:
    path = tmp_path / "openbwv.sqlite3"
    shutil.copyfile(sqlite_template, path)
    settings_ = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{path}", secret_key="fuzz")
    engine = make_engine(settings_.resolved_database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as db:
        unit = make_unit(db, code="RESP", name="Response")
        officer = make_officer(db, collar="1001", unit=unit)
        make_device(db, kind="camera", serial="CAM1")
        make_device(db, kind="taser", serial="TAS1")
        make_pass(db, officer, "taser_initial", date(2026, 3, 1))
        training.add_volunteer(db, SYSTEM, collar_number="1001", volunteered_on=date(2026, 3, 1))
    yield create_app(settings_, factory, jobs=JobRegistry()), factory
    engine.dispose()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_fuzzed_requests_get_declared_answers_and_no_server_error(
    caller: str, fuzz_factory: tuple[FastAPI, sessionmaker[Session]]
) -> None:
    app, factory = fuzz_factory
    if caller == "device":
        headers = device_headers_for(factory, serial="CAM2")
    else:
        headers = headers_for(factory, *CALLERS[caller]) if CALLERS[caller] else {}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    statuses: list[int] = []
    failures: dict[str, str] = {}

    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def exercise(case: Case) -> None:
            try:
                response = case.call(headers=headers)
            except Exception:
                # In-process, an unhandled error leaves the app after its 500 has been answered.
                statuses.append(500)
                raise
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = str(exc)[:3000]

    server_errors = sum(1 for status in statuses if status >= 500)
    print(
        f"\nfuzzing as {caller}: {len(operations)} operations, {len(statuses)} requests, "
        f"{server_errors} answered 5xx"
    )
    assert not failures, "\n\n".join(f"{label}:\n{message}" for label, message in failures.items())
    assert server_errors == 0
