"""A forward proxy for tests: tunnels to fal's host names end at the local test fal server, nothing else passes.

httpx — and so ``fal_client`` — honours ``HTTPS_PROXY``: for ``https://queue.fal.run/...`` it connects to the
proxy, sends ``CONNECT queue.fal.run:443 HTTP/1.1`` and, after a ``200``, speaks TLS through the tunnel,
checking the certificate against ``SSL_CERT_FILE`` (the test CA, whose server certificate names fal's hosts).
This proxy opens a tunnel only for a host in :data:`FAL_HOSTS` on port 443, and only ever to
``127.0.0.1:<upstream_port>``; any other target gets ``403`` and nothing is dialled, and plain-HTTP proxy
requests (``GET http://...``) get ``405``. It never resolves a name, so no test can reach the internet
through it. Standard library only (asyncio), on a daemon thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

# Every host fal_client 1.0.3 talks to with a key (fal_client/client.py and auth.py): the queue and the
# synchronous run host (``FAL_QUEUE_RUN_HOST`` / ``FAL_RUN_HOST`` defaults), their backup domains
# (``_BACKUP_DOMAINS``, tried when a connection fails), storage (``REST_URL``) and the CDN (``CDN_URL``), plus
# ``fal.media``, the CDN's older name that result URLs may still carry. ``auth.fal.ai`` (interactive login,
# never used with a key) is left out on purpose: the test server does not play it.
QUEUE_HOSTS = ("queue.fal.run", "queue.falrun.com")
RUN_HOSTS = ("fal.run", "falrun.com")
REST_HOSTS = ("rest.fal.ai",)
CDN_HOSTS = ("v3.fal.media", "fal.media")
FAL_HOSTS = frozenset(QUEUE_HOSTS + RUN_HOSTS + REST_HOSTS + CDN_HOSTS)

_HEAD_LIMIT = 16 * 1024
_CHUNK = 64 * 1024


class TunnelProxy:
    """``CONNECT <fal host>:443`` → a TCP tunnel to ``127.0.0.1:upstream_port``; everything else refused.

    ``tunnels`` and ``refused`` record the targets asked for (``host:port``), in order.
    """

    def __init__(self, upstream_port: int, hosts: frozenset[str] = FAL_HOSTS) -> None:
        self.upstream_port = upstream_port
        self.hosts = hosts
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The value for ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TunnelProxy:
        """Listen on a free loopback port and serve from a daemon thread; returns self."""
        loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fal-test-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open tunnel, then the loop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tunnels = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tunnels:
            task.cancel()
        await asyncio.gather(*tunnels, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                return
            if len(head) > _HEAD_LIMIT:
                return
            words = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(words) != 3 or words[0].upper() != "CONNECT":
                await _reply(writer, 405, "Method Not Allowed: this proxy only tunnels to fal's hosts")
                return
            target = words[1].lower()
            host, _, port = target.rpartition(":")
            if host.rstrip(".") not in self.hosts or port != "443":
                self.refused.append(target)
                await _reply(writer, 403, f"Forbidden: {target} is not one of fal's hosts")
                return
            try:
                upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            except OSError:
                await _reply(writer, 502, "Bad Gateway: the test fal server is not running")
                return
            self.tunnels.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            # Either side ending ends the tunnel (HTTP over TLS never half-closes).
            pipes = [asyncio.ensure_future(_pipe(reader, upstream)),
                     asyncio.ensure_future(_pipe(upstream_reader, writer))]
            _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await source.read(_CHUNK):
            sink.write(chunk)
            await sink.drain()


async def _reply(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = (text + "\n").encode()
    writer.write(f"HTTP/1.1 {status} {text.split(':')[0]}\r\ncontent-type: text/plain\r\n"
                 f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
    with contextlib.suppress(OSError):
        await writer.drain()
