"""A fal queue server for tests, faithful to FAL_PROTOCOL.md §4–§5, served over real HTTPS.

The real ``fal_client`` talks to it unchanged: ``tests/conftest.py`` calls :func:`prepare_environment` before
anything imports ``fal_client``, which sets ``FAL_QUEUE_RUN_HOST=127.0.0.1:<port>`` (read once, at import) and
``SSL_CERT_FILE`` (a bundle holding a ``trustme`` test CA; httpx reads it when a client is built). The upload
hosts are module constants, so the ``fal_upload_patch`` fixture (autouse) points ``fal_client.client.REST_URL``
and ``CDN_URL`` at the same server; ``tests/fal_server/launch_app.py`` does the same for an app subprocess.

Fixtures (``tests/fal_server/fixtures.py``)
    ``fal_server``  session-scoped :class:`~tests.fal_server.server.FalServer`, started on first use and reset
                    before every test (scripts, defaults, records, jobs, files).
    ``fal_key``     a key the server accepts; any other key gets 401 ``No user found for Key ID and Secret``.
    ``fal_upload_patch`` (autouse) the upload constants patched to the server.

Scripting (``FalServer``)
    ``script(match=None, times=None, **behaviour)`` applies ``behaviour`` to the next ``times`` submits (all when
    None) whose arguments contain ``match`` (e.g. ``{"seed": 7}``); the first live script that matches wins.
    ``set_default(**behaviour)`` changes the behaviour of every other submit; ``reset()`` forgets everything.
    Behaviour keys (see ``jobs.DEFAULT_BEHAVIOUR``):
        ``queue_polls`` / ``queue_wait``  answered polls / seconds in IN_QUEUE (both must pass); the position
                        counts down to 0 (``queue_step`` seconds per place for the time-based part)
        ``run_polls`` / ``run_time``      the same for IN_PROGRESS
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
    Records: ``requests`` (every request: method, path, query, headers, json, body_size), ``submits()``,
    ``uploads()``, ``state(request_id)`` → ``JobState(status, cancel_received, polls, arguments)``, ``url``.

Validation happens when the job runs, as on fal's queue: a bad argument or an unreadable image still gets a
request id, and the result GET answers 422 ``{"detail": [{"loc": ["body", field], "msg", "type"}]}``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

TEST_KEY = "clarity-test-key-id:0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Environment:
    """Where the test server lives: its bound socket, certificate files and base URL."""

    sock: socket.socket
    port: int
    cert_dir: Path
    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


_ENVIRONMENT: Environment | None = None


def prepare_environment() -> Environment:
    """Create the CA and server cert, bind a port, and set the env vars fal_client reads. Idempotent."""
    global _ENVIRONMENT
    if _ENVIRONMENT is not None:
        return _ENVIRONMENT
    import trustme

    cert_dir = Path(tempfile.mkdtemp(prefix="clarity-fal-tls-"))
    atexit.register(shutil.rmtree, cert_dir, True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
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

    os.environ["FAL_QUEUE_RUN_HOST"] = f"127.0.0.1:{port}"
    os.environ["FAL_RUN_HOST"] = f"127.0.0.1:{port}"
    os.environ["SSL_CERT_FILE"] = str(ca_file)
    os.environ["CLARITY_TEST_FAL_URL"] = f"https://127.0.0.1:{port}"  # read by launch_app.py
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in os.environ.get(name, "").split(",") if h]
        os.environ[name] = ",".join(hosts + ["127.0.0.1", "localhost"])
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        os.environ.pop(name, None)
    _ENVIRONMENT = Environment(sock, port, cert_dir, ca_file, cert_file, key_file)
    return _ENVIRONMENT
