from __future__ import annotations

import base64
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


@pytest.mark.usefixtures("usual_umask")
class TestStorageMasterKey:
    def test_made_once_into_the_data_dir_privately_and_reused(self, tmp_path: Path) -> None:
        first = Settings(data_dir=tmp_path / "var").resolved_storage_master_key

        assert len(first) == 32
        assert _mode(tmp_path / "var" / "storage_master_key") == 0o600
        assert Settings(data_dir=tmp_path / "var").resolved_storage_master_key == first
        assert Settings(data_dir=tmp_path / "other").resolved_storage_master_key != first

    def test_from_the_environment_as_hex_or_base64(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = bytes(range(32))
        monkeypatch.setenv("OPENBWV_DATA_DIR", str(tmp_path / "var"))
        for written in (key.hex(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()):
            monkeypatch.setenv("OPENBWV_STORAGE_MASTER_KEY", written)
            assert load_settings().resolved_storage_master_key == key
        assert not (tmp_path / "var" / "storage_master_key").exists()

    @pytest.mark.parametrize("written", ["not a key", "00" * 31, base64.b64encode(bytes(16)).decode()])
    def test_a_bad_key_in_the_environment_is_refused_in_a_sentence(
        self, monkeypatch: pytest.MonkeyPatch, written: str
    ) -> None:
        monkeypatch.setenv("OPENBWV_STORAGE_MASTER_KEY", written)

        with pytest.raises(ConfigError) as refused:
            load_settings()

        assert str(refused.value) == (
            "OPENBWV_STORAGE_MASTER_KEY is invalid: must be 32 random bytes written as 64 hex digits or as base64."
        )

    def test_a_damaged_key_file_is_refused_in_a_sentence(self, tmp_path: Path) -> None:
        (tmp_path / "storage_master_key").write_text("short")

        with pytest.raises(
            ConfigError, match=r"storage master key in .* is damaged: it must be 32 random bytes"
        ):
            _ = Settings(data_dir=tmp_path).resolved_storage_master_key

    def test_the_key_is_not_shown_with_the_settings(self) -> None:
        key = bytes(range(32)).hex()

        assert key not in repr(Settings(storage_master_key=key))


class TestMapTileUrl:
    @pytest.mark.parametrize(
        ("url", "source"),
        [
            ("", None),
            ("/tiles/{z}/{x}/{y}.png", None),
            ("https://tiles.force.example/{z}/{x}/{y}.png", "https://tiles.force.example"),
            ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ],
    )
    def test_the_images_it_needs_the_security_policy_to_allow(self, url: str, source: str | None) -> None:
        assert Settings(map_tile_url=url).map_tile_source == source

    @pytest.mark.parametrize(
        "value", ["tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/map.png"]
    )
    def test_a_url_that_names_no_tiles_stops_start_up(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        monkeypatch.setenv("OPENBWV_MAP_TILE_URL", value)
        with pytest.raises(ConfigError, match="OPENBWV_MAP_TILE_URL"):
            load_settings()


class TestMediaMTXApiUrl:
    def test_it_is_read_from_the_environment_and_empty_by_default(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("OPENBWV_MEDIAMTX_API_URL", raising=False)
        assert load_settings().mediamtx_api_url == ""
        monkeypatch.setenv("OPENBWV_MEDIAMTX_API_URL", "http://mediamtx.internal:9997")
        assert load_settings().mediamtx_api_url == "http://mediamtx.internal:9997"

    @pytest.mark.parametrize(
        ("value", "saying"),
        [
            ("mediamtx.internal:9997", "http(s) address of MediaMTX's API"),
            ("ftp://mediamtx.internal", "http(s) address of MediaMTX's API"),
            ("http://:9997", "http(s) address of MediaMTX's API"),
            ("http://mediamtx.internal:api", "http(s) address of MediaMTX's API"),
            ("http://mediamtx.internal:9997/?token=x", "without a query or fragment"),
        ],
    )
    def test_a_bad_address_stops_start_up_in_a_sentence(
        self, monkeypatch: pytest.MonkeyPatch, value: str, saying: str
    ) -> None:
        monkeypatch.setenv("OPENBWV_MEDIAMTX_API_URL", value)
        with pytest.raises(ConfigError, match="OPENBWV_MEDIAMTX_API_URL is invalid") as refused:
            load_settings()
        assert saying in str(refused.value)


class TestTimeZone:
    def test_the_force_is_in_london_unless_told_otherwise(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OPENBWV_TIME_ZONE", raising=False)
        assert load_settings().zone.key == "Europe/London"
        monkeypatch.setenv("OPENBWV_TIME_ZONE", "Europe/Dublin")
        assert load_settings().zone.key == "Europe/Dublin"

    @pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "", "../etc/passwd"])
    def test_an_unknown_zone_stops_start_up_naming_it(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        monkeypatch.setenv("OPENBWV_TIME_ZONE", value)
        with pytest.raises(ConfigError, match="OPENBWV_TIME_ZONE is invalid") as refused:
            load_settings()
        assert f"{value!r} is not a known time zone" in str(refused.value)
