from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openbwv.app import create_app
from openbwv.auth.models import UserAccount
from openbwv.cli import main
from openbwv.config import load_settings
from openbwv.db import make_engine, make_session_factory
from openbwv.footage import Clip
from openbwv.footage.demo import DEMO_SOURCE
from openbwv.policy import Role


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "argv", ["openbwv", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPENBWV_DATABASE_URL", database_url)
    return database_url


def api_client() -> TestClient:
    """A client of the app configured from the same environment the CLI saw."""
    return TestClient(create_app(load_settings()), base_url="https://testserver")


def _user_count(url: str) -> int:
    factory = make_session_factory(make_engine(url))
    with factory() as db:
        return db.scalar(select(func.count()).select_from(UserAccount)) or 0


def _clip_count(url: str) -> int:
    """The demo footage's clips (the Taser demo's footage of its uses is counted apart)."""
    factory = make_session_factory(make_engine(url))
    with factory() as db:
        query = select(func.count()).select_from(Clip).where(Clip.storage_key.like(f"%/{DEMO_SOURCE}"))
        return db.scalar(query) or 0


class TestUsersCreate:
    def test_creates_a_user_who_can_get_a_token(
        self, cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = run_cli(
            monkeypatch,
            "users",
            "create",
            "mreid",
            "--role",
            "auditor",
            "--password-stdin",
            stdin="s3cret pass\n",
        )
        out = capsys.readouterr().out
        assert code == 0
        assert "Created user mreid with roles auditor." in out
        assert "s3cret pass" not in out
        client = api_client()
        token = client.post(
            "/api/v1/auth/token", data={"username": "mreid", "password": "s3cret pass"}
        ).json()
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.json()["roles"] == ["auditor"]

    @pytest.mark.parametrize(
        ("args", "stdin", "message"),
        [
            (["--role", "auditor"], "\n", "the password must not be empty"),
            (["--role", "wizard"], "long enough\n", "unknown role 'wizard'"),
        ],
    )
    def test_bad_input_exits_non_zero_with_a_sentence_and_changes_nothing(
        self,
        cli_env: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        stdin: str,
        message: str,
    ) -> None:
        code = run_cli(monkeypatch, "users", "create", "newbie", *args, "--password-stdin", stdin=stdin)
        err = capsys.readouterr().err
        assert code == 1
        assert message in err
        assert len(err.strip().splitlines()) == 1
        assert _user_count(cli_env) == 0

    def test_duplicate_username_exits_non_zero_and_keeps_the_first(
        self, cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert (
            run_cli(
                monkeypatch,
                "users",
                "create",
                "dup",
                "-r",
                "auditor",
                "--password-stdin",
                stdin="first pass\n",
            )
            == 0
        )
        code = run_cli(
            monkeypatch, "users", "create", "dup", "-r", "admin", "--password-stdin", stdin="second pass\n"
        )
        assert code == 1
        assert "The username 'dup' is already taken." in capsys.readouterr().err
        assert run_cli(monkeypatch, "users", "list") == 0
        assert "dup                            auditor" in capsys.readouterr().out


class TestConfiguration:
    def test_invalid_database_url_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("OPENBWV_DATABASE_URL", "mysql://localhost/x")
        assert run_cli(monkeypatch, "db", "upgrade") == 2
        assert capsys.readouterr().err.startswith("Error: OPENBWV_DATABASE_URL is invalid")

    def test_invalid_number_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("OPENBWV_TOKEN_TTL_MINUTES", "soon")
        assert run_cli(monkeypatch, "users", "list") == 2
        assert "OPENBWV_TOKEN_TTL_MINUTES is invalid" in capsys.readouterr().err

    def test_every_command_explains_itself(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        for command in (
            ["--help"],
            ["serve", "--help"],
            ["demo", "--help"],
            ["db", "upgrade", "--help"],
            ["users", "create", "--help"],
            ["users", "list", "--help"],
        ):
            assert run_cli(monkeypatch, *command) == 0
            assert "Usage:" in capsys.readouterr().out


class TestDemoSeed:
    def test_seeding_twice_is_safe_and_prints_working_logins(
        self, cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run_cli(monkeypatch, "demo", "--seed-only", "--clips", "30") == 0
        first = capsys.readouterr().out
        assert run_cli(monkeypatch, "demo", "--seed-only", "--clips", "30") == 0
        assert capsys.readouterr().out == first
        assert _user_count(cli_env) == len(Role)  # one demo login per role
        assert _clip_count(cli_env) == 30
        admin_line = next(line for line in first.splitlines() if "demo.admin" in line)
        _, password, role = admin_line.split()
        client = api_client()
        token = client.post(
            "/api/v1/auth/token", data={"username": "demo.admin", "password": password}
        ).json()
        officers = client.get(
            "/api/v1/officers", headers={"Authorization": f"Bearer {token['access_token']}"}
        ).json()
        assert role == "admin"
        assert officers["total"] == 320
