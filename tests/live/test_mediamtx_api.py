"""MediaMTX's control API closing a session: each protocol's list (both servers' for RTSP and RTMP,
whose TLS readers MediaMTX's hook does not tell apart), a 404 as already gone, and anything else as
a failure; only a UUID of a protocol with a kick is kept to kick by."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from openbwv.live.mediamtx_api import KickFailed, MediaMTXApi, kickable_id
from tests.live.mediamtx_stand_in import MediaMTXStandIn, serving

SESSION = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def mediamtx() -> Iterator[MediaMTXStandIn]:
    with serving() as stand_in:
        yield stand_in


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestMediaMTXApi:
    @pytest.mark.parametrize(
        ("protocol", "held_on", "asked"),
        [
            ("rtsp", "rtspsessions", ["rtspsessions"]),
            ("rtsp", "rtspssessions", ["rtspsessions", "rtspssessions"]),
            ("rtsps", "rtspssessions", ["rtspssessions"]),
            ("rtmp", "rtmpconns", ["rtmpconns"]),
            ("rtmp", "rtmpsconns", ["rtmpconns", "rtmpsconns"]),
            ("rtmps", "rtmpsconns", ["rtmpsconns"]),
            ("webrtc", "webrtcsessions", ["webrtcsessions"]),
            ("srt", "srtconns", ["srtconns"]),
            ("hls", "hlssessions", ["hlssessions"]),
            ("moq", "moqsessions", ["moqsessions"]),
        ],
    )
    def test_a_session_is_kicked_from_its_protocols_list(
        self, mediamtx: MediaMTXStandIn, protocol: str, held_on: str, asked: list[str]
    ) -> None:
        mediamtx.hold(held_on, SESSION)
        MediaMTXApi(mediamtx.url + "/").kick(protocol, SESSION)
        assert mediamtx.kicks == [f"/v3/{name}/kick/{SESSION}" for name in asked]
        assert mediamtx.sessions == set()

    def test_a_session_no_list_holds_is_already_gone(self, mediamtx: MediaMTXStandIn) -> None:
        MediaMTXApi(mediamtx.url).kick("rtsp", SESSION)
        assert len(mediamtx.kicks) == 2

    @pytest.mark.parametrize("status", [302, 401, 500])
    def test_another_answer_fails_naming_the_path_only(self, mediamtx: MediaMTXStandIn, status: int) -> None:
        mediamtx.hold("rtspsessions", SESSION)
        mediamtx.failing = status
        with pytest.raises(KickFailed) as failed:
            MediaMTXApi(mediamtx.url.replace("http://", "http://admin:secret@")).kick("rtsp", SESSION)
        assert str(failed.value) == f"POST /v3/rtspsessions/kick/{SESSION} answered {status}"
        assert len(mediamtx.kicks) == 1

    def test_no_answer_fails(self) -> None:
        with pytest.raises(KickFailed, match="ConnectionError"):
            MediaMTXApi(f"http://127.0.0.1:{closed_port()}").kick("rtsp", SESSION)

    def test_only_a_uuid_of_a_protocol_with_a_kick_is_kept(self) -> None:
        assert kickable_id("webrtc", SESSION.upper()) == SESSION
        assert kickable_id("hls", None) is None
        assert kickable_id("webrtc", "c0ffee") is None
        assert kickable_id("carrier-pigeon", SESSION) is None
