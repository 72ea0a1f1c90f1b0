"""Where footage bytes live: one interface over local disk and S3-compatible object storage."""

from openbwv.storage.check import StorageReport, check_objects
from openbwv.storage.sealing import SealedObjectError
from openbwv.storage.store import ObjectStore, StoredObject, open_store, store_of

__all__ = [
    "ObjectStore",
    "SealedObjectError",
    "StorageReport",
    "StoredObject",
    "check_objects",
    "open_store",
    "store_of",
]
