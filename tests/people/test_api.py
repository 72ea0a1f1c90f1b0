from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv import auth
from openbwv.audit import AuditAction
from openbwv.audit.models import AuditEvent
from openbwv.db import transaction
from openbwv.policy import Role
from tests.builders import headers_for, make_officer, make_unit


class TestUnitsApi:
    def test_admin_creates_a_unit_and_everyone_with_read_sees_it(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.post(
            "/api/v1/units",
            json={"code": "tsg", "name": "Territorial Support Group"},
            headers=headers_for(factory, Role.ADMIN, username="people.admin"),
        )
        assert response.status_code == 201
        assert response.json()["code"] == "TSG"
        listed = client.get("/api/v1/units", headers=headers_for(factory, Role.SUPERVISOR)).json()
        assert [u["code"] for u in listed] == ["TSG"]
        with factory() as db:
            admin = auth.get_user(db, "people.admin")
            [created] = db.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.PEOPLE_UNIT_CREATED)
            )
        assert admin is not None
        assert (
            created.actor_username,
            created.actor_user_id,
            created.target_type,
            created.target_id,
            created.reason,
            created.details,
        ) == ("people.admin", admin.id, "unit", "TSG", None, {})

    def test_duplicate_code_is_409(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.ADMIN)
        client.post("/api/v1/units", json={"code": "TSG", "name": "A"}, headers=headers)
        response = client.post("/api/v1/units", json={"code": "tsg", "name": "B"}, headers=headers)
        assert response.status_code == 409
        assert response.json()["detail"] == {
            "rule": "unit_code_taken",
            "message": "A unit with code TSG already exists.",
        }
        with factory() as db:
            created = db.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == AuditAction.PEOPLE_UNIT_CREATED)
            )
            assert created.all() == ["TSG"]

    def test_malformed_body_is_422_listing_fields(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        response = client.post(
            "/api/v1/units", json={"code": "has space"}, headers=headers_for(factory, Role.ADMIN)
        )
        assert response.status_code == 422
        assert sorted(tuple(e["loc"]) for e in response.json()["detail"]) == [
            ("body", "code"),
            ("body", "name"),
        ]

    def test_invalid_json_is_422_not_500(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = {**headers_for(factory, Role.ADMIN), "Content-Type": "application/json"}
        response = client.post("/api/v1/units", content=b"{not json", headers=headers)
        assert response.status_code == 422


class TestOfficersApi:
    def test_create_then_get_by_collar(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP", name="Birmingham Response")
        body = {"collar_number": "5501", "name": "Tom Ward", "rank": "constable", "unit": "resp"}
        created = client.post("/api/v1/officers", json=body, headers=headers_for(factory, Role.ADMIN))
        assert created.status_code == 201
        fetched = client.get("/api/v1/officers/5501", headers=headers_for(factory, Role.SUPERVISOR))
        assert fetched.json() == {
            "collar_number": "5501",
            "name": "Tom Ward",
            "rank": "constable",
            "rank_name": "Constable",
            "unit": "RESP",
            "unit_name": "Birmingham Response",
            "is_active": True,
            "left_on": None,
        }

    def test_unknown_rank_is_422_on_the_rank_field(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        body = {"collar_number": "5502", "name": "Tom Ward", "rank": "general", "unit": "RESP"}
        response = client.post("/api/v1/officers", json=body, headers=headers_for(factory, Role.ADMIN))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "rank"]

    def test_missing_officer_is_404(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        response = client.get("/api/v1/officers/0000", headers=headers_for(factory, Role.SUPERVISOR))
        assert response.status_code == 404
        assert response.json() == {"detail": "No such officer."}

    def test_officer_role_lists_only_their_own_record(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            own = make_officer(db, collar="5601")
            make_officer(db, collar="5602")
        page = client.get("/api/v1/officers", headers=headers_for(factory, Role.OFFICER, officer=own)).json()
        assert ([o["collar_number"] for o in page["items"]], page["total"]) == (["5601"], 1)

    def test_a_role_without_officer_read_or_an_officer_record_lists_no_one(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_officer(db, collar="5603")
        page = client.get("/api/v1/officers", headers=headers_for(factory, Role.PANEL_MEMBER)).json()
        assert (page["items"], page["total"]) == ([], 0)

    def test_list_is_paged_and_searchable(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with transaction(factory) as db:
            for n in range(3):
                make_officer(db, collar=f"90{n}", name=f"Officer Nine{n}")
            make_officer(db, collar="100", name="Someone Else")
        page = client.get(
            "/api/v1/officers",
            params={"q": "nine", "limit": 2},
            headers=headers_for(factory, Role.SUPERVISOR),
        ).json()
        assert page["total"] == 3
        assert [o["collar_number"] for o in page["items"]] == ["900", "901"]


class TestUsersApi:
    def test_a_huge_roles_array_is_422_and_creates_nobody(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.ADMIN)
        body = {"username": "jbloggs", "password": "long enough password", "roles": ["officer"] * 100_000}
        response = client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "roles"]
        assert client.get("/api/v1/users?q=jbloggs", headers=headers).json()["total"] == 0

    def test_a_role_named_twice_counts_once(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        headers = headers_for(factory, Role.ADMIN)
        body = {"username": "jbloggs", "password": "long enough password", "roles": ["auditor"] * 12}
        created = client.post("/api/v1/users", json=body, headers=headers)
        assert created.status_code == 201
        assert created.json()["roles"] == ["auditor"]
        changed = client.put(
            "/api/v1/users/jbloggs/roles",
            json={"roles": ["pcc_office", "auditor", "pcc_office"]},
            headers=headers,
        )
        assert changed.json()["roles"] == ["auditor", "pcc_office"]
