"""Live operations: where every camera is and whether it records (telemetry in, over MQTT or HTTP),
the latest state per camera and the position history behind the control room's map, and
purpose-bound live view. A camera's ``taser_armed`` message is handed to the taser domain as a job
(:data:`TASER_ARMED_TASK`), which asks :func:`latest_cameras_near` who to tell and sends through
:class:`CameraCommands`."""

from openbwv.live.commands import CameraCommands, camera_commands, command_topic
from openbwv.live.telemetry import (
    REFUSAL_REASONS,
    TASER_ARMED_TASK,
    CameraState,
    Reading,
    TelemetryRefused,
    cameras_near,
    get_camera_state,
    latest_cameras_near,
    list_camera_states,
    parse_reading,
    position_history,
    prune_history,
    receive_readings,
)

__all__ = [
    "REFUSAL_REASONS",
    "TASER_ARMED_TASK",
    "CameraCommands",
    "CameraState",
    "Reading",
    "TelemetryRefused",
    "camera_commands",
    "cameras_near",
    "command_topic",
    "get_camera_state",
    "latest_cameras_near",
    "list_camera_states",
    "parse_reading",
    "position_history",
    "prune_history",
    "receive_readings",
]
