"""The demo's simulated body-worn cameras: short real clips recorded into the demo dock's folder,
for the dock agent to upload while ``openbwv demo`` runs."""

from openbwv.democam.recorder import CENTRES, DOCK_FOLDER, record_clip

__all__ = ["CENTRES", "DOCK_FOLDER", "record_clip"]
