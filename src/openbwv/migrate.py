"""Bringing the schema up to date with Alembic, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from openbwv.config import Settings, load_settings, make_private_dir
from openbwv.db import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def is_model_table(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate compares only the tables the models declare; pgqueuer's own tables are its business."""
    return type_ != "table" or name in Base.metadata.tables


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def make_private_database(path: Path) -> None:
    """The SQLite file readable by this user only; SQLite gives its -wal and -shm files the same mode."""
    make_private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration not yet applied; safe to run at every start."""
    if url.startswith("sqlite:///"):
        make_private_database(Path(url.removeprefix("sqlite:///")))
    command.upgrade(alembic_config(url), revision)


def upgraded_settings() -> Settings:
    """Settings from the environment, with the database brought up to date: how every command starts."""
    settings = load_settings()
    upgrade(settings.resolved_database_url)
    return settings
