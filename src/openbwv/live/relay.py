"""The live video relay: a recording camera pushes its stream once, any number of permitted viewers
read it, with no transcoding.

``LiveRelay`` is the port. The embedded relay (:class:`EmbeddedRelay`) takes H.264 in MPEG-TS, or
fragmented MP4, as the camera sends it, remuxes it with PyAV (packets copied, never decoded) into
fragmented MP4, and hands each viewer the initialisation segment and then the fragments from the
latest keyframe on, so that a Media Source Extensions player starts at once and keeps to the live
edge. A viewer that falls behind by more than ``VIEWER_BACKLOG`` fragments is dropped rather than
left to drift further from live. At force scale an existing media server takes its place
(``mediamtx``), asking openbwv about every reader.

Remuxing runs in a thread of its own per stream: PyAV reads the body's chunks from a queue the
request fills, and writes boxes that are cut into the segment and fragments here.
"""

from __future__ import annotations

import asyncio
import io
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import av
import av.error

from openbwv.errors import Conflict, InvalidInput

# A fragment is cut at each keyframe, and at least this often between them, so that a viewer sees a
# frame a fraction of a second after the camera sent it whatever the camera's keyframe interval (the
# muxer cuts when the next picture arrives: a picture waits up to this and a frame interval).
FRAGMENT_MICROSECONDS = 100_000
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
VIEWER_BACKLOG = 150
INPUT_BACKLOG = 256
CONTAINERS = {"video/mp2t": "mpegts", "video/mp4": "mp4"}


def container_of(content_type: str | None) -> str:
    """PyAV's name of the container a camera's stream comes in, from its ``Content-Type``; another
    type is refused naming the ones taken."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CONTAINERS:
        raise InvalidInput(
            "content-type", f"Send H.264 as {' or '.join(sorted(CONTAINERS))}, not {media_type or 'nothing'}."
        )
    return CONTAINERS[media_type]


class Publication(Protocol):
    """A camera's stream while it is being received: its bytes fed in as they arrive."""

    async def feed(self, chunk: bytes) -> None: ...

    async def finish(self) -> None: ...


class Subscription(Protocol):
    """What a viewer reads: the initialisation segment, then fragments, until the stream ends or the
    viewer falls too far behind."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


class LiveRelay(Protocol):
    """Where cameras' live streams go and viewers read them."""

    def publish(self, serial: str, container: str) -> Publication: ...

    def subscribe(self, serial: str) -> Subscription | None: ...

    def is_live(self, serial: str) -> bool: ...


class _BodyReader(io.RawIOBase):
    """The request body as a blocking file for PyAV: ``readinto`` waits for the next chunk."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=INPUT_BACKLOG)
        self._pending = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._ended:
            chunk = self.chunks.get()
            if chunk is None:
                self._ended = True
            else:
                self._pending = chunk
        taken = min(len(buffer), len(self._pending))
        buffer[:taken] = self._pending[:taken]
        self._pending = self._pending[taken:]
        return taken


class _BoxCutter:
    """PyAV's fragmented MP4 output, cut into the initialisation segment (``ftyp`` + ``moov``) and
    fragments (``moof`` + ``mdat``); ``mfra`` and other trailing boxes are dropped."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel
        self._buffer = bytearray()
        self._init = bytearray()
        self._moof = b""

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[:4], "big")
            if size < 8 or len(self._buffer) < size:
                break
            kind, box = bytes(self._buffer[4:8]), bytes(self._buffer[:size])
            del self._buffer[:size]
            self._take(kind, box)
        return len(data)

    def _take(self, kind: bytes, box: bytes) -> None:
        if kind == b"ftyp":
            self._init = bytearray(box)
        elif kind == b"moov":
            self.channel.started(bytes(self._init + box))
        elif kind == b"moof":
            self._moof = box
        elif kind == b"mdat" and self._moof:
            self.channel.fragment(self._moof + box)
            self._moof = b""


@dataclass(eq=False)
class _Viewer:
    """One viewer's queue, filled from the remuxing thread through the viewer's event loop."""

    channel: _Channel
    loop: asyncio.AbstractEventLoop
    items: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(VIEWER_BACKLOG))

    def push(self, item: bytes | None) -> None:
        self.loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: bytes | None) -> None:
        try:
            self.items.put_nowait(item)
        except asyncio.QueueFull:
            # Too far behind live: dropped, so the player reconnects at the live edge.
            self.channel.leave(self)
            while not self.items.empty():
                self.items.get_nowait()
            self.items.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.items.get()
            if item is None:
                return
            yield item

    def close(self) -> None:
        self.channel.leave(self)


