"""``openbwv audit``: verification catches edits, deletions and truncation; proofs check offline."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from openbwv.audit import AuditAction, log, note, verification
from openbwv.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditTreeNode, AuditVerification
from openbwv.cli import main
from openbwv.config import Settings
from openbwv.db import transaction
from tests.audit.helpers import (
    PROOF_SIGNER,
    proof_file_bytes,
    proof_line,
    publish,
    record_events,
    stored_leaves,
    typed_leaf_hashes,
    with_proof_line,
    with_unused_bits_set,
)


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["openbwv", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, database_url: str) -> pytest.MonkeyPatch:
    """The CLI configured like the ``settings`` fixture: same database, same data directory (key)."""
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OPENBWV_DATABASE_URL", database_url)
    return monkeypatch


@pytest.fixture
def logged(factory: sessionmaker[Session], settings: Settings) -> list[int]:
    """Twelve events in the log under two checkpoints; their ids, in leaf order."""
    ids = record_events(factory, 5)
    publish(factory, settings)
    ids += record_events(factory, 7)
    publish(factory, settings)
    return ids


def verify_output(cli: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run_cli(cli, "audit", "verify", *args)
    return code, capsys.readouterr().out


def _verified_events(db: Session) -> list[tuple[object, ...]]:
    """Each ``audit:log:verified`` event: actor, actor id, target type and id, reason, details."""
    found = db.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_LOG_VERIFIED).order_by(AuditEvent.id)
    )
    return [
        (e.actor_username, e.actor_user_id, e.target_type, e.target_id, e.reason, e.details) for e in found
    ]


class TestVerify:
    def test_an_untouched_log_passes_and_the_outcome_is_stored(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        logged: list[int],
    ) -> None:
        code, out = verify_output(cli, capsys)
        assert code == 0, out
        assert out.startswith("OK: 12 leaves match their events and all 2 signed checkpoints hold")
        with factory() as db:
            run = db.scalars(select(AuditVerification)).one()
            assert run.ok and run.leaves_checked == 12 and run.run_by == "system"
            assert _verified_events(db) == [
                ("system", None, None, None, None, {"ok": True, "leaves": 12, "first_bad_leaf": None})
            ]

    def test_editing_an_event_row_names_its_leaf(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        logged: list[int],
    ) -> None:
        with transaction(factory) as db:
            db.execute(update(AuditEvent).where(AuditEvent.id == logged[6]).values(reason="Nothing to see"))
        code, out = verify_output(cli, capsys)
        assert code == 1
        assert f"leaf 6: event {logged[6]} no longer matches its leaf hash" in out
        assert "First bad leaf index: 6." in out
        with factory() as db:
            run = db.scalars(select(AuditVerification)).one()
            assert not run.ok and run.first_bad_leaf == 6
            # "leaves": those that still match, counted from the start (0 to 5).
            assert _verified_events(db) == [
                ("system", None, None, None, None, {"ok": False, "leaves": 6, "first_bad_leaf": 6})
            ]

    def test_editing_an_event_and_its_stored_hash_fails_on_the_signed_root(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        logged: list[int],
    ) -> None:
        with transaction(factory) as db:
            db.execute(
                text("UPDATE audit_event SET actor_username = 'nobody' WHERE id = :id"), {"id": logged[2]}
            )
        with factory() as db:
            (forged,) = typed_leaf_hashes(db, [logged[2]])
        with transaction(factory) as db:
            db.execute(update(AuditLeaf).where(AuditLeaf.leaf_index == 2).values(leaf_hash=forged))
        code, out = verify_output(cli, capsys)
        assert code == 1
        assert "checkpoint 5: its signed root does not match the leaves" in out
        assert "[0, 5)" in out

    @pytest.mark.parametrize("table", ["audit_leaf", "audit_event"])
    def test_deleting_a_leaf_or_its_event_names_the_index(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        logged: list[int],
        table: str,
    ) -> None:
        with transaction(factory) as db:
            if table == "audit_leaf":
                db.execute(delete(AuditLeaf).where(AuditLeaf.leaf_index == 9))
            else:
                db.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": logged[9]})
        code, out = verify_output(cli, capsys)
        assert code == 1
        assert "First bad leaf index: 9." in out

    def test_cutting_the_log_back_is_caught_by_a_checkpoint_saved_outside(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        settings: Settings,
        logged: list[int],
        tmp_path: Path,
    ) -> None:
        assert run_cli(cli, "audit", "checkpoint") == 0
        saved = tmp_path / "saved.json"
        saved.write_text(capsys.readouterr().out)
        size = json.loads(saved.read_text())["tree_size"]
        assert size >= 12
        self._truncate(factory, keep=5)
        code, out = verify_output(cli, capsys)
        assert code == 0, out
        code, out = verify_output(cli, capsys, "--against", str(saved))
        assert code == 1
        assert f"the log holds 5 leaves, fewer than the saved checkpoint's {size}: it was cut back" in out
        assert "First bad leaf index: 5." in out
        record_events(factory, size)
        publish(factory, settings)
        code, out = verify_output(cli, capsys, "--against", str(saved))
        assert code == 1
        assert f"the log is not consistent with the saved checkpoint of {size} leaves" in out

    def test_a_saved_checkpoint_the_log_extends_passes_as_json_or_note(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        settings: Settings,
        logged: list[int],
        tmp_path: Path,
    ) -> None:
        run_cli(cli, "audit", "checkpoint")
        saved = json.loads(capsys.readouterr().out)
        (tmp_path / "saved.json").write_text(json.dumps(saved))
        (tmp_path / "saved.note").write_text(saved["note"])
        record_events(factory, 3)
        publish(factory, settings)
        for name in ("saved.json", "saved.note"):
            code, out = verify_output(cli, capsys, "--against", str(tmp_path / name))
            assert code == 0, out

    def test_a_checkpoint_signed_by_another_key_fails(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: sessionmaker[Session],
        logged: list[int],
    ) -> None:
        other = note.Ed25519Signer.generate("openbwv.local/audit")
        with transaction(factory) as db:
            forged = note.sign_note("openbwv.local/audit\n12\n" + "A" * 43 + "=\n", other)
            db.execute(update(AuditCheckpoint).where(AuditCheckpoint.tree_size == 12).values(note=forged))
        code, out = verify_output(cli, capsys)
        assert code == 1
        assert "checkpoint 12: note has no signature from a known key" in out

    def test_an_unreadable_saved_checkpoint_is_a_usage_error(
        self, cli: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logged: list[int], tmp_path: Path
    ) -> None:
        (tmp_path / "bad.json").write_text("{}")
        assert run_cli(cli, "audit", "verify", "--against", str(tmp_path / "bad.json")) == 2
        assert "checkpoint JSON" in capsys.readouterr().err

    @staticmethod
    def _truncate(factory: sessionmaker[Session], *, keep: int) -> None:
        """What an administrator hiding the tail would do: leaves, their events, nodes and checkpoints."""
        with factory() as db:
            tail = [event_id for index, event_id, _ in stored_leaves(db) if index >= keep]
        with transaction(factory) as db:
            db.execute(delete(AuditLeaf).where(AuditLeaf.leaf_index >= keep))
            for level in range(1, 8):
                db.execute(
                    delete(AuditTreeNode).where(
                        AuditTreeNode.level == level, AuditTreeNode.idx >= keep >> level
                    )
                )
            db.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size > keep))
            db.execute(text("DELETE FROM audit_pending"))
            db.execute(delete(AuditEvent).where(AuditEvent.id.in_(tail)))
            db.execute(delete(AuditEvent).where(AuditEvent.id > max(tail)))


class TestProofFiles:
    def test_a_proof_written_for_a_leaf_checks_offline(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        settings: Settings,
        logged: list[int],
        tmp_path: Path,
    ) -> None:
        proof = tmp_path / "leaf3.tlog-proof"
        assert run_cli(cli, "audit", "proof", "3", "--out", str(proof)) == 0
        capsys.readouterr()
        lines = proof.read_text().split("\n")
        assert lines[0] == "c2sp.org/tlog-proof@v1"
        assert lines[1].startswith("extra ") and lines[2] == "index 3"
        assert "\n\nopenbwv.local/audit\n12\n" in proof.read_text()
        key = log.verifier_key(settings)
        cli.delenv("OPENBWV_DATABASE_URL")
        cli.setenv("OPENBWV_DATA_DIR", str(tmp_path / "elsewhere"))
        assert run_cli(cli, "audit", "check-proof", str(proof), "--key", key) == 0
        out = capsys.readouterr().out
        assert f'"id": {logged[3]}' in out and '"reason": "Correcting record 3"' in out
        assert (
            "OK: this entry is leaf 3 of the log openbwv.local/audit in its signed tree of 12 leaves." in out
        )

    def test_a_changed_entry_or_hash_fails(
        self,
        cli: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        settings: Settings,
        logged: list[int],
        tmp_path: Path,
    ) -> None:
        proof = tmp_path / "leaf0.tlog-proof"
        run_cli(cli, "audit", "proof", "0", "--out", str(proof))
        other = tmp_path / "other.json"
        other.write_bytes(b'{"id": 1}')
        assert run_cli(cli, "audit", "check-proof", str(proof), "--leaf-file", str(other)) == 1
        assert "the entry is not at index 0" in capsys.readouterr().err
        lines = proof.read_text().split("\n")
        lines[3] = "A" * 43 + "="
        proof.write_text("\n".join(lines))
        assert run_cli(cli, "audit", "check-proof", str(proof)) == 1

    def test_a_leaf_beyond_the_log_is_refused(
        self, cli: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], logged: list[int]
    ) -> None:
        assert run_cli(cli, "audit", "proof", "12") == 1
        assert "must be below the tree size 12" in capsys.readouterr().err


class TestCheckProofReadsBytes:
    """``check-proof`` with ``--key`` needs no database: these files are made in the test."""

    def check(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes
    ) -> tuple[int, str, str]:
        path = tmp_path / "entry.tlog-proof"
        path.write_bytes(data)
        key = PROOF_SIGNER.verifier().vkey()
        code = run_cli(monkeypatch, "audit", "check-proof", str(path), "--key", key)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def test_a_good_file_passes(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        code, out, _ = self.check(monkeypatch, capsys, tmp_path, proof_file_bytes())
        assert code == 0
        assert (
            "OK: this entry is leaf 2 of the log openbwv.example/audit in its signed tree of 5 leaves." in out
        )

    def test_crlf_line_ends_fail_naming_the_first_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        code, _, err = self.check(monkeypatch, capsys, tmp_path, proof_file_bytes().replace(b"\n", b"\r\n"))
        assert (code, err) == (
            1,
            "FAILED: line 1 contains a carriage return: lines must end in a line feed alone\n",
        )

    def test_one_crlf_after_a_proof_hash_fails_naming_its_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = proof_file_bytes()
        code, _, err = self.check(
            monkeypatch, capsys, tmp_path, with_proof_line(data, 5, proof_line(data, 5) + "\r")
        )
        assert (code, err) == (
            1,
            "FAILED: line 5 contains a carriage return: lines must end in a line feed alone\n",
        )

    def test_padding_after_the_extra_data_fails(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = proof_file_bytes()
        code, _, err = self.check(
            monkeypatch, capsys, tmp_path, with_proof_line(data, 2, proof_line(data, 2) + "==")
        )
        assert (code, err) == (1, "FAILED: the extra data on line 2 is not standard padded base64\n")

    def test_bytes_that_are_not_utf8_fail_naming_the_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = proof_file_bytes().replace(b"\n\nopenbwv.example/audit\n", b"\n\nopenbwv.example/\xe9\n")
        code, _, err = self.check(monkeypatch, capsys, tmp_path, data)
        assert (code, err) == (1, "FAILED: line 8 is not valid UTF-8\n")

    def test_unused_bits_in_the_signature_are_ignored_as_go_ignores_them(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = proof_file_bytes()
        name, signature = proof_line(data, 12).rsplit(" ", 1)
        odd = with_proof_line(data, 12, f"{name} {with_unused_bits_set(signature)}")
        assert self.check(monkeypatch, capsys, tmp_path, odd)[0] == 0

    def test_a_missing_file_fails_with_one_sentence(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        missing = tmp_path / "missing.tlog-proof"
        key = PROOF_SIGNER.verifier().vkey()
        assert run_cli(monkeypatch, "audit", "check-proof", str(missing), "--key", key) == 2
        err = capsys.readouterr().err
        assert err.startswith("Error: ") and "missing.tlog-proof" in err and err.count("\n") == 1


class TestKeyFile:
    def test_the_verifier_reads_the_file_the_log_writes(self, settings: Settings) -> None:
        key = log.verifier_key(settings)
        assert verification.KEY_FILE == log.KEY_FILE
        assert verification.system_verifier(settings).vkey() == key


class TestSequence:
    def test_adds_queued_events_and_signs(
        self, cli: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], factory: sessionmaker[Session]
    ) -> None:
        record_events(factory, 4)
        assert run_cli(cli, "audit", "sequence") == 0
        assert capsys.readouterr().out == "Added 4 leaves; signed checkpoint 4.\n"
        assert run_cli(cli, "audit", "sequence") == 0
        assert capsys.readouterr().out == "Added 0 leaves; no new checkpoint.\n"
