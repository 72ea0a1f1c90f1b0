from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import access
from openbwv.cli import app
from openbwv.config import Settings
from tests.access.helpers import events
from tests.test_cli import run_cli


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    return CliRunner()


class TestReasonsList:
    def test_lists_each_reason_with_what_it_permits_and_forbids(self, runner: CliRunner) -> None:
        result = runner.invoke(app, ["reasons", "list"])
        assert result.exit_code == 0, result.output
        line = next(x for x in result.output.splitlines() if x.startswith("uof-scrutiny "))
        assert "Independent scrutiny of use of force" in line
        assert line.endswith("permits footage_view_redacted  forbids live_view")
        assert f"{len(access.DEFAULT_REASONS)} reasons." in result.output


class TestReasonsAdd:
    def test_adds_a_reason_that_is_audited(self, runner: CliRunner, factory: sessionmaker[Session]) -> None:
        result = runner.invoke(
            app,
            ["reasons", "add", "welfare", "--label", "Welfare check", "--permits", "live_view",
             "--forbids", "footage_view"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "Added: welfare" in result.output
        with factory() as db:
            reason = access.get_reason(db, "welfare")
            assert reason is not None and reason.forbids == [access.AccessKind.FOOTAGE_VIEW]
            assert [e.actor_username for e in events(db, "access:reason:created", target_id="welfare")] == [
                "system"
            ]

    def test_permitting_and_forbidding_the_same_kind_exits_1_and_adds_nothing(
        self, runner: CliRunner, factory: sessionmaker[Session]
    ) -> None:
        result = runner.invoke(
            app,
            [
                "reasons",
                "add",
                "muddle",
                "--label",
                "Muddle",
                "--permits",
                "live_view",
                "--forbids",
                "live_view",
            ],
        )
        assert result.exit_code == 1
        assert "cannot both permit and forbid live view" in str(result.exception)
        with factory() as db:
            assert access.get_reason(db, "muddle") is None


class TestReasonsDeactivate:
    def test_a_deactivated_reason_leaves_the_list_but_not_the_full_list(self, runner: CliRunner) -> None:
        result = runner.invoke(app, ["reasons", "deactivate", "investigation"])
        assert result.exit_code == 0, result.output
        assert "Deactivated investigation." in result.output
        listed = runner.invoke(app, ["reasons", "list"]).output.splitlines()
        assert not any(x.startswith("investigation ") for x in listed)
        everything = runner.invoke(app, ["reasons", "list", "--all"]).output
        assert any(
            x.startswith("investigation ") and x.endswith("(deactivated)") for x in everything.splitlines()
        )

    def test_an_unknown_code_is_refused(self, runner: CliRunner) -> None:
        result = runner.invoke(app, ["reasons", "deactivate", "nope"])
        assert result.exit_code == 1
        assert "No such reason code." in str(result.exception)


def test_the_command_prints_a_refusal_as_one_sentence(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        monkeypatch,
        "reasons",
        "add",
        "mixed",
        "--label",
        "Mixed",
        "--permits",
        "live_view",
        "--forbids",
        "live_view",
    )
    assert code == 1
    assert capsys.readouterr().err == "Error: forbids: a reason cannot both permit and forbid live view\n"
