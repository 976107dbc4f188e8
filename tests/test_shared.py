"""Shared mode (a Space): each visitor sees only their own runs; the key stays on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from tests.conftest import api_client, launched_app


@pytest.fixture(scope="module")
def shared_app() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")  # read when the app is built: its sessions start shared
        demo, url = launched_app()
    yield url
    demo.close()


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "tiny.png"
    Image.radial_gradient("L").resize((40, 30)).convert("RGB").save(path)
    return str(path)


def test_each_visitor_sees_only_their_own_history(shared_app, photo, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    alice, bob = api_client(shared_app), api_client(shared_app)
    _, result = alice.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    alice_rows = alice.predict(api_name="/history")[0]["data"]
    assert [row[-1] for row in alice_rows] == [result["run_id"]]
    assert bob.predict(api_name="/history")[0]["data"] == []
    bob.predict(handle_file(photo), "", upscale_factor=1, engine="local", api_name="/upscale")
    assert len(bob.predict(api_name="/history")[0]["data"]) == 1
    assert len(alice.predict(api_name="/history")[0]["data"]) == 1


def test_a_visitor_over_the_job_limit_is_refused_with_the_limit_named(shared_app, photo, fal_server, fal_key,
                                                                      monkeypatch) -> None:
    import time

    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("CLARITY_MAX_JOBS_PER_VISITOR", "1")
    monkeypatch.setenv("FAL_KEY", fal_key)
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")  # two visitors at two addresses, as a Space's proxy reports them
    fal_server.set_default(stall=True)
    alice = api_client(shared_app, headers={"X-Forwarded-For": "198.51.100.7"})
    bob = api_client(shared_app, headers={"X-Forwarded-For": "198.51.100.8"})
    first = alice.submit(handle_file(photo), "", engine="fal", api_name="/upscale")
    deadline = time.time() + 30
    while not fal_server.submits() and time.time() < deadline:
        time.sleep(0.1)
    with pytest.raises(Exception, match=r"limit per visitor is 1 \(CLARITY_MAX_JOBS_PER_VISITOR\)"):
        alice.predict(handle_file(photo), "", engine="fal", api_name="/upscale")
    with pytest.raises(Exception, match=r"limit per visitor is 1"):  # a sweep is a job too
        alice.predict(handle_file(photo), "", engine="fal", x_axis="seed", x_values="1, 2", y_axis="",
                      y_values="", api_name="/sweep")
    fal_server.set_default(stall=False)
    _, result = bob.predict(handle_file(photo), "", engine="fal", api_name="/upscale")  # others are not blocked
    assert result["status"] == "completed"
    first.cancel()
