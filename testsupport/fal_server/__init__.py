"""A fal queue server for tests, faithful to docs/fal-protocol.md, served over real HTTPS at fal's own names.

The real ``fal_client`` talks to it unchanged, at ``queue.fal.run``, ``rest.fal.ai`` and ``v3.fal.media``:
:func:`prepare_environment` (called by ``tests/conftest.py`` and the benchmarks) makes a ``trustme`` test CA and a
server certificate naming fal's hosts (``testsupport/fal_server/proxy.py``: ``FAL_HOSTS``), starts a local CONNECT
proxy that tunnels those names — and only those — to the server's port on 127.0.0.1, and sets
``HTTPS_PROXY`` / ``HTTP_PROXY`` (the proxy), ``SSL_CERT_FILE`` (the test CA) and ``NO_PROXY`` (loopback, so
the app's own traffic, gradio_client and the reliability web server stay direct). httpx reads all three when a
client is built, so nothing in fal_client is patched and an app subprocess (``python app.py``) inherits the
set-up through its environment. The server tells fal's hosts apart by ``Host``: the queue on
``queue.fal.run``, the storage token and signed-URL upload on ``rest.fal.ai``, the CDN upload and every file on
``v3.fal.media``.

Fixtures (``testsupport/fal_server/fixtures.py``)
    ``fal_server``  session-scoped :class:`~testsupport.fal_server.server.FalServer`, started on first use and reset
                    before every test (scripts, defaults, records, jobs, files).
    ``fal_key``     a key the server accepts; any other key gets 401 ``No user found for Key ID and Secret``.

Scripting (``FalServer``)
    ``script(match=None, times=None, **behaviour)`` applies ``behaviour`` to the next ``times`` submits (all when
    None) whose arguments contain ``match`` (e.g. ``{"seed": 7}``); the first live script that matches wins.
    ``set_default(**behaviour)`` changes the behaviour of every other submit; ``reset()`` forgets everything.
    Behaviour keys (see ``jobs.DEFAULT_BEHAVIOUR``):
        ``queue_polls`` / ``queue_wait``  answered polls / seconds in IN_QUEUE (both must pass); the position
                        counts down to 0 (``queue_step`` seconds per place for the time-based part)
        ``run_polls`` / ``run_time``      the same for IN_PROGRESS
        ``run_time_spread``  each job's run time is ``run_time`` × (1 ± this share), drawn at submit (uniform):
                        jobs vary from cell to cell as on fal, so an estimate cannot be tuned to one figure
        ``logs``        messages (str, or dicts with ``message``/``level``) revealed in order over the run;
                        every poll returns the whole list so far (``null`` while it is empty)
        ``submit_status`` / ``submit_body``  answer the submit with this HTTP code and fal's body for it;
                        ``ingress=True`` makes a 502/503/504 look like an nginx ingress error (fal_client retries)
        ``status_error`` + ``status_error_polls``  this HTTP code on these status polls (int or iterable, 1-based)
        ``reset_on_poll``  close the connection mid-response on these status polls
        ``completed_error`` / ``completed_error_type``  COMPLETED carrying ``error`` / ``error_type``
        ``stall``       never finish; ``ignore_cancel`` a running job ignores cancellation
        ``result_status`` / ``result_body``  answer the result GET with this code and body
        ``cdn_upload_status``  fail ``POST /files/upload`` with this code (fal_client falls back to storage)
        ``storage_status``  fail the storage token and the signed-URL initiate with this code (no upload works)
    ``set_account_limit(n)`` plays fal's per-account concurrency: at most ``n`` requests IN_PROGRESS at once,
    the others IN_QUEUE in submission order with ``queue_position`` counting down (None, the default after
    ``reset()``: no limit). ``peak_in_progress`` is the most that ran at once since the last reset.
    Records: ``requests`` (every request: method, path, query, headers, json, body_size), ``submits()``,
    ``uploads()``, ``state(request_id)`` → ``JobState(status, cancel_received, polls, arguments)``,
    ``queue_url`` (``https://queue.fal.run``), ``url`` (the CDN, ``https://v3.fal.media``: where files are served).

Validation happens when the job runs, as on fal's queue: a bad argument or an unreadable image still gets a
request id, and the result GET answers 422 ``{"detail": [{"loc": ["body", field], "msg", "type"}]}``. The
arguments are checked against fal's published schema, kept here in ``published.py`` (never the app's own).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from testsupport.fal_server.proxy import FAL_HOSTS, TunnelProxy

TEST_KEY = "clarity-test-key-id:0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Environment:
    """Where the test server lives: its bound socket, certificate files, and the proxy in front of it."""

    sock: socket.socket
    port: int
    cert_dir: Path
    ca_file: Path
    cert_file: Path
    key_file: Path
    proxy: TunnelProxy


_ENVIRONMENT: Environment | None = None
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def prepare_environment() -> Environment:
    """Create the CA and server cert, bind a port, start the proxy and set the env vars httpx reads. Idempotent."""
    global _ENVIRONMENT
    if _ENVIRONMENT is not None:
        return _ENVIRONMENT
    import trustme

    cert_dir = Path(tempfile.mkdtemp(prefix="clarity-fal-tls-"))
    atexit.register(shutil.rmtree, cert_dir, True)
    ca = trustme.CA()
    # fal's names for the fal server; loopback names for the reliability suite's web server (same certificate).
    cert = ca.issue_cert(*sorted(FAL_HOSTS), "127.0.0.1", "localhost")
    ca_file, cert_file, key_file = cert_dir / "ca.pem", cert_dir / "server.pem", cert_dir / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    # Only the test CA: tests never reach the internet, and a small bundle keeps each TLS context cheap.
    ca.cert_pem.write_to_path(str(ca_file))

    # Bind now and keep the socket, so no other process can take the port before the server starts.
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on such sockets (else every reply waits ~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    proxy = TunnelProxy(port).start()

    # fal_client keeps its real hosts: a developer's own overrides must not send tests elsewhere.
    for name in ("FAL_QUEUE_RUN_HOST", "FAL_RUN_HOST", "ALL_PROXY", "all_proxy", "SSL_CERT_DIR"):
        os.environ.pop(name, None)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        os.environ[name] = proxy.url
    os.environ["SSL_CERT_FILE"] = str(ca_file)
    for name in ("NO_PROXY", "no_proxy"):  # exactly loopback: an inherited "*" or ".fal.run" would skip the proxy
        os.environ[name] = ",".join(LOOPBACK)
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        os.environ.pop(name, None)
    _ENVIRONMENT = Environment(sock, port, cert_dir, ca_file, cert_file, key_file, proxy)
    return _ENVIRONMENT
