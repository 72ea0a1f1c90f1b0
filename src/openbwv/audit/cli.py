"""``openbwv audit``: keep the log current, save checkpoints for witnesses, verify, and export proofs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings, load_settings
from openbwv.db import make_engine, make_session_factory
from openbwv.migrate import upgraded_settings
from openbwv.policy import SYSTEM

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _database() -> tuple[Settings, sessionmaker[Session]]:
    settings = upgraded_settings()
    return settings, make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )


@audit_app.command("sequence")
def sequence_command() -> None:
    """Add queued events to the log and sign a checkpoint if it grew (what the periodic job does)."""
    from openbwv.audit import log

    settings, factory = _database()
    added = log.sequence(factory)
    checkpoint = log.publish_checkpoint(factory, settings)
    signed = f"; signed checkpoint {checkpoint.tree_size}" if checkpoint else "; no new checkpoint"
    typer.echo(f"Added {added} leaves{signed}.")


@audit_app.command("checkpoint")
def checkpoint_command(
    tree_size: Annotated[
        int | None, typer.Option(help="A past checkpoint's size; default the latest.")
    ] = None,
) -> None:
    """Print a signed checkpoint as JSON, e.g. ``openbwv audit checkpoint > saved.json`` for a witness."""
    from openbwv.audit import log, proofs
    from openbwv.audit.api import checkpoint_out

    settings, factory = _database()
    if tree_size is None:
        log.sequence_and_checkpoint(factory, settings)
    with factory() as db:
        checkpoint = proofs.get_checkpoint(db, tree_size)
        typer.echo(checkpoint_out(checkpoint, settings).model_dump_json(indent=2))


@audit_app.command("verify")
def verify_command(
    against: Annotated[
        Path | None,
        typer.Option(help="A checkpoint saved earlier (JSON or signed note): the log must still extend it."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The verifier key to trust; default the saved file's, else this system's."),
    ] = None,
) -> None:
    """Recompute the log from its events and check every checkpoint; exit 1 naming the first bad leaf."""
    from openbwv.audit import note
    from openbwv.audit.verification import SavedCheckpoint, SavedCheckpointError, run_verification

    settings, factory = _database()
    try:
        saved = SavedCheckpoint.from_text(against.read_text(encoding="utf-8")) if against else None
        trusted = key or (saved.verifier_key if saved else None)
        verifier = note.Ed25519Verifier.from_vkey(trusted) if trusted else None
    except (OSError, SavedCheckpointError, note.NoteError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = run_verification(factory, settings, actor=SYSTEM, against=saved, verifier=verifier)
    typer.echo(report.summary())
    for problem in report.problems[1:]:
        typer.echo(f"  also: {problem}")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("proof")
def proof_command(
    leaf_index: Annotated[int, typer.Argument(help="The leaf to prove.", min=0)],
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    tree_size: Annotated[
        int | None, typer.Option(help="Prove into this signed tree; default the latest.")
    ] = None,
) -> None:
    """Write a C2SP tlog-proof@v1 file: the entry, its inclusion proof and the signed checkpoint."""
    from openbwv.audit import evidence

    _, factory = _database()
    with factory() as db:
        size, text = evidence.tlog_proof(db, leaf_index=leaf_index, tree_size=tree_size)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote the proof of leaf {leaf_index} in the tree of {size} leaves to {out}.")


@audit_app.command("check-proof")
def check_proof_command(
    file: Annotated[Path, typer.Argument(help="A .tlog-proof file.")],
    key: Annotated[
        str | None, typer.Option(help="The log's verifier key; default this system's, if run where it is.")
    ] = None,
    leaf_file: Annotated[
        Path | None, typer.Option(help="The entry's bytes, if the proof file does not carry them.")
    ] = None,
) -> None:
    """Check a proof file offline: the checkpoint's signature and the entry's inclusion."""
    from openbwv.audit import note, proof_file
    from openbwv.audit.verification import system_verifier

    verifier = note.Ed25519Verifier.from_vkey(key) if key else system_verifier(load_settings())
    try:
        data, leaf = file.read_bytes(), leaf_file.read_bytes() if leaf_file else None
    except OSError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        checked = proof_file.check_proof(proof_file.parse_proof(data), verifier=verifier, leaf=leaf)
    except (proof_file.ProofFileError, note.NoteError) as exc:
        typer.echo(f"FAILED: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        entry = json.dumps(json.loads(checked.leaf), indent=2, ensure_ascii=False)
    except ValueError:
        entry = checked.leaf.hex()
    typer.echo(entry)
    typer.echo(
        f"OK: this entry is leaf {checked.index} of the log {checked.checkpoint.origin} in its signed tree "
        f"of {checked.checkpoint.tree_size} leaves."
    )
