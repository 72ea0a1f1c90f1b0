"""footage search: where clips were (clip_place, backfilled from their tracks), stations' positions,
and the indexes of the search's filters

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import openbwv.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DELETED = "deleted_at IS NULL"
EVIDENCE_KEPT = "evidence_flag = true AND deleted_at IS NULL"
LEGALLY_HELD = "legal_hold = true AND deleted_at IS NULL"

# The grid and thinning of ``openbwv.footage.place`` as they stand at this revision (a migration
# keeps its own copy, so that it means the same later).
CELLS_PER_DEGREE = 100
COLUMNS = 360 * CELLS_PER_DEGREE
ROWS = 180 * CELLS_PER_DEGREE
EARTH_RADIUS_M = 6_371_008.8
THIN_METRES = 100.0
MAX_POINTS = 50
BATCH = 500


def _cell(latitude: float, longitude: float) -> int:
    row = min(max(math.floor((latitude + 90) * CELLS_PER_DEGREE), 0), ROWS - 1)
    return row * COLUMNS + math.floor((longitude + 180) * CELLS_PER_DEGREE) % COLUMNS


def _is_position(latitude: Any, longitude: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude))
    return (
        numbers
        and math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    east = (b[1] - a[1] + 540) % 360 - 180
    x = math.radians(east) * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(x, math.radians(b[0] - a[0])) * EARTH_RADIUS_M


def _thinned(track: Any) -> list[tuple[float, float]]:
    points = [
        (float(f[1]), float(f[2]))
        for f in (track if isinstance(track, list) else [])
        if isinstance(f, list) and len(f) >= 3 and _is_position(f[1], f[2])
    ]
    kept: list[tuple[float, float]] = []
    for point in points:
        if not kept or _distance_m(kept[-1], point) >= THIN_METRES:
            kept.append(point)
    if points and kept[-1] != points[-1]:
        kept.append(points[-1])
    if len(kept) > MAX_POINTS:
        step = (len(kept) - 1) / (MAX_POINTS - 1)
        kept = [kept[round(n * step)] for n in range(MAX_POINTS)]
    return kept


def _backfill(place: sa.Table) -> None:
    clip = sa.table(
        "clip",
        sa.column("id", sa.Integer()),
        sa.column("recorded_at", openbwv.db.UTCDateTime(timezone=True)),
        sa.column("gps_track", sa.JSON()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(clip.c.id, clip.c.recorded_at, clip.c.gps_track)
            .where(clip.c.id > last, clip.c.gps_track.is_not(None))
            .order_by(clip.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        places = [
            {
                "clip_id": clip_id,
                "point": n,
                "cell": _cell(lat, lon),
                "recorded_at": recorded_at,
                "latitude": lat,
                "longitude": lon,
            }
            for clip_id, recorded_at, track in rows
            for n, (lat, lon) in enumerate(_thinned(track))
        ]
        if places:
            connection.execute(sa.insert(place), places)
        last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("updated_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_station_latitude")),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name=op.f("ck_station_longitude")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("name", name=op.f("uq_station_name")),
    )
    place = op.create_table(
        "clip_place",
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", openbwv.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clip.id"], name=op.f("fk_clip_place_clip_id_clip")),
        sa.PrimaryKeyConstraint("clip_id", "point", name=op.f("pk_clip_place")),
    )
    _backfill(place)
    op.create_index("ix_clip_place_cell", "clip_place", ["cell", "recorded_at", "clip_id"], unique=False)
    for name, columns, condition in (
        ("ix_clip_recorded", ["recorded_at", "id"], NOT_DELETED),
        ("ix_clip_evidence", ["recorded_at", "id"], EVIDENCE_KEPT),
        ("ix_clip_hold", ["recorded_at", "id"], LEGALLY_HELD),
        ("ix_clip_incident_number", ["incident_number"], "incident_number IS NOT NULL"),
        ("ix_clip_case_reference", ["case_reference"], "case_reference IS NOT NULL"),
    ):
        op.create_index(
            name,
            "clip",
            columns,
            unique=False,
            sqlite_where=sa.text(condition),
            postgresql_where=sa.text(condition),
        )


def downgrade() -> None:
    for name in (
        "ix_clip_case_reference",
        "ix_clip_incident_number",
        "ix_clip_hold",
        "ix_clip_evidence",
        "ix_clip_recorded",
    ):
        op.drop_index(name, table_name="clip")
    op.drop_index("ix_clip_place_cell", table_name="clip_place")
    op.drop_table("clip_place")
    op.drop_table("station")
