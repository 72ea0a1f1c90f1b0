"""Record a demo clip: a PyAV test pattern with the collar number and the time burnt in, tagged as
a camera tags its files (``camera_serial``, ``creation_time`` and a ``gps_track`` wandering around a
West Midlands town centre), written under a dot name and renamed in once finished."""

from __future__ import annotations

import math
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import av
from PIL import Image, ImageDraw

DOCK_FOLDER = "demo-dock"
SIZE = (320, 240)
RATE = 10
SECONDS = 3

# Town centres the demo force patrols: latitude, longitude.
CENTRES = {
    "Birmingham": (52.4797, -1.9027),
    "Coventry": (52.4081, -1.5106),
    "Wolverhampton": (52.5862, -2.1286),
    "Walsall": (52.5862, -1.9829),
    "Dudley": (52.5087, -2.0877),
    "Solihull": (52.4130, -1.7780),
    "West Bromwich": (52.5187, -1.9945),
}


def gps_track(station: str | None, rng: random.Random, seconds: int) -> str:
    """A walk of a few metres a second from near the station's town centre, one fix a second."""
    lat, lon = CENTRES.get(station or "", CENTRES["Birmingham"])
    lat += rng.uniform(-0.01, 0.01)
    lon += rng.uniform(-0.015, 0.015)
    heading = rng.uniform(0, 2 * math.pi)
    fixes = []
    for t in range(seconds + 1):
        fixes.append(f"{t},{lat:.6f},{lon:.6f}")
        heading += rng.uniform(-0.4, 0.4)
        lat += 0.00002 * math.cos(heading)
        lon += 0.00003 * math.sin(heading)
    return ";".join(fixes)


def record_clip(
    folder: Path, *, camera_serial: str, collar_number: str, station: str | None, started_at: datetime
) -> Path:
    """Record one clip into ``folder`` as the camera would leave it in its dock; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{camera_serial}{started_at.isoformat()}")
    name = f"{camera_serial}_{started_at:%Y%m%d_%H%M%S}.mp4"
    writing = folder / f".{name}.part"
    tags = {
        "camera_serial": camera_serial,
        "creation_time": started_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "gps_track": gps_track(station, rng, SECONDS),
    }
    hue = rng.randrange(256)
    with av.open(str(writing), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update(tags)
        stream = out.add_stream("libx264", rate=RATE, options={"preset": "ultrafast"})
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        for i in range(SECONDS * RATE):
            at = started_at + timedelta(seconds=i / RATE)
            image = Image.new("RGB", SIZE, ((hue + i * 3) % 256, (i * 7) % 256, 110))
            draw = ImageDraw.Draw(image)
            x = i * 6 % SIZE[0]
            draw.rectangle((x, 60, x + 40, 140), fill=(240, 240, 240))
            draw.rectangle((0, SIZE[1] - 34, SIZE[0], SIZE[1]), fill=(0, 0, 0))
            draw.text((6, SIZE[1] - 30), f"{collar_number}  {camera_serial}", fill=(255, 255, 0))
            draw.text((6, SIZE[1] - 16), f"{at:%Y-%m-%d %H:%M:%S} UTC", fill=(255, 255, 255))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    path = folder / name
    os.replace(writing, path)
    return path