class _Channel:
    """One camera's stream: the initialisation segment, the fragments since the latest keyframe,
    and who is watching."""

    def __init__(self, serial: str) -> None:
        self.serial = serial
        self.init: bytes | None = None
        self.since_keyframe: list[bytes] = []
        self.viewers: set[_Viewer] = set()
        self.lock = threading.Lock()
        # Whether each fragment begun but not yet written starts with a keyframe, in order.
        self.keyframe_starts: list[bool] = []
        self.fragments_written = 0
        self.ended = False

    def started(self, init: bytes) -> None:
        with self.lock:
            self.init = init
            for viewer in self.viewers:
                viewer.push(init)

    def fragment(self, data: bytes) -> None:
        with self.lock:
            keyframe = self.keyframe_starts.pop(0) if self.keyframe_starts else False
            self.fragments_written += 1
            if keyframe or not self.since_keyframe:
                self.since_keyframe = []
            self.since_keyframe.append(data)
            for viewer in self.viewers:
                viewer.push(data)

    def join(self, loop: asyncio.AbstractEventLoop) -> _Viewer:
        viewer = _Viewer(self, loop)
        with self.lock:
            if self.ended:
                viewer.push(None)
                return viewer
            if self.init is not None:
                for item in (self.init, *self.since_keyframe):
                    viewer.push(item)
            self.viewers.add(viewer)
        return viewer

    def leave(self, viewer: _Viewer) -> None:
        with self.lock:
            self.viewers.discard(viewer)

    def end(self) -> None:
        with self.lock:
            self.ended = True
            for viewer in self.viewers:
                viewer.push(None)
            self.viewers.clear()


class RemuxFailed(InvalidInput):
    """The camera's bytes are not H.264 video in the container it named."""


class _EmbeddedPublication:
    """Feeds a camera's body to a remuxing thread, which writes fragments to the camera's channel."""

    def __init__(self, relay: EmbeddedRelay, channel: _Channel, container: str) -> None:
        self.relay = relay
        self.channel = channel
        self.container = container
        self.reader = _BodyReader()
        self.failure: str | None = None
        self.first = True
        self.thread = threading.Thread(target=self._remux, name=f"relay-{channel.serial}", daemon=True)
        self.thread.start()

    def _remux(self) -> None:
        try:
            with av.open(self.reader, "r", format=self.container) as source:
                if not source.streams.video:
                    raise ValueError("no video stream")
                video = source.streams.video[0]
                options = {
                    "movflags": MOVFLAGS,
                    "frag_duration": str(FRAGMENT_MICROSECONDS),
                    "flush_packets": "1",
                }
                with av.open(_BoxCutter(self.channel), "w", format="mp4", options=options) as target:
                    copied = target.add_stream_from_template(video)
                    for packet in source.demux(video):
                        if packet.dts is None:
                            continue
                        self._mux(target, copied, packet)
        except (av.error.FFmpegError, ValueError) as error:
            self.failure = str(error)
        finally:
            self.relay._ended(self.channel)

    def _mux(self, target: av.container.OutputContainer, stream: av.VideoStream, packet: av.Packet) -> None:
        written = self.channel.fragments_written
        packet.stream = stream
        target.mux(packet)
        # The packet starts a fragment when it is the first, or when muxing it wrote the one before
        # out (``flush_packets`` writes each fragment as soon as it is cut).
        if self.first or self.channel.fragments_written > written:
            with self.channel.lock:
                self.channel.keyframe_starts.append(bool(packet.is_keyframe))
        self.first = False

    async def feed(self, chunk: bytes) -> None:
        if self.failure is not None or not self.thread.is_alive():
            raise RemuxFailed("body", f"Not a playable stream: {self.failure or 'the stream ended'}.")
        try:
            self.reader.chunks.put_nowait(chunk)
        except queue.Full:
            await asyncio.to_thread(self._hand_over, chunk)

    def _hand_over(self, item: bytes | None) -> None:
        """Wait for room in the queue, unless the remuxing thread has stopped reading it."""
        while self.thread.is_alive():
            try:
                self.reader.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    async def finish(self) -> None:
        await asyncio.to_thread(self._hand_over, None)
        await asyncio.to_thread(self.thread.join)
        if self.failure is not None:
            raise RemuxFailed("body", f"Not a playable stream: {self.failure}.")


class EmbeddedRelay:
    """The relay inside the API process: one channel per camera being received."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()

    def publish(self, serial: str, container: str) -> Publication:
        """Start receiving ``serial``'s stream; a second stream of a camera already sending is
        refused (409), as one camera records one picture."""
        with self._lock:
            if serial in self._channels:
                raise Conflict(
                    f"Camera {serial} is already sending a live stream.", rule="stream_already_live"
                )
            channel = self._channels[serial] = _Channel(serial)
        return _EmbeddedPublication(self, channel, container)

    def subscribe(self, serial: str) -> Subscription | None:
        """A viewer of ``serial``'s stream, or None when the camera is not sending one."""
        with self._lock:
            channel = self._channels.get(serial)
        return channel.join(asyncio.get_running_loop()) if channel is not None else None

    def is_live(self, serial: str) -> bool:
        with self._lock:
            return serial in self._channels

    def _ended(self, channel: _Channel) -> None:
        with self._lock:
            if self._channels.get(channel.serial) is channel:
                del self._channels[channel.serial]
        channel.end()


_relay: LiveRelay = EmbeddedRelay()


def provide_relay(live: LiveRelay) -> LiveRelay:
    """Register the relay the routes use (the embedded one unless replaced); the one registered
    before, for a caller that puts it back."""
    global _relay
    previous, _relay = _relay, live
    return previous


def live_relay() -> LiveRelay:
    """The registered relay."""
    return _relay
