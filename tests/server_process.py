"""The real server in a process of its own, for tests and benchmarks that crash it or load it.

A thread in the test process cannot be killed with SIGKILL; a child process can, which is what a
power cut or the out-of-memory killer does to a production server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """``openbwv serve`` on a loopback port, against ``database_url``, with its data in ``data_dir``.

    With ``app_factory`` (``module:function``, importable from the repository) uvicorn serves the app
    that function builds instead, on an already migrated database; ``settings`` adds ``OPENBWV_*``
    variables.
    """

    def __init__(
        self,
        *,
        database_url: str,
        data_dir: Path,
        log_path: Path,
        app_factory: str | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "OPENBWV_DATABASE_URL": database_url,
            "OPENBWV_DATA_DIR": str(data_dir),
            "OPENBWV_SECRET_KEY": "test-secret",
            "OPENBWV_LOG_LEVEL": "WARNING",
            **{f"OPENBWV_{name.upper()}": value for name, value in (settings or {}).items()},
        }
        command = [sys.executable, "-c", "from openbwv.cli import run; run()", "serve"]
        if app_factory is not None:
            root = Path(__file__).resolve().parents[1]
            env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root), env.get("PYTHONPATH", "")])
            command = [sys.executable, "-m", "uvicorn", "--factory", app_factory, "--no-access-log"]
        self._log = log_path.open("ab")
        self._process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited with {self._process.returncode}; see {self._log.name}")
            try:
                if httpx2.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def bearer_headers(self, username: str, password: str) -> dict[str, str]:
        """Sign in through the server and return the bearer headers."""
        answer = httpx2.post(
            f"{self.base_url}/api/v1/auth/token",
            data={"username": username, "password": password},
            timeout=10,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    @property
    def peak_rss_bytes(self) -> int | None:
        """The server process's peak resident memory so far (Linux ``VmHWM``), while it runs."""
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no rollback runs."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._log.close()
