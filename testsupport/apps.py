"""Start the app as a real process (``python app.py``, unmodified), for restart and kill tests.

It inherits the test environment (``tests/conftest.py`` sets it): ``HTTPS_PROXY`` and ``SSL_CERT_FILE`` take its fal
traffic to the test fal server at fal's own host names.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class AppProcess:
    """``app.py`` in a subprocess on a free port, with its output in a log file."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = data_dir.parent / f"app-{self.port}.log"
        environment = {**os.environ, "CLARITY_DATA_DIR": str(data_dir), "GRADIO_SERVER_PORT": str(self.port),
                       "GRADIO_SERVER_NAME": "127.0.0.1", **(env or {})}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=environment,
                                            stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0) -> AppProcess:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the app did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no clean-up code runs
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
