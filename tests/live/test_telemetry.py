"""The one check every telemetry message passes, whichever transport brought it, and the batch store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.live import telemetry
from openbwv.live.models import PositionRecord
from tests.builders import make_device
from tests.live.helpers import MAX_AGE, encoded, payload


def _reason(raw: bytes | str) -> str:
    with pytest.raises(telemetry.TelemetryRefused) as refused:
        telemetry.parse_reading(raw, serial="CAM-1", now=clock.now(), max_age=MAX_AGE)
    return refused.value.reason


class TestParseReading:
    def test_a_valid_message_becomes_a_reading_in_utc(self) -> None:
        at = clock.now() - timedelta(seconds=3)
        raw = encoded(at=at, heading=270.5, event="recording_started", recording=True, extra="ignored")
        reading = telemetry.parse_reading(raw, serial="CAM-1", now=clock.now(), max_age=MAX_AGE)
        assert (reading.serial, reading.ts, reading.recording) == ("CAM-1", at, True)
        assert (reading.heading, reading.event, reading.battery_pct) == (270.5, "recording_started", 80.0)

    def test_a_time_in_another_zone_is_the_same_instant(self) -> None:
        local = (clock.now() - timedelta(seconds=1)).astimezone(telemetry.UTC).isoformat()
        shifted = local.replace("+00:00", "Z")
        reading = telemetry.parse_reading(encoded(ts=shifted), serial="C", now=clock.now(), max_age=MAX_AGE)
        assert reading.ts == clock.now() - timedelta(seconds=1)

    @pytest.mark.parametrize(
        "raw",
        [
            b"not json",
            b"[1, 2]",
            b"\xff\xfe",
            json.dumps(payload(lat="52.4")).encode(),
            json.dumps(payload(recording="yes")).encode(),
            json.dumps(payload(battery_pct=True)).encode(),
            json.dumps({k: v for k, v in payload().items() if k != "lon"}).encode(),
            json.dumps(payload(ts="yesterday")).encode(),
            json.dumps(payload(ts="2026-11-26T07:59:00")).encode(),
            json.dumps(payload(event="dancing")).encode(),
            b"{" * 5000,
        ],
        ids=[
            "not-json",
            "not-object",
            "not-utf8",
            "lat-string",
            "recording-string",
            "bool-number",
            "missing-lon",
            "bad-ts",
            "naive-ts",
            "unknown-event",
            "oversized",
        ],
    )
    def test_malformed(self, raw: bytes) -> None:
        assert _reason(raw) == "malformed"

    @pytest.mark.parametrize(
        "changes",
        [
            {"lat": 91},
            {"lon": -180.5},
            {"battery_pct": 101},
            {"storage_pct": -1},
            {"accuracy_m": -3},
            {"heading": 361},
        ],
    )
    def test_impossible(self, changes: dict[str, float]) -> None:
        assert _reason(encoded(**changes)) == "impossible"

    def test_nan_is_impossible(self) -> None:
        raw = encoded().replace(b'"lat": 52.4862', b'"lat": NaN')
        assert _reason(raw) == "impossible"

    def test_a_time_well_in_the_future_is_impossible(self) -> None:
        assert _reason(encoded(at=clock.now() + timedelta(minutes=5))) == "impossible"

    def test_a_small_clock_skew_is_accepted(self) -> None:
        raw = encoded(at=clock.now() + timedelta(seconds=20))
        assert telemetry.parse_reading(raw, serial="C", now=clock.now(), max_age=MAX_AGE)

    def test_older_than_the_max_age_is_stale(self) -> None:
        assert _reason(encoded(at=clock.now() - MAX_AGE - timedelta(seconds=1))) == "stale"


class TestReceiveReadings:
    def test_a_batch_keeps_the_newest_per_camera_and_every_accepted_position(self, db: Session) -> None:
        make_device(db, serial="CAM-A")
        make_device(db, serial="CAM-B")
        make_device(db, kind="dock", serial="DOCK-A")
        now = clock.now()
        messages: list[tuple[str, bytes | str]] = [
            ("CAM-A", encoded(at=now - timedelta(seconds=10))),
            ("cam-a", encoded(at=now - timedelta(seconds=5), recording=True)),
            ("CAM-A", encoded(at=now - timedelta(seconds=7))),
            ("CAM-B", encoded(at=now - timedelta(seconds=2), lat=52.5)),
            ("CAM-B", b"garbage"),
            ("NOPE", encoded()),
            ("DOCK-A", encoded()),
        ]
        outcome = telemetry.receive_readings(db, messages, max_age=MAX_AGE)
        assert [(r.serial, r.ts) for r in outcome.accepted] == [
            ("CAM-A", now - timedelta(seconds=10)),
            ("CAM-A", now - timedelta(seconds=5)),
            ("CAM-B", now - timedelta(seconds=2)),
        ]
        assert sorted((r.serial, r.reason) for r in outcome.refused) == [
            ("CAM-A", "out_of_order"),
            ("CAM-B", "malformed"),
            ("DOCK-A", "unknown_camera"),
            ("NOPE", "unknown_camera"),
        ]
        state = telemetry.get_camera_state(db, "CAM-A")
        assert state is not None and (state.ts, state.recording) == (now - timedelta(seconds=5), True)
        assert db.scalar(select(func.count()).select_from(PositionRecord)) == 3

    def test_a_message_not_newer_than_the_stored_state_is_out_of_order(self, db: Session) -> None:
        make_device(db, serial="CAM-C")
        now = clock.now()
        telemetry.receive_readings(db, [("CAM-C", encoded(at=now))], max_age=MAX_AGE)
        again = telemetry.receive_readings(
            db,
            [("CAM-C", encoded(at=now)), ("CAM-C", encoded(at=now - timedelta(seconds=1)))],
            max_age=MAX_AGE,
        )
        assert [r.reason for r in again.refused] == ["out_of_order", "out_of_order"]

    def test_a_racing_older_upsert_never_moves_the_camera_back(self, db: Session) -> None:
        make_device(db, serial="CAM-D")
        now = clock.now()
        telemetry.receive_readings(db, [("CAM-D", encoded(at=now, lat=53.0))], max_age=MAX_AGE)
        # As a second consumer would, having read the state before the first one wrote it.
        older = telemetry.parse_reading(
            encoded(at=now - timedelta(seconds=1), lat=51.0), serial="CAM-D", now=now, max_age=MAX_AGE
        )
        telemetry._upsert_states(db, [older], now)
        state = telemetry.get_camera_state(db, "CAM-D")
        assert state is not None and (state.ts, state.lat) == (now, 53.0)


class TestPruneHistory:
    def test_deletes_only_positions_past_retention(self, db: Session) -> None:
        make_device(db, serial="CAM-E")
        now = clock.now()
        telemetry.receive_readings(db, [("CAM-E", encoded(at=now - timedelta(seconds=60)))], max_age=MAX_AGE)
        telemetry.receive_readings(db, [("CAM-E", encoded(at=now))], max_age=MAX_AGE)
        later = now + timedelta(days=31) - timedelta(seconds=30)
        assert telemetry.prune_history(db, keep=timedelta(days=31), now=later) == 1
        assert [p.ts for p in db.scalars(select(PositionRecord))] == [now]
