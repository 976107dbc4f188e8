"""Reliability suite fixtures: the tried/handled/lost tally, an HTTPS web server for URL cases, a network guard.

Self-contained on purpose (the root ``tests/conftest.py`` is the lead's): every test here is one *case* in a
category (``@pytest.mark.reliability("category")``, else its module's); a test may weigh more than one case
(``case.tried = 20`` for twenty sessions). A passing test counts its cases as handled; a failing one counts
them as lost, less any it declared handled (``case.handled``). The figures are printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from testsupport.fal_server import prepare_environment

MODULE_CATEGORIES = {"test_hostile_inputs": "hostile files", "test_fal_faults": "fal faults", "test_load": "load",
                     "test_field_reports": "field reports", "test_resources": "resource",
                     "test_account_messages": "account message", "test_configuration": "configuration",
                     "test_loose_values": "loose value"}
# (other modules' tests name their kind: transparency, metadata…)
_TALLY = pytest.StashKey["Tally"]()


@dataclass
class Case:
    """One test's cases: how many were tried, and how many it already knows were handled."""

    category: str
    tried: int = 1
    handled: int | None = None  # None: all of them when the test passes, none when it fails


@dataclass
class Tally:
    """tried / handled / lost per category, for the whole session."""

    rows: dict[str, list[int]] = field(default_factory=dict)

    def add(self, category: str, tried: int, handled: int) -> None:
        row = self.rows.setdefault(category, [0, 0, 0])
        row[0] += tried
        row[1] += handled
        row[2] += tried - handled

    def lines(self) -> list[str]:
        width = max([len(name) for name in self.rows] + [5])
        out = [f"{'category':<{width}}  tried / handled / lost"]
        totals = [0, 0, 0]
        for name, (tried, handled, lost) in sorted(self.rows.items()):
            out.append(f"{name:<{width}}  {tried:5d} / {handled:7d} / {lost:4d}")
            totals = [a + b for a, b in zip(totals, (tried, handled, lost), strict=True)]
        out.append(f"{'total':<{width}}  {totals[0]:5d} / {totals[1]:7d} / {totals[2]:4d}")
        return out


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability(category): the tally category of a reliability case")
    config.stash[_TALLY] = Tally()


@pytest.fixture(autouse=True)
def case(request: pytest.FixtureRequest) -> Case:
    """This test's entry in the tally (autouse: every reliability test counts)."""
    marker = request.node.get_closest_marker("reliability")
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    return Case(marker.args[0] if marker else MODULE_CATEGORIES.get(module, module))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    found = getattr(item, "funcargs", {}).get("case")
    if not isinstance(found, Case) or getattr(item, "_tallied", False):
        return
    if report.when == "call" or (report.when == "setup" and report.failed):
        item._tallied = True  # type: ignore[attr-defined]
        if report.skipped:
            return
        handled = found.tried if report.passed else min(found.handled or 0, found.tried)
        item.config.stash[_TALLY].add(found.category, found.tried, handled)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is None or not tally.rows:
        return
    terminalreporter.section("reliability: tried / handled / lost")
    for line in tally.lines():
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _no_public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """safehttpx asks dns.google about a host that resolves to a private address: never from a test."""
    import safehttpx

    async def nothing(hostname: str) -> list[str]:
        return []

    monkeypatch.setattr(safehttpx, "async_resolve_hostname_google", nothing)


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared mode for this test's calls (``core.config.shared_mode()`` is read per call)."""
    monkeypatch.setenv("CLARITY_SHARED", "1")


@pytest.fixture
def only_the_test_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """safehttpx accepts the test server by its name ``localhost`` and nothing else private (not even 127.0.0.1)."""
    import safehttpx

    original = safehttpx.async_validate_url

    async def validate(hostname: str) -> str:
        return "127.0.0.1" if hostname == "localhost" else await original(hostname)

    monkeypatch.setattr(safehttpx, "async_validate_url", validate)


# -- an HTTPS web server on loopback for the URL cases (the fal test server's certificate) ---------------------

def png_bytes(size: tuple[int, int] = (32, 24), colour: tuple[int, int, int] = (200, 60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class WebServer:
    """Where the web server listens: ``url`` (127.0.0.1) and ``named_url`` (localhost), and what it was asked."""

    port: int
    hits: list[str] = field(default_factory=list)
    streamed: int = 0  # chunks of /huge-stream.png sent so far

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def named_url(self) -> str:
        return f"https://localhost:{self.port}"


def _web_app(server: WebServer) -> Starlette:
    image = png_bytes()

    async def record(request: Request) -> None:
        server.hits.append(request.url.path)

    async def picture(request: Request) -> Response:
        await record(request)
        return Response(image, media_type="image/png")

    async def octet(request: Request) -> Response:
        await record(request)
        return Response(image, media_type="application/octet-stream")

    async def page(request: Request) -> Response:
        await record(request)
        return Response("<html><body>not a picture</body></html>", media_type="text/html")

    async def fake_png(request: Request) -> Response:
        await record(request)
        return Response(b"this is text pretending to be a PNG", media_type="image/png")

    async def missing(request: Request) -> Response:
        await record(request)
        return Response("Not Found", status_code=404)

    async def slow(request: Request) -> Response:
        await record(request)
        await asyncio.sleep(float(request.query_params.get("seconds", 120)))  # 120: never, for any test
        return Response(image, media_type="image/png")

    async def redirect(request: Request) -> Response:
        await record(request)
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def loop(request: Request) -> Response:
        await record(request)
        return RedirectResponse("/loop", status_code=302)

    async def huge_declared(request: Request) -> Response:  # says 1 GB up front; never sends it
        await record(request)
        return Response(image, media_type="image/png", headers={"content-length": str(2**30)})

    async def huge_stream(request: Request) -> Response:  # no length given: 64 KiB chunks, 64 MiB in all
        await record(request)
        server.streamed = 0

        async def chunks():
            for _ in range(1024):  # paced, so the count shows how far a client had read when it stopped
                server.streamed += 1
                yield b"\x89PNG" + bytes(65532)
                await asyncio.sleep(0.005)

        return StreamingResponse(chunks(), media_type="image/png")

    return Starlette(routes=[Route("/image.png", picture), Route("/image.bin", octet), Route("/page.html", page),
                             Route("/fake.png", fake_png), Route("/missing.png", missing), Route("/slow", slow),
                             Route("/redirect", redirect), Route("/loop", loop),
                             Route("/huge-declared.png", huge_declared), Route("/huge-stream.png", huge_stream)])


@pytest.fixture(scope="session")
def web() -> Iterator[WebServer]:
    """A small HTTPS web server on loopback (trusted through SSL_CERT_FILE), serving the URL cases."""
    environment = prepare_environment()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = WebServer(sock.getsockname()[1])
    config = uvicorn.Config(_web_app(server), ssl_certfile=str(environment.cert_file),
                            ssl_keyfile=str(environment.key_file), log_level="critical", lifespan="off",
                            timeout_graceful_shutdown=1)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, name="reliability-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the reliability web server did not start")
        time.sleep(0.01)
    yield server
    runner.should_exit = runner.force_exit = True
    thread.join(timeout=5)
