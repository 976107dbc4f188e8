"""pytest fixtures for the test fal server (loaded by ``tests/conftest.py`` through ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from testsupport.fal_server import TEST_KEY, prepare_environment
from testsupport.fal_server.proxy import FAL_HOSTS
from testsupport.fal_server.server import FalServer

_running: list[FalServer] = []


@pytest.fixture(scope="session")
def fal_server() -> Iterator[FalServer]:
    """The fal queue + storage server over HTTPS at fal's host names, started once per session."""
    import fal_client.client

    # Unpatched: fal_client still names fal's real hosts; the proxy is what brings them here.
    hosts = {httpx.URL(url).host for url in (fal_client.client.QUEUE_URL_FORMAT, fal_client.client.REST_URL,
                                             fal_client.client.CDN_URL)}
    assert hosts <= FAL_HOSTS, f"fal_client points somewhere else: {sorted(hosts - FAL_HOSTS)}"
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
