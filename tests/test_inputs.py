"""Hostile and odd input: integers past what the databases hold, control characters, over-long text.

Each answers 4xx with a message, on SQLite and PostgreSQL alike, and never a server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.policy import Role
from tests.builders import headers_for

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
