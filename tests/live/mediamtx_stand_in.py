"""MediaMTX's control API as far as kicks go, served on a loopback port from a thread: it records each
kick asked of it, and answers as MediaMTX does (200 for a session it holds, then gone; 404 for one
it does not hold), or with ``failing`` to every kick while that is set."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MediaMTXStandIn:
    def __init__(self) -> None:
        self.sessions: set[tuple[str, str]] = set()
        """(list, id) of each session it holds, as ``("webrtcsessions", "…")``."""
        self.kicks: list[str] = []
        """The path of each kick asked for, in order."""
        self.failing: int | None = None
        self.on_kick: Callable[[str], None] | None = None
        """Called with each kick's path before it is answered, from the server's thread."""
        self.problems: list[str] = []
        """What ``on_kick`` raised."""
        self.url = ""
        self._lock = threading.Lock()

    def hold(self, list_name: str, session_id: str) -> None:
        with self._lock:
            self.sessions.add((list_name, session_id))

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str]]:
        parts = path.split("/")
        if method != "POST" or len(parts) != 5 or parts[:2] != ["", "v3"] or parts[3] != "kick":
            return 404, {"status": "error", "error": "not found"}
        if self.on_kick is not None:
            try:
                self.on_kick(path)
            except AssertionError as problem:
                self.problems.append(str(problem))
        with self._lock:
            self.kicks.append(path)
            if self.failing is not None:
                return self.failing, {"status": "error", "error": "failing on purpose"}
            session = (parts[2], parts[4])
            if session not in self.sessions:
                return 404, {"status": "error", "error": "session not found"}
            self.sessions.discard(session)
        return 200, {"status": "ok"}


@contextmanager
def serving() -> Iterator[MediaMTXStandIn]:
    """A stand-in serving on a free loopback port until the block ends; its ``url`` is its API's."""
    stand_in = MediaMTXStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._reply("POST")

        def do_GET(self) -> None:
            self._reply("GET")

        def _reply(self, method: str) -> None:
            status, body = stand_in.answer(method, self.path)
            encoded = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads ``kicks`` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
