"""Proof files are read as bytes, line by line, as C2SP and the Go ``note`` and ``tlog`` packages read them.

The base64 answers below are what Go's ``base64.StdEncoding.DecodeString`` (not ``Strict``), which
golang.org/x/mod/sumdb uses for signatures, hashes and keys, returns for the same text.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from openbwv.audit import note, proof_file
from openbwv.audit.proof_file import CheckedProof, ProofFileError
from tests.audit.helpers import (
    PROOF_LEAVES,
    PROOF_SIGNER,
    proof_file_bytes,
    proof_line,
    with_proof_line,
    with_unused_bits_set,
)

WRONG_PADDING: list[Callable[[str], str]] = [
    lambda text: text + "=",
    lambda text: text.rstrip("="),
    lambda text: text + "AAAA",
]


def check(data: bytes) -> CheckedProof:
    return proof_file.check_proof(proof_file.parse_proof(data), verifier=PROOF_SIGNER.verifier())


def test_a_proof_file_made_here_checks() -> None:
    checked = check(proof_file_bytes())
    assert (checked.leaf, checked.index, checked.checkpoint.tree_size) == (PROOF_LEAVES[2], 2, 5)


class TestLineEnds:
    def test_crlf_line_ends_are_refused(self) -> None:
        with pytest.raises(ProofFileError, match=r"^line 1 contains a carriage return"):
            check(proof_file_bytes().replace(b"\n", b"\r\n"))

    @pytest.mark.parametrize(
        "number", [2, 3, 5, 8, 12], ids=["extra", "index", "hash", "origin", "signature"]
    )
    def test_a_carriage_return_on_any_line_is_refused_naming_the_line(self, number: int) -> None:
        data = proof_file_bytes()
        with pytest.raises(ProofFileError, match=rf"^line {number} contains a carriage return"):
            check(with_proof_line(data, number, proof_line(data, number) + "\r"))

    @pytest.mark.parametrize("number", [2, 8])
    def test_bytes_that_are_not_utf8_are_refused_naming_the_line(self, number: int) -> None:
        data = proof_file_bytes()
        lines = data.split(b"\n")
        lines[number - 1] += b"\xe9"
        with pytest.raises(ProofFileError, match=rf"^line {number} is not valid UTF-8"):
            check(b"\n".join(lines))

    def test_a_missing_final_newline_is_refused(self) -> None:
        with pytest.raises(note.MalformedNoteError, match="does not end with a newline"):
            check(proof_file_bytes()[:-1])


class TestBase64AsGoReadsIt:
    @pytest.mark.parametrize(
        ("text", "decoded"),
        [
            ("", b""),
            ("AA==", b"\x00"),
            ("AB==", b"\x00"),
            ("AAB=", b"\x00\x00"),
            ("QUJD", b"ABC"),
            ("AAAA=", None),
            ("AAAA==", None),
            ("AA=", None),
            ("AB", None),
            ("A===", None),
            ("AA==AA==", None),
            ("AA=A", None),
            ("=", None),
            (" AAAA", None),
            ("AAAA ", None),
            ("QU\rJD", None),
        ],
    )
    def test_decode_base64_answers_as_go_does(self, text: str, decoded: bytes | None) -> None:
        assert note.decode_base64(text) == decoded

    @pytest.mark.parametrize("padding", ["=", "==", "===="])
    def test_padding_after_the_extra_data_is_refused(self, padding: str) -> None:
        data = proof_file_bytes()
        assert not proof_line(data, 2).endswith("=")
        with pytest.raises(ProofFileError, match=r"^the extra data on line 2 is not standard padded base64"):
            check(with_proof_line(data, 2, proof_line(data, 2) + padding))

    @pytest.mark.parametrize("change", WRONG_PADDING, ids=["one more", "none", "data after"])
    def test_a_proof_hash_with_wrong_padding_is_refused(self, change: Callable[[str], str]) -> None:
        data = proof_file_bytes()
        with pytest.raises(ProofFileError, match=r"^the proof hash on line 5 is not standard padded base64"):
            check(with_proof_line(data, 5, change(proof_line(data, 5))))

    @pytest.mark.parametrize("change", WRONG_PADDING, ids=["one more", "none", "data after"])
    def test_a_signature_with_wrong_padding_is_refused(self, change: Callable[[str], str]) -> None:
        data = proof_file_bytes()
        name, signature = proof_line(data, 12).rsplit(" ", 1)
        with pytest.raises(note.MalformedNoteError, match="malformed signature line"):
            check(with_proof_line(data, 12, f"{name} {change(signature)}"))

    def test_unused_bits_in_the_extra_data_are_ignored(self) -> None:
        leaves = tuple(leaf + b" " for leaf in PROOF_LEAVES)
        data = proof_file_bytes(leaves)
        odd = with_proof_line(data, 2, "extra " + with_unused_bits_set(proof_line(data, 2)[6:]))
        assert check(odd).leaf == leaves[2]

    @pytest.mark.parametrize("number", [4, 5, 6])
    def test_unused_bits_in_a_proof_hash_are_ignored(self, number: int) -> None:
        data = proof_file_bytes()
        assert check(with_proof_line(data, number, with_unused_bits_set(proof_line(data, number)))).index == 2

    def test_unused_bits_in_a_signature_are_ignored(self) -> None:
        data = proof_file_bytes()
        name, signature = proof_line(data, 12).rsplit(" ", 1)
        assert check(with_proof_line(data, 12, f"{name} {with_unused_bits_set(signature)}")).index == 2

    def test_unused_bits_in_the_signed_root_hash_are_ignored(self) -> None:
        root = proof_line(proof_file_bytes(), 10)
        data = proof_file_bytes(root_line=with_unused_bits_set(root))
        assert proof_line(data, 10) != root
        assert check(data).checkpoint.root_hash == check(proof_file_bytes()).checkpoint.root_hash
