"""``open_store``: the store the settings name, sealed under the master key."""

from __future__ import annotations

from pathlib import Path

import pytest

from openbwv.config import ConfigError, Settings
from openbwv.storage import open_store, store_of
from openbwv.storage.backends import LocalStore, S3Store
from openbwv.storage.sealing import SealedStore
from tests.storage.conftest import BUCKET, put, read


class TestOpenStore:
    def test_the_default_is_sealed_local_disk_in_the_data_dir(self, tmp_path: Path) -> None:
        store = open_store(Settings(data_dir=tmp_path))

        assert isinstance(store, SealedStore)
        assert isinstance(store.raw, LocalStore)
        assert store.raw.root == tmp_path / "storage"
        put(store, "clips/a", b"footage")
        assert (tmp_path / "storage" / "clips" / "a").read_bytes() != b"footage"
        assert read(open_store(Settings(data_dir=tmp_path)), "clips/a") == b"footage"

    @pytest.mark.usefixtures("s3_endpoint")
    def test_an_s3_url_names_the_bucket_and_prefix(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, storage_url=f"s3://{BUCKET}/open-store")
        store = open_store(settings)

        assert isinstance(store, SealedStore)
        assert isinstance(store.raw, S3Store)
        put(store, "clips/a", b"footage")
        assert read(S3Store(f"s3://{BUCKET}"), "open-store/clips/a") != b"footage"
        assert read(open_store(settings), "clips/a") == b"footage"

    def test_an_s3_url_without_a_bucket_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="OPENBWV_STORAGE_URL is invalid: an s3:// URL names a bucket"):
            open_store(Settings(data_dir=tmp_path, storage_url="s3:///prefix"))


class TestStoreOf:
    def test_opened_once_and_kept(self, tmp_path: Path) -> None:
        class State:
            settings = Settings(data_dir=tmp_path)

        state = State()

        assert store_of(state) is store_of(state)
