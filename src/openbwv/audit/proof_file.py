"""Offline proofs that an event is in the log: C2SP tlog-proof@v1 files.

A proof file is the ``c2sp.org/tlog-proof@v1`` header line, an optional ``extra <base64>`` line, an
``index <n>`` line, the base64 inclusion proof hashes one per line (leaf end first), an empty line,
then the signed checkpoint verbatim. Files are read as bytes: lines end in a line feed alone, and
base64 is decoded exactly as the Go ``note`` and ``tlog`` packages decode it. openbwv puts the
event's canonical leaf bytes in ``extra``, so the file alone lets a court or a complainant read the
event and check it against the log's public key, years later and without the system. Like the rest
of the verifier side, this module never imports the tree builder: the proof is checked with
``verify.verify_inclusion``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from openbwv.audit import note, verify

HEADER = "c2sp.org/tlog-proof@v1"
SUFFIX = ".tlog-proof"
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


class ProofFileError(ValueError):
    """A proof file is malformed or does not prove what it claims."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    """The signed checkpoint note, verbatim."""
    extra: bytes | None = None


@dataclass(frozen=True)
class CheckedProof:
    checkpoint: note.Checkpoint
    leaf: bytes
    """The leaf bytes now proven to be at ``index`` in the checkpoint's tree."""
    index: int


def format_proof(proof: TlogProof) -> str:
    lines = [HEADER]
    if proof.extra is not None:
        lines.append(f"extra {_b64(proof.extra)}")
    lines.append(f"index {proof.index}")
    lines.extend(_b64(digest) for digest in proof.hashes)
    return "\n".join(lines) + "\n\n" + proof.checkpoint


def parse_proof(data: bytes) -> TlogProof:
    """Parse a proof file's bytes; the checkpoint is not checked here.

    Give the bytes as they are: lines end in a line feed alone, so a carriage return anywhere is
    refused, which reading the file as text would hide by turning CRLF into LF. Base64 is read as
    the Go ``note`` and ``tlog`` packages read it (``note.decode_base64``).
    """
    text = _utf8_without_cr(data)
    head, separator, checkpoint = text.partition("\n\n")
    if not separator or not checkpoint:
        raise ProofFileError("there is no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofFileError(f"line 1 is not {HEADER}: this is not a tlog-proof file")
    number = 2
    extra = None
    if len(lines) > 1 and lines[1].startswith("extra "):
        extra = note.decode_base64(lines[1].removeprefix("extra "))
        if extra is None:
            raise ProofFileError("the extra data on line 2 is not standard padded base64")
        number = 3
    match = _INDEX.fullmatch(lines[number - 1]) if len(lines) >= number else None
    if match is None:
        raise ProofFileError(
            f"line {number} is not the index line: 'index', a space and a decimal without leading zeros"
        )
    hashes = tuple(
        _proof_hash(line, line_number) for line_number, line in enumerate(lines[number:], number + 1)
    )
    return TlogProof(index=int(match.group(1)), hashes=hashes, checkpoint=checkpoint, extra=extra)


def check_proof(
    proof: TlogProof, *, verifier: note.Verifier, origin: str | None = None, leaf: bytes | None = None
) -> CheckedProof:
    """Check the checkpoint's signature (and origin, if given) and that ``leaf`` (default: the extra
    data) is at the proof's index in that tree. Raises ``ProofFileError`` or a ``note.NoteError``."""
    body = note.parse_checkpoint(note.open_note(proof.checkpoint, [verifier]).text)
    if origin is not None and body.origin != origin:
        raise ProofFileError(f"the checkpoint is from log {body.origin!r}, not {origin!r}")
    data = leaf if leaf is not None else proof.extra
    if data is None:
        raise ProofFileError("the file carries no entry: give the entry's bytes")
    if not verify.verify_inclusion(
        verify.leaf_hash(data), proof.index, body.tree_size, proof.hashes, body.root_hash
    ):
        raise ProofFileError(
            f"the entry is not at index {proof.index} of the tree of {body.tree_size} leaves"
        )
    return CheckedProof(checkpoint=body, leaf=data, index=proof.index)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _utf8_without_cr(data: bytes) -> str:
    carriage_return = data.find(b"\r")
    if carriage_return >= 0:
        raise ProofFileError(
            f"line {_line_at(data, carriage_return)} contains a carriage return: "
            "lines must end in a line feed alone"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProofFileError(f"line {_line_at(data, exc.start)} is not valid UTF-8") from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _proof_hash(line: str, number: int) -> bytes:
    digest = note.decode_base64(line)
    if digest is None:
        raise ProofFileError(f"the proof hash on line {number} is not standard padded base64")
    if len(digest) != verify.HASH_SIZE:
        raise ProofFileError(f"the proof hash on line {number} is {len(digest)} bytes long, not 32")
    return digest
