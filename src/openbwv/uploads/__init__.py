"""Uploads: footage files sent resumably (tus 1.0.0) by docks, stored part by part and handed, once
complete, to footage ingest as a ``footage.ingest`` job naming the parts in order."""

from openbwv.uploads.service import INGEST_TASK

__all__ = ["INGEST_TASK"]
