"""Where footage bytes live: one interface over local disk and S3-compatible object storage."""

from openbwv.storage.store import ObjectStore, StoredObject, open_store, store_of

__all__ = ["ObjectStore", "StoredObject", "open_store", "store_of"]
