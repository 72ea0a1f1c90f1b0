"""Signed notes (C2SP signed-note@v1.0.0) and log checkpoints (C2SP tlog-checkpoint@v1.0.0).

A signed note is a text ending in a newline, a blank line, then one or more lines
``— <key name> <base64(4-byte key ID || signature)>``. The audit log publishes its tree heads
as checkpoints (origin, tree size, base64 root hash) signed this way with Ed25519, so that
standard tlog tooling and witnesses can check them.

Key strings use the Go ``golang.org/x/mod/sumdb/note`` encodings:

* verifier key: ``<name>+<hex key ID>+<base64(0x01 || 32-byte public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
"""Signature type byte of Ed25519 note signatures."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected (the spec requires accepting at least 16)."""

_SIGNATURE_PREFIX = "\N{EM DASH} "
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class NoteError(ValueError):
    """Base class of the errors below."""


class KeyFormatError(NoteError):
    """A verifier or signer key string is malformed or its key ID does not match its key."""


class MalformedNoteError(NoteError):
    """The text is not a well-formed signed note."""


class UnverifiedNoteError(NoteError):
    """No signature on the note is from a known key."""


class InvalidSignatureError(NoteError):
    """A signature from a known key does not verify."""


class MalformedCheckpointError(NoteError):
    """A checkpoint body is not well formed."""


