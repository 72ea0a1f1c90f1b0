"""Mutation testing of the rule modules: run mutmut, then print the score table and write it into
docs/TESTING.md.

    python tools/mutation.py            # run every mutant, then report
    python tools/mutation.py --report   # report on the last run in mutants/ only
    python tools/mutation.py openbwv.auth.service   # run one module's mutants, then report

What is mutated and which tests run lives in pyproject.toml, ``[tool.mutmut]``: the SQLite half of the
tests that cover the rule modules, browser and slow tests left out. mutmut runs, for each mutant,
only the tests that reach the function it changed, so a new module costs only its own tests.

The score is killed / (mutants - listed equivalents): a mutant no test reaches counts against it,
as does a survivor, unless it is in ``EQUIVALENT`` below with the reason it changes no behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "TESTING.md"
BEGIN = "<!-- mutation table: written by tools/mutation.py -->"
END = "<!-- end of mutation table -->"
TARGET = 0.90

# Modules reported together, as the issue that started this measured them.
GROUPS: dict[str, list[str]] = {
    "policy/rules.py + policy/records.py": ["src/openbwv/policy/rules.py", "src/openbwv/policy/records.py"],
    "fleet/issues.py": ["src/openbwv/fleet/issues.py"],
    "fleet/authority.py": ["src/openbwv/fleet/authority.py"],
    "fleet/training/service.py": ["src/openbwv/fleet/training/service.py"],
    "auth/service.py": ["src/openbwv/auth/service.py"],
    "audit/merkle.py + audit/verify.py": ["src/openbwv/audit/merkle.py", "src/openbwv/audit/verify.py"],
}

# Survivors that change no behaviour a user, a caller or the audit log could notice, with why.
# Named as mutmut names them (``mutmut show NAME``); a change to the function renumbers its mutants.
_SQLITE_LIKE = (
    "SQLite's LIKE ignores ASCII case, so upper() and lower() match alike; PostgreSQL's LIKE does not, "
    "and TestListUsers's search for ' LEE ' fails there"
)
EQUIVALENT: dict[str, str] = {
    "openbwv.auth.service.x_issue_token__mutmut_4": "token_urlsafe(None) draws its default, the same 32 bytes",
    "openbwv.auth.service.x_resolve_token__mutmut_5": "a join with no ON clause infers the same one from the "
    "single foreign key",
    "openbwv.auth.service.x_resolve_token__mutmut_7": "a join with no ON clause infers the same one from the "
    "single foreign key",
    "openbwv.auth.service.x__refusal__mutmut_7": "int(s // 60) == int(s / 60) for any non-negative s",
    "openbwv.auth.service.x_sign_in__mutmut_149": "int(s // 60) == int(s / 60) for any non-negative s",
    "openbwv.auth.service.x__refusal__mutmut_36": "with no failures from the address the name's count from it "
    "is 0 too, and a count of 0 never waits",
    "openbwv.auth.service.x_sign_in__mutmut_83": "the account was read active a moment before; only one disabled "
    "between the password check and the token's transaction differs (a race no test can stage)",
    "openbwv.auth.service.x_sign_in__mutmut_126": "after a failure only an account lockout is acted on, and the "
    "account count reads no address",
    "openbwv.auth.service.x_list_users__mutmut_4": _SQLITE_LIKE,
    "openbwv.auth.service.x_list_users__mutmut_10": _SQLITE_LIKE,
    "openbwv.auth.service.x_list_users__mutmut_13": _SQLITE_LIKE,
}

KILLED = {1, 3, 24, -24, 152, 255, 36, 37}  # a failing test, a timeout, or a type check
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Row:
    name: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    equivalent: int = 0
    other: int = 0

    @property
    def score(self) -> float:
        counted = self.mutants - self.equivalent
        return self.killed / counted if counted else 1.0


def _configured_files() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def _meta(path: str) -> dict[str, int | None]:
    meta_path = ROOT / "mutants" / (path + ".meta")
    if not meta_path.exists():
        return {}
    exit_codes: dict[str, int | None] = json.loads(meta_path.read_text())["exit_code_by_key"]
    return exit_codes


def collect() -> tuple[list[Row], dict[str, list[str]]]:
    """The table's rows, and the unexplained survivors (and unreached mutants) of each group."""
    configured = set(_configured_files())
    missing = configured - {p for paths in GROUPS.values() for p in paths}
    if missing:
        raise SystemExit(f"add {sorted(missing)} to GROUPS in tools/mutation.py")
    rows: list[Row] = []
    left: dict[str, list[str]] = {}
    for name, paths in GROUPS.items():
        row = Row(name)
        for path in paths:
            for mutant, code in _meta(path).items():
                row.mutants += 1
                if mutant in EQUIVALENT and code not in KILLED:
                    row.equivalent += 1
                elif code in KILLED:
                    row.killed += 1
                elif code in SURVIVED:
                    row.survived += 1
                    left.setdefault(name, []).append(mutant)
                elif code in NO_TESTS:
                    row.no_tests += 1
                    left.setdefault(name, []).append(mutant)
                else:
                    row.other += 1
        rows.append(row)
    return rows, left


def table(rows: list[Row]) -> str:
    lines = [
        "| module | mutants | killed | survived | no test reaches | equivalent | not run | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.mutants} | {r.killed} | {r.survived} | {r.no_tests} | {r.equivalent} "
            f"| {r.other} | {r.score:.0%} |"
        )
    return "\n".join(lines)


def equivalents() -> str:
    if not EQUIVALENT:
        return "No survivor is listed as equivalent."
    return "\n".join(f"- `{name}`: {why}" for name, why in sorted(EQUIVALENT.items()))


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else ""
    if BEGIN in doc and END in doc:
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        doc = f"{head}{BEGIN}\n{text}\n{END}{tail}"
    else:
        doc = f"{doc}\n{BEGIN}\n{text}\n{END}\n"
    DOC.write_text(doc)


def run_mutmut(names: list[str]) -> None:
    patterns = [n if n.endswith("*") else f"{n}*" for n in names]
    children = os.environ.get("MUTATION_CHILDREN", str(os.cpu_count() or 1))
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", children, *patterns]
    # mutmut's own exit status says nothing about the score; the table does.
    subprocess.run(command, cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="dotted module names whose mutants to run (default: all)")
    parser.add_argument("--report", action="store_true", help="only report on the last run")
    args = parser.parse_args()
    if not args.report:
        run_mutmut(args.modules)
    rows, left = collect()
    text = table(rows)
    print(text)
    for name, mutants in left.items():
        print(f"\n{name}: {len(mutants)} not killed (`mutmut show NAME` shows one)")
        print("  " + "\n  ".join(sorted(mutants)))
    write_doc(f"{text}\n\nEquivalent survivors:\n\n{equivalents()}")
    below = [r.name for r in rows if r.mutants and r.score < TARGET]
    if below:
        print(f"\nbelow {TARGET:.0%}: {', '.join(below)}")


if __name__ == "__main__":
    main()
