"""Domain declarations: a domain's one declaration is all the app, the worker and the CLI read."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv.app import all_jobs, create_app
from openbwv.audit import jobs as audit_jobs
from openbwv.audit.misuse import list_alerts
from openbwv.cli import build_cli
from openbwv.config import Settings
from openbwv.domains import DeclarationClash, Domain, discover, installed_domains, navigation_of
from openbwv.jobs import JobRegistry
from openbwv.policy import Permission, Role
from openbwv.web.render import NavItem
from tests import example_domain
from tests.builders import headers_for

EXAMPLE = example_domain.DOMAIN
HTML = {"Accept": "text/html"}


@pytest.fixture
def example_client(settings: Settings, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings, factory, jobs=JobRegistry(), domains=[*installed_domains(), EXAMPLE])
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def _navigation(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert nav is not None
    return re.findall(r'<a href="([^"]+)"', nav.group(1))


class TestInstalledDomains:
    def test_finds_every_domain_package(self) -> None:
        names = [domain.name for domain in installed_domains()]
        assert names == [
            "access",
            "audit",
            "auth",
            "axis",
            "dashboard",
            "democam",
            "dock",
            "fleet",
            "footage",
            "live",
            "notifications",
            "people",
            "taser",
            "uploads",
        ]

    def test_navigation_keeps_its_order_across_domains(self) -> None:
        labels = [item.label for item in navigation_of(installed_domains())]
        assert labels == [
            "Home",
            "Officers",
            "Users",
            "My kit",
            "Fleet",
            "Issue and return",
            "Roll-out",
            "Taser authority",
            "Training",
            "Library",
            "My footage",
            "Untagged in team",
            "Evidence queue",
            "Arrivals",
            "Live map",
            "Taser reports",
            "Taser figures",
            "Taser exceptions",
            "Audit",
            "Alerts",
            "My access",
            "Reasons for access",
        ]

    def test_the_installed_app_does_not_serve_the_test_domain(
        self, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.ADMIN)
        assert client.get("/example", headers={**headers, **HTML}).status_code == 404


class TestDiscover:
    @pytest.fixture
    def package(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
        name = f"plugins_{uuid.uuid4().hex[:8]}"
        root = tmp_path / name
        root.mkdir()
        (root / "__init__.py").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path))
        return root, name

    def _subpackage(self, root: Path, name: str, declaration: str | None) -> None:
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        if declaration is not None:
            (root / name / "domain.py").write_text(declaration)

    def test_a_subpackage_with_a_declaration_module_is_a_domain(self, package: tuple[Path, str]) -> None:
        root, name = package
        self._subpackage(root, "zulu", "from openbwv.domains import Domain\nDOMAIN = Domain(name='zulu')\n")
        self._subpackage(root, "alpha", "from openbwv.domains import Domain\nDOMAIN = Domain(name='alpha')\n")
        self._subpackage(root, "helpers", None)
        (root / "loose.py").write_text("DOMAIN = None\n")
        found = discover(__import__(name))
        assert [domain.name for domain in found] == ["alpha", "zulu"]

    def test_a_declaration_module_without_a_domain_is_refused(self, package: tuple[Path, str]) -> None:
        root, name = package
        self._subpackage(root, "broken", "DOMAIN = 'broken'\n")
        with pytest.raises(TypeError, match=r"\.broken\.domain must define DOMAIN"):
            discover(__import__(name))


class TestADomainFromItsDeclarationAlone:
    def test_its_route_answers_a_caller_with_its_permission(
        self, example_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = {**headers_for(factory, Role.PROFESSIONAL_STANDARDS), **HTML}
        response = example_client.get("/example", headers=headers)
        assert response.status_code == 200
        assert "Example page" in response.text

    def test_its_route_refuses_a_caller_without_its_permission(
        self, example_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        assert (
            example_client.get("/example", headers={**headers_for(factory, Role.AUDITOR), **HTML}).status_code
            == 403
        )
        anonymous = example_client.get("/example", headers=HTML, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=/example"

    def test_its_navigation_entry_shows_to_a_user_with_its_permission_only(
        self, example_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        allowed = example_client.get(
            "/", headers={**headers_for(factory, Role.PROFESSIONAL_STANDARDS), **HTML}
        )
        # Placed by its order, between the audit log's alerts (110) and the caller's grants (120).
        assert _navigation(allowed.text)[-3:] == ["/audit/alerts", "/example", "/access/grants"]
        refused = example_client.get("/", headers={**headers_for(factory, Role.AUDITOR), **HTML})
        assert "/audit" in _navigation(refused.text)
        assert "/example" not in _navigation(refused.text)

    def test_its_jobs_join_every_other_domains(self, settings: Settings) -> None:
        jobs = all_jobs(settings, [*installed_domains(), EXAMPLE])
        assert example_domain.TASK in jobs.tasks
        assert example_domain.SCHEDULE in jobs.schedules
        assert audit_jobs.MISUSE_RULES in jobs.schedules
        assert example_domain.SCHEDULE not in all_jobs(settings).schedules

    def test_the_audit_misuse_job_runs_its_misuse_rule(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        jobs = all_jobs(settings, [*installed_domains(), EXAMPLE])
        jobs.schedules[audit_jobs.MISUSE_RULES].handler(factory)
        with factory() as db:
            alerts, _ = list_alerts(db, limit=10, offset=0)
        assert [alert.rule for alert in alerts] == [example_domain.RULE]

    def test_its_command_joins_the_cli(self) -> None:
        result = CliRunner().invoke(build_cli([*installed_domains(), EXAMPLE]), ["example", "hello"])
        assert result.exit_code == 0, result.output
        assert result.output == "Hello from the example domain.\n"
        assert CliRunner().invoke(build_cli(), ["example", "hello"]).exit_code != 0


class TestDeclarationsThatClash:
    def test_two_domains_with_one_job_name_are_refused(self, settings: Settings) -> None:
        registry = JobRegistry()
        registry.schedule(example_domain.SCHEDULE, "0 5 * * *")(lambda factory: None)
        other = Domain(name="other", jobs=registry)
        with pytest.raises(
            DeclarationClash, match=r"schedule 'example\.tick' is declared by both example and other"
        ):
            all_jobs(settings, [EXAMPLE, other])

    def test_two_domains_with_one_command_name_are_refused(self) -> None:
        other = Domain(name="other", cli={"example": typer.Typer()})
        with pytest.raises(DeclarationClash, match="command 'example' is declared by both example and other"):
            build_cli([EXAMPLE, other])

    def test_a_domain_command_may_not_take_a_core_command_name(self) -> None:
        with pytest.raises(DeclarationClash, match="command 'db' is declared by both openbwv and other"):
            build_cli([Domain(name="other", cli={"db": typer.Typer()})])

    def test_two_domains_with_one_name_are_refused(self, settings: Settings) -> None:
        with pytest.raises(DeclarationClash, match="domain 'example' is declared twice by example"):
            create_app(settings, jobs=JobRegistry(), domains=[EXAMPLE, EXAMPLE])

    def test_two_navigation_entries_with_one_label_are_refused(self) -> None:
        other = Domain(
            name="other", navigation=(NavItem("Example", "/other", Permission.SELF_READ, order=1),)
        )
        with pytest.raises(
            DeclarationClash, match="navigation label 'Example' is declared by both example and other"
        ):
            navigation_of([EXAMPLE, other])
