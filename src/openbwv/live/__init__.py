"""Live operations: where every camera is and whether it records (telemetry in, over MQTT or HTTP),
the latest state per camera and the position history behind the control room's map, and
purpose-bound live view."""

from openbwv.live.telemetry import (
    REFUSAL_REASONS,
    CameraState,
    Reading,
    TelemetryRefused,
    cameras_near,
    get_camera_state,
    list_camera_states,
    parse_reading,
    position_history,
    prune_history,
    receive_readings,
)

__all__ = [
    "REFUSAL_REASONS",
    "CameraState",
    "Reading",
    "TelemetryRefused",
    "cameras_near",
    "get_camera_state",
    "list_camera_states",
    "parse_reading",
    "position_history",
    "prune_history",
    "receive_readings",
]
