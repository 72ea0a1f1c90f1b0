"""Signed notes and checkpoints, checked against published Go sumdb/note and sum.golang.org data."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openbwv.audit import note
from openbwv.audit.note import (
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    InvalidSignatureError,
    KeyFormatError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteSignature,
    UnverifiedNoteError,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "signed_notes.json").read_text(encoding="utf-8")
)
GO = VECTORS["go_test_keys"]
SUMDB = VECTORS["sum_golang_org"]
C2SP = VECTORS["c2sp_example"]
TEXT: str = GO["text"]
PETER_NOTE = TEXT + "\n" + GO["peter_signature_line"]


@dataclass(frozen=True)
class StubVerifier:
    """A Verifier with a fixed answer, to show open_note relies only on the protocol."""

    name: str
    key_id: int
    answer: bool

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self.answer


def peter() -> Ed25519Verifier:
    return Ed25519Verifier.from_vkey(GO["peter_vkey"])


def enoch() -> Ed25519Verifier:
    return Ed25519Verifier.from_vkey(GO["enoch_vkey"])


class TestKeyIdFor:
    def test_matches_published_key_ids(self) -> None:
        peter_key = base64.b64decode(GO["peter_vkey"].split("+")[2])[1:]
        sumdb_key = base64.b64decode(SUMDB["vkey"].split("+", 2)[2])[1:]
        assert note.key_id_for("PeterNeumann", note.ED25519, peter_key) == 0xC74F20A3
        assert note.key_id_for("sum.golang.org", note.ED25519, sumdb_key) == 0x033DE0AE

    def test_depends_on_name_and_signature_type(self) -> None:
        key = bytes(range(32))
        assert (
            len({note.key_id_for("a", 1, key), note.key_id_for("b", 1, key), note.key_id_for("a", 4, key)})
            == 3
        )


class TestIsValidKeyName:
    @pytest.mark.parametrize("name", ["PeterNeumann", "sum.golang.org", "example.com/log-42", "Señor"])
    def test_accepts(self, name: str) -> None:
        assert note.is_valid_key_name(name)

    @pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u2003b", "a\x01b"])
    def test_rejects(self, name: str) -> None:
        assert not note.is_valid_key_name(name)


class TestEd25519Verifier:
    def test_parses_and_reencodes_published_keys(self) -> None:
        for vkey in [GO["peter_vkey"], GO["enoch_vkey"], SUMDB["vkey"], C2SP["vkey"]]:
            assert Ed25519Verifier.from_vkey(vkey).vkey() == vkey

    def test_exposes_name_and_key_id(self) -> None:
        verifier = peter()
        assert (verifier.name, verifier.key_id) == ("PeterNeumann", 0xC74F20A3)

    def test_rejects_every_truncation(self) -> None:
        vkey: str = GO["peter_vkey"]
        for start in range(len(vkey)):
            for end in range(start + 1, len(vkey) + 1):
                if (start, end) != (0, len(vkey)):
                    with pytest.raises(KeyFormatError):
                        Ed25519Verifier.from_vkey(vkey[start:end])

    def test_rejects_every_single_character_change(self) -> None:
        vkey: str = GO["peter_vkey"]
        for position in range(len(vkey)):
            changed = vkey[:position] + chr(ord(vkey[position]) + 1) + vkey[position + 1 :]
            with pytest.raises(KeyFormatError):
                Ed25519Verifier.from_vkey(changed)

    @pytest.mark.parametrize("description", GO["mangled_vkeys"])
    def test_rejects_published_bad_keys(self, description: str) -> None:
        with pytest.raises(KeyFormatError):
            Ed25519Verifier.from_vkey(GO["mangled_vkeys"][description])

    def test_rejects_key_id_that_does_not_match_the_key(self) -> None:
        name, _, key = SUMDB["vkey"].split("+", 2)
        with pytest.raises(KeyFormatError, match="033de0af"):
            Ed25519Verifier.from_vkey(f"{name}+033de0af+{key}")

    def test_rejects_uppercase_key_id(self) -> None:
        with pytest.raises(KeyFormatError):
            Ed25519Verifier.from_vkey(GO["peter_vkey"].replace("c74f20a3", "C74F20A3"))

    def test_verify_checks_message_and_signature(self) -> None:
        signature = base64.b64decode(GO["peter_signature_line"].split()[-1])[4:]
        verifier = peter()
        assert verifier.verify(TEXT.encode(), signature)
        assert not verifier.verify(TEXT.encode() + b"!", signature)
        assert not verifier.verify(TEXT.encode(), signature[:-1] + bytes([signature[-1] ^ 1]))
        assert not verifier.verify(TEXT.encode(), signature[:63])


class TestEd25519Signer:
    def test_published_signer_key_matches_its_verifier_key(self) -> None:
        signer = Ed25519Signer.from_skey(GO["peter_skey"])
        assert signer.verifier().vkey() == GO["peter_vkey"]
        assert signer.skey() == GO["peter_skey"]
        assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)

    def test_rejects_every_truncation_and_single_character_change(self) -> None:
        skey: str = GO["peter_skey"]
        candidates = [
            skey[start:end] for start in range(len(skey)) for end in range(start + 1, len(skey) + 1)
        ]
        candidates += [skey[:i] + chr(ord(skey[i]) + 1) + skey[i + 1 :] for i in range(len(skey))]
        for candidate in candidates:
            if candidate != skey:
                with pytest.raises(KeyFormatError):
                    Ed25519Signer.from_skey(candidate)

    def test_generated_key_round_trips_and_signs_verifiably(self) -> None:
        signer = Ed25519Signer.generate("openbwv.example/audit")
        again = Ed25519Signer.from_skey(signer.skey())
        assert again.verifier() == signer.verifier()
        assert signer.verifier().verify(b"hi", again.sign(b"hi"))
        assert not signer.verifier().verify(b"ho", again.sign(b"hi"))

    def test_repr_does_not_reveal_the_private_key(self) -> None:
        signer = Ed25519Signer.from_skey(GO["peter_skey"])
        encoded_seed = GO["peter_skey"].rsplit("+", 1)[1]
        assert "PeterNeumann" in repr(signer)
        assert encoded_seed not in repr(signer)
        assert encoded_seed[:12] not in repr(signer)

    @pytest.mark.parametrize(("name", "seed"), [("bad name", bytes(32)), ("ok", bytes(31))])
    def test_rejects_bad_name_or_seed(self, name: str, seed: bytes) -> None:
        with pytest.raises(KeyFormatError):
            Ed25519Signer(name, seed)


class TestNoteSignature:
    def test_line_matches_published_encoding(self) -> None:
        raw = base64.b64decode(GO["peter_signature_line"].split()[-1])
        assert NoteSignature("PeterNeumann", 0xC74F20A3, raw[4:]).line() == GO["peter_signature_line"]


class TestSignNote:
    def test_reproduces_the_published_signed_note(self) -> None:
        assert note.sign_note(TEXT, Ed25519Signer.from_skey(GO["peter_skey"])) == PETER_NOTE

    def test_several_signers_sign_in_order(self) -> None:
        other = Ed25519Signer.generate("witness.example/w1")
        signed = note.sign_note(TEXT, Ed25519Signer.from_skey(GO["peter_skey"]), other)
        assert signed.startswith(PETER_NOTE)
        opened = note.open_note(signed, [peter(), other.verifier()])
        assert [s.name for s in opened.signatures] == ["PeterNeumann", "witness.example/w1"]

    def test_text_with_blank_lines_round_trips(self) -> None:
        signer = Ed25519Signer.generate("log.example")
        text = "first\n\n\u2014 not a signature AAAA\n\n"
        assert note.open_note(note.sign_note(text, signer), [signer.verifier()]).text == text

    @pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "carriage\r\n", "surrogate \ud800\n"])
    def test_rejects_malformed_text(self, text: str) -> None:
        with pytest.raises(MalformedNoteError):
            note.sign_note(text, Ed25519Signer.from_skey(GO["peter_skey"]))

    def test_needs_a_signer(self) -> None:
        with pytest.raises(ValueError, match="signer"):
            note.sign_note(TEXT)

    def test_rejects_the_same_key_twice(self) -> None:
        signer = Ed25519Signer.from_skey(GO["peter_skey"])
        with pytest.raises(ValueError, match="twice"):
            note.sign_note(TEXT, signer, signer)


class TestOpenNote:
    def test_published_note_verifies(self) -> None:
        opened = note.open_note(PETER_NOTE, [peter()])
        assert opened.text == TEXT
        assert [(s.name, s.key_id) for s in opened.signatures] == [("PeterNeumann", 0xC74F20A3)]

    def test_accepts_bytes(self) -> None:
        assert note.open_note(PETER_NOTE.encode(), [peter()]).text == TEXT

    def test_c2sp_spec_example_verifies(self) -> None:
        assert note.open_note(C2SP["note"], [Ed25519Verifier.from_vkey(C2SP["vkey"])]).text == C2SP["text"]

    def test_tampered_text_is_rejected(self) -> None:
        with pytest.raises(InvalidSignatureError, match="PeterNeumann"):
            note.open_note(PETER_NOTE.replace("cryptography", "blockchain"), [peter()])

    def test_tampered_signature_is_rejected(self) -> None:
        line: str = GO["peter_signature_line"]
        tampered = line[:60] + ("A" if line[60] != "A" else "B") + line[61:]
        with pytest.raises(InvalidSignatureError):
            note.open_note(TEXT + "\n" + tampered, [peter()])

    def test_signature_by_another_key_with_the_same_name_is_ignored(self) -> None:
        impostor = Ed25519Signer("PeterNeumann", bytes(32))
        signed = note.sign_note(TEXT, impostor)
        with pytest.raises(UnverifiedNoteError):
            note.open_note(signed, [peter()])

    def test_unknown_signatures_are_ignored_when_a_known_one_verifies(self) -> None:
        signed = PETER_NOTE + GO["enoch_signature_line"]
        assert [s.name for s in note.open_note(signed, [peter()]).signatures] == ["PeterNeumann"]
        assert [s.name for s in note.open_note(signed, [enoch()]).signatures] == ["EnochRoot"]
        both = note.open_note(signed, [enoch(), peter()])
        assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]

    def test_note_with_only_unknown_signatures_is_rejected(self) -> None:
        with pytest.raises(UnverifiedNoteError):
            note.open_note(PETER_NOTE + GO["enoch_signature_line"], [])
        with pytest.raises(UnverifiedNoteError):
            note.open_note(PETER_NOTE, [Ed25519Verifier.from_vkey(SUMDB["vkey"])])

    def test_bad_signature_from_a_known_key_rejects_the_note_even_beside_a_good_one(self) -> None:
        enoch_line: str = GO["enoch_signature_line"]
        bad_enoch = enoch_line[:60] + ("A" if enoch_line[60] != "A" else "B") + enoch_line[61:]
        with pytest.raises(InvalidSignatureError, match="EnochRoot"):
            note.open_note(PETER_NOTE + bad_enoch, [peter(), enoch()])
        assert note.open_note(PETER_NOTE + bad_enoch, [peter()]).text == TEXT

    def test_repeated_signatures_count_once(self) -> None:
        signed = PETER_NOTE + GO["peter_signature_line"]
        assert len(note.open_note(signed, [peter()]).signatures) == 1

    def test_signature_count_is_limited(self) -> None:
        assert note.open_note(TEXT + "\n" + GO["peter_signature_line"] * 100, [peter()]).text == TEXT
        with pytest.raises(MalformedNoteError):
            note.open_note(TEXT + "\n" + GO["peter_signature_line"] * 101, [peter()])

    @pytest.mark.parametrize(
        "malformed",
        [
            TEXT,
            TEXT + "\n",
            PETER_NOTE[:-1],
            "\x01" + PETER_NOTE,
            PETER_NOTE.replace("PeterNeumann", "Peter Neumann"),
            PETER_NOTE + "Unexpected line.\n",
            PETER_NOTE.replace("\u2014 ", "- "),
            PETER_NOTE.replace("\u2014 ", "\u2014"),
            PETER_NOTE.replace("x08go", "x08g*"),
            PETER_NOTE.replace("AM=\n", "AM\n"),
            TEXT + "\n\u2014 PeterNeumann x08g\n",
        ],
    )
    def test_rejects_malformed_notes(self, malformed: str) -> None:
        with pytest.raises(MalformedNoteError):
            note.open_note(malformed, [peter()])

    def test_rejects_invalid_utf8(self) -> None:
        with pytest.raises(MalformedNoteError):
            note.open_note(b"\xff" + PETER_NOTE.encode(), [peter()])

    def test_rejects_conflicting_verifiers_for_one_key(self) -> None:
        with pytest.raises(ValueError, match="two different verifiers"):
            note.open_note(PETER_NOTE, [peter(), StubVerifier("PeterNeumann", 0xC74F20A3, answer=True)])

    def test_any_verifier_implementation_is_consulted(self) -> None:
        with pytest.raises(InvalidSignatureError):
            note.open_note(PETER_NOTE, [StubVerifier("PeterNeumann", 0xC74F20A3, answer=False)])
        assert (
            note.open_note(PETER_NOTE, [StubVerifier("PeterNeumann", 0xC74F20A3, answer=True)]).text == TEXT
        )

    @pytest.mark.parametrize("published", SUMDB["checkpoints"], ids=lambda c: str(c["tree_size"]))
    def test_real_sum_golang_org_checkpoints_verify(self, published: dict[str, Any]) -> None:
        sumdb = Ed25519Verifier.from_vkey(SUMDB["vkey"])
        opened = note.open_note(published["note"], [sumdb])
        assert [s.name for s in opened.signatures] == ["sum.golang.org"]
        checkpoint = note.parse_checkpoint(opened.text)
        assert checkpoint.origin == "go.sum database tree"
        assert checkpoint.tree_size == published["tree_size"]
        assert checkpoint.root_hash == base64.b64decode(published["root_hash"])

    def test_real_checkpoint_with_a_changed_size_is_rejected(self) -> None:
        published = SUMDB["checkpoints"][0]
        forged = published["note"].replace(str(published["tree_size"]), str(published["tree_size"] + 1), 1)
        with pytest.raises(InvalidSignatureError):
            note.open_note(forged, [Ed25519Verifier.from_vkey(SUMDB["vkey"])])


class TestFormatCheckpoint:
    def test_exact_layout(self) -> None:
        body = note.format_checkpoint("openbwv.example/audit", 8, bytes(range(32)), ["ext one", "ext two"])
        assert body == (
            "openbwv.example/audit\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\next two\n"
        )

    def test_reproduces_a_real_checkpoint_body(self) -> None:
        published = SUMDB["checkpoints"][2]
        body = note.format_checkpoint(
            "go.sum database tree", published["tree_size"], base64.b64decode(published["root_hash"])
        )
        assert published["note"].startswith(body + "\n\u2014 sum.golang.org ")

    def test_signed_checkpoint_round_trips(self) -> None:
        signer = Ed25519Signer.generate("openbwv.example/audit")
        body = note.format_checkpoint("openbwv.example/audit", 0, bytes(32))
        opened = note.open_note(note.sign_note(body, signer), [signer.verifier()])
        assert note.parse_checkpoint(opened.text) == Checkpoint("openbwv.example/audit", 0, bytes(32))

    @pytest.mark.parametrize(
        ("origin", "size", "root", "extensions"),
        [
            ("", 1, bytes(32), ()),
            ("two\nlines", 1, bytes(32), ()),
            ("origin", -1, bytes(32), ()),
            ("origin", 2**64, bytes(32), ()),
            ("origin", 1, bytes(31), ()),
            ("origin", 1, bytes(32), ("",)),
            ("origin", 1, bytes(32), ("a\nb",)),
        ],
    )
    def test_rejects_invalid_fields(
        self, origin: str, size: int, root: bytes, extensions: tuple[str, ...]
    ) -> None:
        with pytest.raises(MalformedCheckpointError):
            note.format_checkpoint(origin, size, root, extensions)


class TestParseCheckpoint:
    ROOT = "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="

    def test_parses_extension_lines(self) -> None:
        checkpoint = note.parse_checkpoint(f"log.example\n5\n{self.ROOT}\nfirst\nsecond\n")
        assert checkpoint == Checkpoint("log.example", 5, base64.b64decode(self.ROOT), ("first", "second"))

    def test_round_trips_with_format(self) -> None:
        checkpoint = Checkpoint("log.example/x", 123456789, bytes(range(32)), ("extra",))
        body = note.format_checkpoint(
            checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, checkpoint.extension_lines
        )
        assert note.parse_checkpoint(body) == checkpoint

    @pytest.mark.parametrize(
        "body",
        [
            f"log.example\n5\n{ROOT}",
            "log.example\n5\n",
            f"\n5\n{ROOT}\n",
            f"log.example\n05\n{ROOT}\n",
            f"log.example\n+5\n{ROOT}\n",
            f"log.example\n 5\n{ROOT}\n",
            f"log.example\n5_0\n{ROOT}\n",
            f"log.example\n\u0665\n{ROOT}\n",
            f"log.example\n-1\n{ROOT}\n",
            f"log.example\n18446744073709551616\n{ROOT}\n",
            f"log.example\n5\n{ROOT[:-2]}\n",
            f"log.example\n5\n{ROOT.replace('=', '')}\n",
            "log.example\n5\nAAAA\n",
            f"log.example\n5\n{ROOT}\n\n",
            f"log.example\n5\n{ROOT}\next\n\nmore\n",
            f"log.example\n5\n{ROOT}\r\n",
        ],
    )
    def test_rejects_malformed_bodies(self, body: str) -> None:
        with pytest.raises(MalformedCheckpointError):
            note.parse_checkpoint(body)

    def test_accepts_largest_uint64_size(self) -> None:
        assert (
            note.parse_checkpoint(f"log.example\n18446744073709551615\n{self.ROOT}\n").tree_size == 2**64 - 1
        )
