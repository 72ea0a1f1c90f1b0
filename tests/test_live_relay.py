"""The embedded relay: packets copied from MPEG-TS into fragmented MP4, a late viewer starting at a
keyframe, a viewer too far behind dropped, a stream that is not video refused."""

from __future__ import annotations

import asyncio
import io

import av
import pytest

from openbwv.live import relay
from tests.live.helpers import FPS, chunks, encoded_stream


async def _collect(subscription: relay.Subscription, into: list[bytes]) -> None:
    async for item in subscription:
        into.append(item)


def _frames(data: bytes) -> list[bool]:
    """Whether each decoded frame is a keyframe."""
    with av.open(io.BytesIO(data), "r") as container:
        return [bool(frame.key_frame) for frame in container.decode(video=0)]


def test_a_viewer_joining_late_starts_at_the_latest_keyframe_and_both_decode() -> None:
    async def run() -> tuple[list[bytes], list[bytes]]:
        live = relay.EmbeddedRelay()
        publication = live.publish("CAM-1", "mpegts")
        first_viewer = live.subscribe("CAM-1")
        assert first_viewer is not None
        early: list[bytes] = []
        late: list[bytes] = []
        watching = [asyncio.create_task(_collect(first_viewer, early))]
        stream = encoded_stream(4)
        for n, chunk in enumerate(chunks(stream)):
            await publication.feed(chunk)
            # Once two and a half seconds have been relayed, a second viewer joins.
            if not late and len(watching) == 1 and n > len(stream) // 4096 * 5 // 8:
                while len(early) < 2:
                    await asyncio.sleep(0.01)
                second = live.subscribe("CAM-1")
                assert second is not None
                watching.append(asyncio.create_task(_collect(second, late)))
        await publication.finish()
        await asyncio.gather(*watching)
        assert not live.is_live("CAM-1") and live.subscribe("CAM-1") is None
        return early, late

    early, late = asyncio.run(run())
    assert early[0][4:8] == late[0][4:8] == b"ftyp"
    everything, joined = _frames(b"".join(early)), _frames(b"".join(late))
    assert len(everything) == 4 * FPS
    assert joined[0] is True and FPS <= len(joined) < 4 * FPS
    assert sum(joined) == len(joined) // FPS


def test_a_viewer_too_far_behind_is_dropped_and_the_others_keep_up(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> tuple[int, list[bytes]]:
        live = relay.EmbeddedRelay()
        publication = live.publish("CAM-1", "mpegts")
        reading = live.subscribe("CAM-1")
        monkeypatch.setattr(relay, "VIEWER_BACKLOG", 3)
        stalled = live.subscribe("CAM-1")
        assert stalled is not None and reading is not None
        kept: list[bytes] = []
        task = asyncio.create_task(_collect(reading, kept))
        for chunk in chunks(encoded_stream(3)):
            await publication.feed(chunk)
            await asyncio.sleep(0.002)
        await publication.finish()
        await task
        left: list[bytes] = []
        await _collect(stalled, left)
        return len(left), kept

    stalled_received, kept = asyncio.run(run())
    assert stalled_received == 0
    assert len(_frames(b"".join(kept))) == 3 * FPS


def test_bytes_that_are_not_video_are_refused() -> None:
    async def run() -> None:
        live = relay.EmbeddedRelay()
        publication = live.publish("CAM-1", "mpegts")
        with pytest.raises(relay.RemuxFailed, match="Not a playable stream"):
            for _ in range(20):
                await publication.feed(b"\x47" + b"\x00" * 4095)
            await publication.finish()
        assert not live.is_live("CAM-1")

    asyncio.run(run())


def test_a_second_stream_of_one_camera_is_refused_while_the_first_runs() -> None:
    async def run() -> None:
        live = relay.EmbeddedRelay()
        publication = live.publish("CAM-1", "mpegts")
        with pytest.raises(relay.Conflict) as refused:
            live.publish("CAM-1", "mpegts")
        assert refused.value.rule == "stream_already_live"
        for chunk in chunks(encoded_stream(1)):
            await publication.feed(chunk)
        await publication.finish()
        live.publish("CAM-1", "mpegts")

    asyncio.run(run())