class Verifier(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class Signer(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


def key_id_for(name: str, signature_type: int, public_key: bytes) -> int:
    """Key ID: the first four bytes, big-endian, of SHA-256(name || 0x0A || type || public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and have no Unicode spaces, no ``+`` and no control characters."""
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


@dataclass(frozen=True)
class Ed25519Verifier:
    """Checks Ed25519 note signatures made by the key ``name`` with ``public_key``."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise KeyFormatError(f"invalid key name {self.name!r}")
        if len(self.public_key) != 32:
            raise KeyFormatError(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id_for(self.name, ED25519, self.public_key))
        try:
            public_key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise KeyFormatError("invalid Ed25519 public key") from None
        object.__setattr__(self, "_key", public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        name, _, rest = vkey.partition("+")
        hex_id, _, encoded = rest.partition("+")
        raw = decode_base64(encoded)
        if not _HEX_KEY_ID.fullmatch(hex_id) or raw is None or len(raw) != 33 or raw[0] != ED25519:
            raise KeyFormatError("malformed Ed25519 verifier key")
        verifier = cls(name, raw[1:])
        if verifier.key_id != int(hex_id, 16):
            raise KeyFormatError(f"verifier key for {name!r} has key ID {hex_id}, not {verifier.key_id:08x}")
        return verifier

    def vkey(self) -> str:
        """The verifier key string, to publish and to give to verifiers."""
        return f"{self.name}+{self.key_id:08x}+{_b64encode(bytes([ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519Signer:
    """Signs notes with an Ed25519 key named ``name``. The repr never shows the private key."""

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise KeyFormatError(f"an Ed25519 seed has 32 bytes, not {len(seed)}")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._verifier = Ed25519Verifier(name, self._private.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise KeyFormatError("malformed Ed25519 signer key")
        name, hex_id, encoded = parts[2:]
        raw = decode_base64(encoded)
        if not _HEX_KEY_ID.fullmatch(hex_id) or raw is None or len(raw) != 33 or raw[0] != ED25519:
            raise KeyFormatError("malformed Ed25519 signer key")
        signer = cls(name, raw[1:])
        if signer.key_id != int(hex_id, 16):
            raise KeyFormatError(f"signer key for {name!r} has key ID {hex_id}, not {signer.key_id:08x}")
        return signer

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    def skey(self) -> str:
        """The secret signer key string, for storing the key; never log or publish it."""
        seed = self._private.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64encode(bytes([ED25519]) + seed)}"

    def verifier(self) -> Ed25519Verifier:
        return self._verifier

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer({self.name!r}, key_id={self.key_id:08x})"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the algorithm's signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        encoded = _b64encode(self.key_id.to_bytes(4, "big") + self.signature)
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


class OpenedNote(NamedTuple):
    text: str
    """The signed text, ending in a newline; trust it only because ``open_note`` returned."""
    signatures: tuple[NoteSignature, ...]
    """The verified signatures, one per known key, in note order."""


def sign_note(text: str, *signers: Signer) -> str:
    """Sign ``text`` (which must end in a newline) with each signer, in order, into a note."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_note_characters(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    if len({(s.name, s.key_id) for s in signers}) != len(signers):
        raise ValueError("the same key is given twice")
    message = text.encode()
    lines = []
    for signer in signers:
        if not is_valid_key_name(signer.name):
            raise ValueError(f"invalid key name {signer.name!r}")
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)).line())
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and check its signatures against the known ``verifiers``.

    Signatures whose (key name, key ID) is not a known verifier are ignored, as the spec
    requires. Raises ``MalformedNoteError`` for syntax errors, ``InvalidSignatureError`` if any
    signature from a known key fails, and ``UnverifiedNoteError`` if none is from a known key.
    """
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        other = known.setdefault((verifier.name, verifier.key_id), verifier)
        if other != verifier:
            raise ValueError(f"two different verifiers for key {verifier.name}+{verifier.key_id:08x}")
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
    _check_note_characters(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("signature block is empty or does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has more than {MAX_SIGNATURES} signatures")
    message = text.encode()
    verified: dict[tuple[str, int], NoteSignature] = {}
    for line in lines:
        signature = _parse_signature_line(line)
        key = (signature.name, signature.key_id)
        checker = known.get(key)
        if checker is None:
            continue
        if not checker.verify(message, signature.signature):
            raise InvalidSignatureError(f"invalid signature for key {signature.name}+{signature.key_id:08x}")
        verified.setdefault(key, signature)
    if not verified:
        raise UnverifiedNoteError("note has no signature from a known key")
    return OpenedNote(text, tuple(verified.values()))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extension_lines: tuple[str, ...] = ()


def format_checkpoint(
    origin: str, tree_size: int, root_hash: bytes, extension_lines: Iterable[str] = ()
) -> str:
    """The checkpoint note text (the part that is signed)."""
    extensions = tuple(extension_lines)
    _check_checkpoint_line("origin", origin)
    for line in extensions:
        _check_checkpoint_line("extension line", line)
    if not 0 <= tree_size < 2**64:
        raise MalformedCheckpointError(f"tree size {tree_size} is out of range")
    if len(root_hash) != 32:
        raise MalformedCheckpointError(f"root hash has {len(root_hash)} bytes, not 32")
    lines = [origin, str(tree_size), _b64encode(root_hash), *extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse checkpoint note text, e.g. ``open_note(...).text``; the caller checks the origin."""
    if not body.endswith("\n"):
        raise MalformedCheckpointError("checkpoint must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    _check_checkpoint_line("origin", origin)
    for line in extensions:
        _check_checkpoint_line("extension line", line)
    if not _TREE_SIZE.fullmatch(size_text) or int(size_text) >= 2**64:
        raise MalformedCheckpointError(f"invalid tree size {size_text!r}")
    root_hash = decode_base64(root_text)
    if root_hash is None or len(root_hash) != 32:
        raise MalformedCheckpointError(f"invalid root hash {root_text!r}")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def _check_checkpoint_line(what: str, line: str) -> None:
    if not line:
        raise MalformedCheckpointError(f"{what} is empty")
    if any(c < " " for c in line):
        raise MalformedCheckpointError(f"{what} {line!r} contains a control character")


def _check_note_characters(text: str) -> None:
    """Notes are UTF-8 with no control characters other than newline."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise MalformedNoteError("note is not valid Unicode text") from None
    if any(c < " " and c != "\n" for c in text):
        raise MalformedNoteError("note contains a control character other than newline")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedNoteError(f"signature line does not start with an em dash and a space: {line!r}")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    raw = decode_base64(encoded)
    if not is_valid_key_name(name) or raw is None or len(raw) < 5:
        raise MalformedNoteError(f"malformed signature line {line!r}")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str) -> bytes | None:
    """Standard padded base64 (RFC 4648 §4) read as Go's ``note`` and ``tlog`` packages read it, or None.

    They decode with Go's ``base64.StdEncoding``, which is not ``Strict``: the padding must be
    exact and nothing may follow it (Python's decoder lets ``AAAA==`` through), but the unused low
    bits of the last character are ignored (``AB==`` reads as ``AA==``). Go also skips CR and LF
    inside the text; here they are refused, as a CR has no place in a note or a proof file.
    """
    if not _BASE64.fullmatch(text):
        return None
    return base64.b64decode(text)
