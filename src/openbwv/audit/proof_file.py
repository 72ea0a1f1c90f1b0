"""Offline proofs that an event is in the log: C2SP tlog-proof@v1 files.

A proof file is the ``c2sp.org/tlog-proof@v1`` header line, an optional ``extra <base64>`` line, an
``index <n>`` line, the base64 inclusion proof hashes one per line (leaf end first), an empty line,
then the signed checkpoint verbatim. openbwv puts the event's canonical leaf bytes in ``extra``, so
the file alone lets a court or a complainant read the event and check it against the log's public
key, years later and without the system. Like the rest of the verifier side, this module never
imports the tree builder: the proof is checked with ``verify.verify_inclusion``.
"""

from __future__ import annotations

import base64
import binascii
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


def parse_proof(text: str) -> TlogProof:
    """Parse a proof file's text; the checkpoint is not checked here."""
    head, separator, checkpoint = text.partition("\n\n")
    if not separator or not checkpoint:
        raise ProofFileError("no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ProofFileError(f"the first line must be {HEADER}")
    lines.pop(0)
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = _unb64(lines.pop(0).removeprefix("extra "), "extra data")
    match = _INDEX.fullmatch(lines.pop(0)) if lines else None
    if match is None:
        raise ProofFileError("missing or malformed index line")
    hashes = tuple(_unb64(line, "proof hash") for line in lines)
    if any(len(digest) != verify.HASH_SIZE for digest in hashes):
        raise ProofFileError("a proof hash is not 32 bytes long")
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


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProofFileError(f"malformed base64 {what}") from None
