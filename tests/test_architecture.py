"""The shape of the package: which parts of openbwv may import which."""

from __future__ import annotations

import ast
from pathlib import Path

import openbwv

PACKAGE_ROOT = Path(openbwv.__file__).resolve().parent


def _part_of(module: str) -> str:
    """The top-level part of openbwv a module belongs to (``openbwv.fleet.api`` -> ``fleet``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "openbwv"


def import_graph() -> dict[str, set[str]]:
    """For each top-level part of openbwv, the other parts it imports, lazily or not."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
        source = _part_of(".".join(relative.parts))
        imported: list[str] = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if node.module == "openbwv":
                    imported += [f"openbwv.{alias.name}" for alias in node.names]
                else:
                    imported.append(node.module)
        targets = {_part_of(name) for name in imported if name.startswith("openbwv.")}
        graph.setdefault(source, set()).update(targets - {source})
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every part that can reach itself, with one path that shows how."""
    found = []
    for start in sorted(graph):
        paths = [[start]]
        seen = set()
        while paths:
            path = paths.pop()
            for nxt in sorted(graph.get(path[-1], ())):
                if nxt == start:
                    found.append([*path, start])
                    paths = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    paths.append([*path, nxt])
    return found


def test_audit_does_not_import_auth() -> None:
    graph = import_graph()
    assert "policy" in graph["audit"]
    assert "auth" not in graph["audit"]


def test_no_part_of_openbwv_imports_itself_back_through_another() -> None:
    assert cycles(import_graph()) == []


def test_policy_sits_below_the_packages_that_know_callers() -> None:
    assert import_graph()["policy"] <= {"config", "csrf", "db", "errors", "clock"}


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c", "a"],
        ["b", "c", "a", "b"],
        ["c", "a", "b", "c"],
    ]
