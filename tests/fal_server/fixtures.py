"""pytest fixtures for the test fal server (loaded by ``tests/conftest.py`` through ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fal_server import TEST_KEY, prepare_environment
from tests.fal_server.server import FalServer

_running: list[FalServer] = []


@pytest.fixture(scope="session")
def fal_server() -> Iterator[FalServer]:
    """The fal queue + storage server over HTTPS, started once per session."""
    server = FalServer(prepare_environment())
    server.start()
    _running.append(server)
    yield server
    _running.remove(server)
    server.stop()


@pytest.fixture(autouse=True)
def _fal_server_reset() -> Iterator[None]:
    # Every test starts from a clean server, without starting it for tests that never ask for it.
    for server in _running:
        server.reset()
    yield


@pytest.fixture(scope="session")
def fal_key() -> str:
    """A key the test server accepts."""
    return TEST_KEY


@pytest.fixture(autouse=True)
def fal_upload_patch(monkeypatch: pytest.MonkeyPatch) -> str:
    """Point fal_client's upload hosts (module constants, not env vars) at the test server."""
    import fal_client.client

    url = prepare_environment().url
    monkeypatch.setattr(fal_client.client, "REST_URL", url)
    monkeypatch.setattr(fal_client.client, "CDN_URL", url)
    return url
