"""The test machine's MQTT broker: where it is, whether it answers, and the mark that skips a test
without it outside CI (under CI a missing broker fails the run: ``require_broker``)."""

from __future__ import annotations

import os
import socket

import pytest

from openbwv.live.broker import parse_broker_url
from tests.conftest import IN_CI

MQTT_URL = os.environ.get("OPENBWV_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
BROKER = parse_broker_url(MQTT_URL)


def _broker_problem() -> str | None:
    try:
        socket.create_connection((BROKER.host, BROKER.port), timeout=3).close()
    except OSError as exc:
        return str(exc)
    return None


BROKER_PROBLEM = _broker_problem()
NEEDS_MOSQUITTO = pytest.mark.skipif(
    bool(BROKER_PROBLEM) and not IN_CI, reason=f"MQTT broker at {MQTT_URL} not reachable: {BROKER_PROBLEM}"
)


def require_broker() -> None:
    """Fail the test when the broker does not answer (reached only under CI, where it must)."""
    if BROKER_PROBLEM:
        pytest.fail(f"the MQTT broker at {MQTT_URL} is required under CI: {BROKER_PROBLEM}")
