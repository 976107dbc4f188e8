"""Shared mode (a Space): each visitor sees only their own runs; the key stays on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from tests.conftest import free_port


@pytest.fixture(scope="module")
def shared_app() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")
        import app

        demo = app.build()
        port = free_port()
        app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "tiny.png"
    Image.radial_gradient("L").resize((40, 30)).convert("RGB").save(path)
    return str(path)


def test_each_visitor_sees_only_their_own_history(shared_app, photo, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    alice, bob = Client(shared_app, verbose=False), Client(shared_app, verbose=False)
    _, result = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    alice_rows = alice.predict(api_name="/history")["data"]
    assert [row[-1] for row in alice_rows] == [result["run_id"]]
    assert bob.predict(api_name="/history")["data"] == []
    bob.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    assert len(bob.predict(api_name="/history")["data"]) == 1
    assert len(alice.predict(api_name="/history")["data"]) == 1
