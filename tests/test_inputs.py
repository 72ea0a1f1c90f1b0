"""Hostile and odd input: integers past what the databases hold, control characters, over-long text.

Each answers 4xx with a message, on SQLite and PostgreSQL alike, and never a server error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.audit.models import AuditEvent
from openbwv.audit.service import TARGET_ID_LENGTH
from openbwv.auth.models import LoginFailure, UserAccount
from openbwv.config import Settings
from openbwv.db import Base, transaction
from openbwv.domains import installed_domains, routes_of
from openbwv.fleet.models import Cartridge, Device, RolloutPhase
from openbwv.fleet.schemas import CartridgeIn, DeviceIn, PhaseIn
from openbwv.fleet.training.models import Course, EligibilityRule, TrainingPass
from openbwv.fleet.training.schemas import CourseIn, EligibilityIn, PassIn
from openbwv.inputs import CONTROL_MESSAGE, FREE_TEXT_CONTROL_MESSAGE, Input
from openbwv.people.models import Officer, Unit
from openbwv.people.schemas import OfficerIn, UnitIn, UserCreateIn
from openbwv.policy import Role
from tests.builders import headers_for, make_device

TOO_BIG_FOR_SQLITE = 2**63
TOO_BIG_FOR_POSTGRES_INTEGER = 2**31


def openapi_document(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/openapi.sqlite3", secret_key="x"
    )
    return create_app(settings).openapi()


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


class TestIntegerBounds:
    @pytest.mark.parametrize(
        ("path", "parameter"),
        [
            (f"/api/v1/users?offset={TOO_BIG_FOR_SQLITE}", "offset"),
            (f"/api/v1/audit/checkpoint?tree_size={TOO_BIG_FOR_SQLITE}", "tree_size"),
            (f"/api/v1/audit/proof/inclusion?leaf_index=0&tree_size={TOO_BIG_FOR_SQLITE}", "tree_size"),
            (f"/api/v1/audit/proof/consistency?first=1&second={TOO_BIG_FOR_SQLITE}", "second"),
            (f"/api/v1/audit/entries?start={TOO_BIG_FOR_SQLITE}&end=1", "start"),
            (f"/audit/events/{TOO_BIG_FOR_SQLITE}", "event_id"),
            (f"/audit/events/{TOO_BIG_FOR_SQLITE}/proof", "event_id"),
        ],
    )
    def test_an_integer_past_64_bits_is_422(
        self, client: TestClient, factory: sessionmaker[Session], path: str, parameter: str
    ) -> None:
        response = client.get(path, headers=headers_for(factory, Role.ADMIN, Role.AUDITOR))
        assert response.status_code == 422
        assert [e["loc"][-1] for e in response.json()["detail"]] == [parameter]

    @pytest.mark.parametrize("issue_id", [TOO_BIG_FOR_POSTGRES_INTEGER, TOO_BIG_FOR_SQLITE, 0])
    def test_an_issue_id_that_cannot_exist_is_422(
        self, client: TestClient, factory: sessionmaker[Session], issue_id: int
    ) -> None:
        response = client.post(
            f"/api/v1/issues/{issue_id}/return", headers=headers_for(factory, Role.EQUIPMENT_MANAGER)
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "issue_id"]

    def test_a_cartridge_bay_past_the_largest_taser_is_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.post(
            f"/api/v1/devices/TS1/cartridges/{TOO_BIG_FOR_SQLITE}/discharge",
            headers=headers_for(factory, Role.EQUIPMENT_MANAGER),
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "bay"]

    def test_every_integer_an_operation_takes_is_bounded_both_ways(self, tmp_path: Path) -> None:
        document = openapi_document(tmp_path)
        unbounded = []
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                inputs = [operation.get("parameters", []), operation.get("requestBody", {})]
                for schema in _schemas(inputs):
                    if schema.get("type") == "integer" and (
                        "minimum" not in schema or "maximum" not in schema
                    ):
                        unbounded.append(f"{method.upper()} {path}: {schema}")
        for name, schema in document["components"]["schemas"].items():
            if name.endswith(("In", "Update")):
                for field, spec in schema.get("properties", {}).items():
                    for node in _schemas(spec):
                        if node.get("type") == "integer" and ("minimum" not in node or "maximum" not in node):
                            unbounded.append(f"{name}.{field}: {node}")
        assert unbounded == []


class TestControlCharacters:
    def test_a_nul_in_the_token_routes_username_is_422_and_records_no_failure(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.post("/api/v1/auth/token", data={"username": "ad\x00min", "password": "guess"})
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "username"], "msg": CONTROL_MESSAGE, "type": "control_character"}
        ]
        with factory() as db:
            assert db.scalar(select(func.count()).select_from(LoginFailure)) == 0

    def test_an_over_long_username_on_the_token_route_is_422(self, client: TestClient) -> None:
        response = client.post("/api/v1/auth/token", data={"username": "a" * 151, "password": "guess"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "username"]

    def test_a_nul_in_a_query_string_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.get("/api/v1/users?q=a%00b", headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "q"]

    def test_a_nul_in_a_path_is_422(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.get("/api/v1/officers/10%0001", headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "collar_number"]

    @pytest.mark.parametrize("name", ["Tactical\x00Aid", "Tactical\nAid", "Tactical\x1bAid"])
    def test_a_control_character_in_a_json_field_is_422_and_stores_nothing(
        self, client: TestClient, factory: sessionmaker[Session], name: str
    ) -> None:
        headers = headers_for(factory, Role.ADMIN)
        response = client.post("/api/v1/units", json={"code": "TAU", "name": name}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "name"], "msg": CONTROL_MESSAGE, "type": "control_character"}
        ]
        assert client.get("/api/v1/units", headers=headers).json() == []

    def test_a_nul_in_a_list_of_strings_is_422(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        body = {"username": "jbloggs", "password": "long enough password", "roles": ["officer\x00"]}
        response = client.post("/api/v1/users", json=body, headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", "roles"], "msg": CONTROL_MESSAGE, "type": "control_character"}
        ]

    def test_free_text_keeps_tabs_and_line_breaks_but_not_nul(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM77")
        headers = headers_for(factory, Role.EQUIPMENT_MANAGER)
        refused = client.post(
            "/api/v1/devices/CAM77/state", json={"state": "in_repair", "note": "a\x00b"}, headers=headers
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["msg"] == FREE_TEXT_CONTROL_MESSAGE
        note = "Cracked lens.\r\nSent to\tsupplier."
        accepted = client.post(
            "/api/v1/devices/CAM77/state", json={"state": "in_repair", "note": note}, headers=headers
        )
        assert accepted.status_code == 200
        history = client.get("/api/v1/devices/CAM77/history", headers=headers).json()
        assert history[-1]["note"] == note

    def test_every_json_body_is_checked_for_control_characters(self) -> None:
        bodies = [
            param.field_info.annotation
            for route in routes_of(installed_domains())
            if isinstance(route, APIRoute)
            for param in route.dependant.body_params
        ]
        models = [
            arg
            for body in bodies
            for arg in (get_args(body) or (body,))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        assert len(models) > 10
        assert [m.__name__ for m in models if not issubclass(m, Input)] == []

    def test_a_nul_in_a_pages_form_field_is_422(self, client: TestClient) -> None:
        form = client.get("/login", headers={"Accept": "text/html"}).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        response = client.post(
            "/login",
            data={"username": "ad\x00min", "password": "guess", "csrf_token": token.group(1)},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 422
        assert "username" in response.text


class TestLengths:
    def test_a_refused_request_to_a_long_path_is_403_and_audited_in_full(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        username = "u" * 150
        response = client.put(
            f"/api/v1/users/{username}/roles", json={"roles": ["admin"]}, headers=headers_for(factory)
        )
        assert response.status_code == 403
        with factory() as db:
            event = db.scalars(select(AuditEvent).where(AuditEvent.action == "authz:access:refused")).one()
        assert event.target_id is not None and len(event.target_id) == TARGET_ID_LENGTH
        assert event.details["target_id"] == f"PUT /api/v1/users/{username}/roles"

    @pytest.mark.parametrize(
        ("schema", "model"),
        [
            (UnitIn, Unit),
            (OfficerIn, Officer),
            (UserCreateIn, UserAccount),
            (DeviceIn, Device),
            (CartridgeIn, Cartridge),
            (PhaseIn, RolloutPhase),
            (CourseIn, Course),
            (PassIn, TrainingPass),
            (EligibilityIn, EligibilityRule),
        ],
    )
    def test_json_fields_are_no_longer_than_their_columns(
        self, schema: type[BaseModel], model: type[Base]
    ) -> None:
        columns = model.__table__.columns
        checked = 0
        for name, field in schema.model_fields.items():
            column = columns.get(name)
            length = getattr(column.type, "length", None) if column is not None else None
            if length is None or str not in (get_args(field.annotation) or (field.annotation,)):
                continue
            limits = [m.max_length for m in field.metadata if getattr(m, "max_length", None) is not None]
            assert limits and limits[0] <= length, f"{schema.__name__}.{name}"
            checked += 1
        assert checked > 0
