"""The app knows its own address before it answers anyone. Gradio writes the API page (``/gradio_api/info``, whose
snippets fetch the sample photo at the app's address) once, at its first request, and keeps it: an early visitor
(or a test under load) once fixed the sample's address at the default port of another app."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from components.common import startup
from testsupport.apps import AppProcess


def test_the_address_is_gradios_choice_made_before_the_launch(monkeypatch) -> None:
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    taken = [port for port in range(startup.FIRST_PORT, startup.FIRST_PORT + 3)
             if not startup._free("127.0.0.1", port)]
    with socket.socket() as holder:
        first_free = next(port for port in range(startup.FIRST_PORT, startup.FIRST_PORT + 50)
                          if port not in taken and startup._free("127.0.0.1", port))
        holder.bind(("127.0.0.1", first_free))
        holder.listen()
        settings, url = startup.address({"theme": None})
        assert settings["server_port"] != first_free and url == f"http://127.0.0.1:{settings['server_port']}/"
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert startup.address({})[1] == "http://127.0.0.1:7999/"
    assert startup.address({"server_name": "0.0.0.0", "server_port": 8123})[1] == "http://localhost:8123/"


def test_the_first_api_page_served_names_the_apps_own_address(tmp_path: Path) -> None:
    app = AppProcess(tmp_path / "data", {"FAL_KEY": ""})
    try:
        deadline, info = time.time() + 90, None
        with httpx.Client(timeout=5) as http:
            while info is None and time.time() < deadline:  # asked as early as the server answers
                if app.process.poll() is not None:
                    raise RuntimeError(app.log.read_text()[-3000:])
                try:
                    answer = http.get(f"{app.url}gradio_api/info")
                except httpx.TransportError:
                    time.sleep(0.005)
                    continue
                info = answer.json() if answer.status_code == 200 else None
        assert info is not None
        python = info["named_endpoints"]["/upscale"]["code_snippets"]["python"]
        assert f"handle_file('{app.url}gradio_api/file=" in python, python
    finally:
        app.stop()
