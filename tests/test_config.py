from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from openbwv.audit import log
from openbwv.config import ConfigError, Settings, load_settings
from openbwv.db import make_engine
from openbwv.migrate import upgrade


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022, under which files are made world-readable unless the code says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
class TestDataDir:
    def test_the_data_dir_its_database_and_keys_are_private(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "var")
        upgrade(settings.resolved_database_url)
        engine = make_engine(settings.resolved_database_url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO unit (code, name, kind, created_at) VALUES ('U1', 'Response', 'x', '2024-01-01')"
                )
            )
            database = tmp_path / "var" / "openbwv.sqlite3"
            assert _mode(tmp_path / "var") == 0o700
            assert {p.name: _mode(p) for p in (tmp_path / "var").glob("openbwv.sqlite3*")} == {
                "openbwv.sqlite3": 0o600,
                "openbwv.sqlite3-wal": 0o600,
                "openbwv.sqlite3-shm": 0o600,
            }
        engine.dispose()
        assert settings.resolved_secret_key
        log.log_signer(settings)
        assert _mode(tmp_path / "var" / "secret_key") == 0o600
        assert _mode(tmp_path / "var" / log.KEY_FILE) == 0o600
        assert _mode(database) == 0o600

    def test_an_existing_database_file_is_made_private(self, tmp_path: Path) -> None:
        database = tmp_path / "openbwv.sqlite3"
        database.touch(mode=0o644)
        upgrade(f"sqlite:///{database}")
        assert _mode(database) == 0o600


class TestDatabasePoolSize:
    def test_it_is_read_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENBWV_DATABASE_POOL_SIZE", "5")
        assert load_settings().database_pool_size == 5

    @pytest.mark.parametrize("value", ["0", "201", "many"])
    def test_a_size_out_of_bounds_stops_start_up(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        monkeypatch.setenv("OPENBWV_DATABASE_POOL_SIZE", value)
        with pytest.raises(ConfigError, match="OPENBWV_DATABASE_POOL_SIZE"):
            load_settings()
