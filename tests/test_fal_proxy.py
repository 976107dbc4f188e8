"""The test proxy takes fal's host names to the test fal server, and nothing anywhere
(testsupport/fal_server/proxy.py)."""

from __future__ import annotations

import os
import socket

import fal_client.client
import httpx
import pytest

from testsupport.fal_server import prepare_environment
from testsupport.fal_server.proxy import FAL_HOSTS, TunnelProxy


def raw_connect(port: int, target: str) -> bytes:
    """Send ``CONNECT target`` to a proxy on loopback; the first line of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_the_environment_sends_https_to_the_proxy_and_trusts_the_test_ca() -> None:
    environment = prepare_environment()
    assert os.environ["HTTPS_PROXY"] == environment.proxy.url
    assert os.environ["SSL_CERT_FILE"] == str(environment.ca_file)
    assert set(os.environ["NO_PROXY"].split(",")) == {"127.0.0.1", "localhost", "::1"}
    assert "FAL_QUEUE_RUN_HOST" not in os.environ  # fal_client keeps its own hosts...
    assert fal_client.client.QUEUE_URL_FORMAT == "https://queue.fal.run/"  # ...unpatched
    assert (fal_client.client.REST_URL, fal_client.client.CDN_URL) == ("https://rest.fal.ai", "https://v3.fal.media")


def test_fal_hosts_reach_the_test_server_with_verified_tls(fal_server) -> None:
    for url in (f"{fal_server.url}/files/nothing-here.png", "https://fal.media/files/nothing-here.png"):
        response = httpx.get(url)
        assert response.status_code == 404 and response.text == "Not Found"  # the test server's answer
    assert [r.headers["host"] for r in fal_server.requests] == ["v3.fal.media", "fal.media"]


@pytest.mark.parametrize("url", ["https://example.com/", "https://fal.ai.example.com/", "https://auth.fal.ai/",
                                 "https://queue.fal.run:8443/", "https://93.184.215.14/"])
def test_any_other_https_target_is_refused_before_anything_is_dialled(url: str) -> None:
    proxy = prepare_environment().proxy
    with pytest.raises(httpx.ProxyError, match="403"):
        httpx.get(url)
    assert proxy.refused[-1] == httpx.URL(url).netloc.decode() + ("" if httpx.URL(url).port else ":443")


def test_plain_http_through_the_proxy_is_refused() -> None:
    assert httpx.get("http://example.com/").status_code == 405


def test_loopback_stays_direct() -> None:
    client = httpx.Client()
    for url in ("http://127.0.0.1:7860/", "https://localhost:8443/", "http://[::1]:7860/"):
        assert client._transport_for_url(httpx.URL(url)) is client._transport  # no proxy mount matches
    assert client._transport_for_url(httpx.URL("https://queue.fal.run/")) is not client._transport


def test_the_proxy_only_ever_dials_loopback() -> None:
    with socket.socket() as upstream:
        upstream.bind(("127.0.0.1", 0))
        upstream.listen()
        proxy = TunnelProxy(upstream.getsockname()[1]).start()
        try:
            assert raw_connect(proxy.port, "127.0.0.1:443").startswith(b"HTTP/1.1 403")
            assert raw_connect(proxy.port, "queue.fal.run:443") == b"HTTP/1.1 200 Connection established"
            peer, _ = upstream.accept()  # the tunnel ended here, on loopback
            peer.close()
        finally:
            proxy.stop()
    assert proxy.tunnels == ["queue.fal.run:443"] and proxy.refused == ["127.0.0.1:443"]
    assert "queue.fal.run" in FAL_HOSTS and "rest.fal.ai" in FAL_HOSTS and "v3.fal.media" in FAL_HOSTS
