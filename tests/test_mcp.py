"""The app as an MCP server, through the official ``mcp`` Python client, as an assistant would use it: the tools it
lists and what they say, a picture upscaled on the local engine, and on a shared app the API's rules for MCP
callers — each MCP session its own visitor, walls between them, limits per address, the Space's key only when its
owner turns it on, and then its budget; a caller's own key in a header, never echoed."""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.types import CallToolResult, ImageContent, TextContent
from PIL import Image

from components.common.session import Session
from core.runs.store import store as stored_history
from core.sharing import identity
from core.usecases import key_refusal
from core.usecases.values import ENDPOINTS
from tests.conftest import launched_app
from tests.reliability import noise_png


def endpoint(base_url: str) -> str:
    """The MCP endpoint (streamable HTTP) of the app at ``base_url``, as the README gives it."""
    return base_url.rstrip("/") + "/gradio_api/mcp/"


class Caller:
    """One MCP session: an assistant connected to the app."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.session.call_tool(tool, arguments)

    async def follow(self, tool: str, **arguments: Any) -> CallToolResult:
        """The call with a progress token, as assistants that show progress make it: each output its own content."""
        return await self.session.call_tool(tool, arguments, progress_callback=_progress)


async def _with_callers(base_url: str, headers: list[dict[str, str]],
                        body: Callable[..., Awaitable[None]]) -> None:
    async with AsyncExitStack() as stack:
        callers = []
        for each in headers:
            read, write, _ = await stack.enter_async_context(streamablehttp_client(endpoint(base_url), headers=each))
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            callers.append(Caller(session))
        await body(*callers)


def with_callers(base_url: str, *headers: dict[str, str]) -> Callable[[Callable[..., Awaitable[None]]], None]:
    """Run the decorated coroutine with one connected ``Caller`` per header set given."""
    return lambda body: asyncio.run(_with_callers(base_url, list(headers), body))


def texts(result: CallToolResult) -> list[str]:
    return [part.text for part in result.content if isinstance(part, TextContent)]


def error(result: CallToolResult) -> str:
    assert result.isError, texts(result)
    return " ".join(texts(result))


def result_json(result: CallToolResult) -> dict[str, Any]:
    """The result JSON of /upscale or /fetch, as the tool's last text (Gradio writes it as a Python literal; asked
    without a progress token, both outputs come as one text: the PNG's file data, with its URL, and the JSON)."""
    assert not result.isError, texts(result)
    value = ast.literal_eval(texts(result)[-1])
    value = value[-1] if isinstance(value, list) else value
    assert isinstance(value, dict)
    return value


async def _progress(progress: float, total: float | None, message: str | None) -> None:
    pass


def history_ids(result: CallToolResult) -> list[str]:
    assert not result.isError, texts(result)
    shown = ast.literal_eval(texts(result)[-1])  # /history's two outputs, the table and its page
    table = shown[0] if isinstance(shown, list) else shown
    column = table["headers"].index("id")
    return [row[column] for row in table["data"]]


def data_uri(path: str) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


@pytest.fixture
def photo(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return noise_png(tmp_path / "photo.png", (40, 30), seed=zlib.crc32(request.node.name.encode()))


# -- a local app --------------------------------------------------------------------------------------------------

def test_an_assistant_lists_the_tools_with_what_each_parameter_takes(studio: str) -> None:
    @with_callers(studio, {})
    async def _(assistant: Caller) -> None:
        tools = {tool.name: tool for tool in (await assistant.session.list_tools()).tools}
        assert set(tools) == set(ENDPOINTS)  # every public endpoint, and nothing else (not the page's events)
        assert {"upscale", "sweep", "sweep_price", "history", "fetch", "dataset"} <= set(tools)
        upscale = tools["upscale"]
        assert "$0.03 per output megapixel" in (upscale.description or "")
        factor = upscale.inputSchema["properties"]["upscale_factor"]
        assert (factor["minimum"], factor["maximum"], factor["default"]) == (1, 4, 2)
        assert "How many times wider and taller" in factor["description"]
        assert "from 1 to 4" in factor["description"] and "default: 2" in factor["description"]
        assert "unit: times the input's width and height" in factor["description"]
        assert "data: URI" in upscale.inputSchema["properties"]["image"]["description"]
        engine = upscale.inputSchema["properties"]["engine"]["description"]
        assert "fal $0.03 per output megapixel" in engine and "default: 'local'" in engine
        seed = upscale.inputSchema["properties"]["seed"]["description"]
        assert "null (random)" in seed
        confirm = tools["sweep"].inputSchema["properties"]["confirm"]["description"]
        assert "true or false" in confirm and "default: false" in confirm
        assert "confirm=true" in (tools["sweep"].description or "")
        assert tools["fetch"].inputSchema["required"] == ["request_id"]


def test_an_assistant_upscales_a_picture_on_the_local_engine_and_fetches_it_again(studio: str, photo: str) -> None:
    @with_callers(studio, {})
    async def _(assistant: Caller) -> None:
        done = await assistant.follow("upscale", image=data_uri(photo), upscale_factor=2, engine="local")
        result = result_json(done)
        assert (result["status"], result["image"]["width"], result["image"]["height"]) == ("completed", 80, 60)
        pictures = [part for part in done.content if isinstance(part, ImageContent)]  # the picture itself
        assert len(pictures) == 1 and pictures[0].mimeType == "image/png"
        assert Image.open(io.BytesIO(base64.b64decode(pictures[0].data))).size == (80, 60)
        url = next(text.removeprefix("Image URL: ") for text in texts(done) if text.startswith("Image URL: "))
        async with httpx.AsyncClient() as web:  # and a URL to download it from
            assert Image.open(io.BytesIO((await web.get(url)).content)).size == (80, 60)
        plain = await assistant.call("upscale", image=data_uri(photo), upscale_factor=1.5, engine="local")
        assert "/gradio_api/file=" in texts(plain)[0] and result_json(plain)["image"]["width"] == 60
        again = result_json(await assistant.call("fetch", request_id=result["run_id"]))
        assert again["run_id"] == result["run_id"]
        assert result["run_id"] in history_ids(await assistant.call("history", limit=5))


def test_an_assistant_gives_the_picture_as_an_https_url(studio: str, photo: str, fal_server, fal_key: str) -> None:
    import fal_client

    url = fal_client.SyncClient(key=fal_key).upload_file(photo)  # a picture on a CDN (the test server's)
    assert url.startswith("https://")

    @with_callers(studio, {})
    async def _(assistant: Caller) -> None:
        result = result_json(await assistant.call("upscale", image_url=url, upscale_factor=2, engine="lanczos"))
        assert (result["image"]["width"], result["image"]["height"]) == (80, 60)


def test_a_bad_value_is_refused_over_mcp_too_before_anything_runs(studio: str, photo: str) -> None:
    @with_callers(studio, {})
    async def _(assistant: Caller) -> None:
        # the tool's JSON schema stops a wrong type first (the MCP server's own check), the app's checks the rest
        said = error(await assistant.call("sweep", image=data_uri(photo), engine="local", x_axis="upscale_factor",
                                          x_values="1, 2", confirm="false"))
        assert "'false' is not of type 'boolean'" in said
        said = error(await assistant.call("upscale", image=data_uri(photo), engine="gpu"))
        assert "'gpu' is not one of ['fal', 'local', 'lanczos']" in said
        said = error(await assistant.call("upscale", image=data_uri(photo), engine="local", num_inference_steps=18.0))
        assert "num_inference_steps must be a whole number from 4 to 50, got 18.0" in said
        assert history_ids(await assistant.call("history", limit=5)) == []  # nothing ran


def test_an_assistant_prices_a_small_sweep_then_runs_it(studio: str, photo: str) -> None:
    @with_callers(studio, {})
    async def _(assistant: Caller) -> None:
        sweep = {"image": data_uri(photo), "x_axis": "upscale_factor", "x_values": "1, 2"}
        quote = result_json(await assistant.call("sweep_price", engine="fal", **sweep))
        assert (quote["cells"], quote["needs_confirm"]) == (2, False)
        assert quote["output_megapixels"] == pytest.approx((40 * 30 + 80 * 60) / 1e6)
        assert quote["price_usd"] == pytest.approx(quote["output_megapixels"] * 0.03)
        big = result_json(await assistant.call("sweep_price", engine="local", image=data_uri(photo),
                                               x_axis="upscale_factor", x_values="1-3 [20]", y_axis="", y_values=""))
        assert (big["cells"], big["price_usd"], big["needs_confirm"]) == (20, 0, True)
        assert "confirm" in error(await assistant.call("sweep", engine="lanczos", image=data_uri(photo),
                                                       x_axis="upscale_factor", x_values="1-3 [20]"))
        ran = await assistant.follow("sweep", engine="lanczos", **sweep)
        assert not ran.isError, texts(ran)
        sheet = next(part for part in ran.content if isinstance(part, ImageContent))  # the contact sheet
        assert Image.open(io.BytesIO(base64.b64decode(sheet.data))).width > 80
        assert len(history_ids(await assistant.call("history", engine="lanczos"))) == 2


# -- a shared app (a Space) -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLARITY_SHARED", "1")
        patch.setenv("CLARITY_DATA_DIR", str(tmp_path_factory.mktemp("space")))  # what the app writes as it is built
        demo, url = launched_app()
    yield url
    demo.close()


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_SHARED", "1")
    monkeypatch.setenv("CLARITY_PROXY_HOPS", "1")  # behind a Space's proxy: the address is X-Forwarded-For's


@pytest.fixture
def space_key(shared: None, monkeypatch: pytest.MonkeyPatch, fal_key: str) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)


def at(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


def test_two_mcp_callers_never_see_each_others_runs(space: str, shared: None, photo: str) -> None:
    @with_callers(space, at("198.51.100.30"), at("198.51.100.31"))
    async def _(alice: Caller, bob: Caller) -> None:
        run_id = result_json(await alice.call("upscale", image=data_uri(photo), engine="local"))["run_id"]
        assert history_ids(await alice.call("history")) == [run_id]  # her session keeps her runs
        assert history_ids(await bob.call("history")) == []
        assert history_ids(await bob.call("history", search=run_id)) == []
        assert "not" in error(await bob.call("fetch", request_id=run_id)).lower()
        assert error(await bob.call("dataset", search=run_id))  # nothing of hers to export
        mine = result_json(await bob.call("upscale", image=data_uri(photo), engine="lanczos"))["run_id"]
        assert history_ids(await alice.call("history")) == [run_id]  # his run is not hers either
        assert history_ids(await bob.call("history")) == [mine]

    owners = {run.owner for run in stored_history().runs(None)}
    assert len(owners) == 2 and all(owners)


def test_on_the_older_sse_transport_too_each_session_is_its_own_visitor(space: str, shared: None, photo: str) -> None:
    async def both() -> None:
        async with AsyncExitStack() as stack:
            sessions = []
            for address in ("198.51.100.40", "198.51.100.41"):
                read, write = await stack.enter_async_context(
                    sse_client(space.rstrip("/") + "/gradio_api/mcp/sse", headers=at(address)))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                sessions.append(Caller(session))
            alice, bob = sessions
            run_id = result_json(await alice.call("upscale", image=data_uri(photo), engine="lanczos"))["run_id"]
            assert history_ids(await alice.call("history")) == [run_id]
            assert history_ids(await bob.call("history")) == []

    asyncio.run(both())


def test_a_new_mcp_session_is_a_new_visitor(space: str, shared: None, photo: str) -> None:
    @with_callers(space, at("198.51.100.32"))
    async def first(assistant: Caller) -> None:
        assert result_json(await assistant.call("upscale", image=data_uri(photo), engine="lanczos"))

    @with_callers(space, at("198.51.100.32"))
    async def later(assistant: Caller) -> None:
        assert history_ids(await assistant.call("history")) == []


def test_a_forged_session_id_or_caller_mark_gets_a_stranger(space: str, shared: None, photo: str) -> None:
    ran: list[str] = []

    @with_callers(space, at("198.51.100.33"))
    async def alice(assistant: Caller) -> None:
        ran.append(result_json(await assistant.call("upscale", image=data_uri(photo), engine="lanczos"))["run_id"])

    owner = next(run.owner for run in stored_history().runs(None) if run.id == ran[0])
    forged = {"Mcp-Session-Id": f"{owner}.{'0' * 64}", "X-Clarity-MCP-Caller": f"{owner} 198.51.100.33 {'0' * 64}"}

    @with_callers(space, at("198.51.100.34", **forged))
    async def mallory(intruder: Caller) -> None:
        assert history_ids(await intruder.call("history")) == []
        assert error(await intruder.call("fetch", request_id=ran[0]))


def test_mcp_callers_are_limited_per_address_like_anonymous_visitors(space: str, shared: None, photo: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_RUNS_PER_MINUTE", "1")

    @with_callers(space, at("198.51.100.35"), at("198.51.100.35"), at("198.51.100.36"))
    async def _(first: Caller, same_address: Caller, elsewhere: Caller) -> None:
        assert result_json(await first.call("upscale", image=data_uri(photo), engine="lanczos"))
        said = error(await same_address.call("upscale", image=data_uri(photo), engine="lanczos"))
        assert "a minute" in said
        assert result_json(await elsewhere.call("upscale", image=data_uri(photo), engine="lanczos"))


def test_the_spaces_key_is_not_offered_over_mcp_unless_its_owner_turns_it_on(space: str, space_key: None,
                                                                              photo: str, fal_server) -> None:
    @with_callers(space, at("198.51.100.37"))
    async def _(assistant: Caller) -> None:
        said = error(await assistant.call("upscale", image=data_uri(photo), engine="fal"))
        assert "not offered to MCP tool calls" in said and "X-Fal-Key" in said
        quote = result_json(await assistant.call("sweep_price", image=data_uri(photo), engine="fal",
                                                 x_axis="upscale_factor", x_values="1, 2"))
        assert "not offered to MCP tool calls" in quote["refused"]
        assert result_json(await assistant.call("upscale", image=data_uri(photo), engine="local"))

    assert fal_server.requests == []  # not a submit, not an upload


def test_with_the_owners_consent_an_mcp_caller_spends_within_the_budget(space: str, space_key: None, photo: str,
                                                                        fal_server, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", "1")
    monkeypatch.setenv("CLARITY_VISITOR_DAILY_BUDGET_USD", "0.0001")  # less than one 40×30 → 80×60 run

    @with_callers(space, at("198.51.100.38"))
    async def _(assistant: Caller) -> None:
        said = error(await assistant.call("upscale", image=data_uri(photo), engine="fal"))
        assert "your daily budget on this Space's fal key has $0.0001 left" in said
        said = error(await assistant.call("sweep", image=data_uri(photo), engine="fal", x_axis="seed",
                                          x_values="1, 2", confirm=True))
        assert "your daily budget" in said

    assert fal_server.requests == []


def test_a_new_mcp_session_brings_no_new_budget_from_the_same_address(space: str, space_key: None, photo: str,
                                                                     fal_server, monkeypatch) -> None:
    monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", "1")
    monkeypatch.setenv("CLARITY_VISITOR_DAILY_BUDGET_USD", "0.0002")  # one 40×30 → 80×60 run ($0.000144), not two
    fal_server.set_default(queue_polls=1, run_polls=1)

    @with_callers(space, at("198.51.100.42"), at("198.51.100.42"), at("198.51.100.43"))
    async def _(first: Caller, again: Caller, elsewhere: Caller) -> None:
        assert result_json(await first.call("upscale", image=data_uri(photo), engine="fal"))["status"] == "completed"
        assert "your daily budget" in error(await again.call("upscale", image=data_uri(photo), engine="fal"))
        assert result_json(await elsewhere.call("upscale", image=data_uri(photo), engine="fal"))["engine"] == "fal"


def test_an_mcp_callers_own_key_comes_in_a_header_and_is_never_echoed(space: str, space_key: None, photo: str,
                                                                      fal_server, fal_key: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fal_server.set_default(queue_polls=1, run_polls=1)

    @with_callers(space, at("198.51.100.39", **{"X-Fal-Key": fal_key}))
    async def _(assistant: Caller) -> None:
        done = await assistant.call("upscale", image=data_uri(photo), engine="fal")
        result = result_json(done)
        assert result["status"] == "completed"
        table = await assistant.call("history")
        for said in texts(done) + texts(table):
            assert fal_key not in said and fal_key.split(":")[-1] not in said

    assert fal_server.requests  # it reached fal, on the caller's own key
    for run in stored_history().runs(None):
        assert fal_key not in repr(vars(run))
    assert fal_key not in caplog.text and fal_key.split(":")[-1] not in caplog.text


# -- the rules themselves ---------------------------------------------------------------------------------------------

def test_only_a_mark_the_server_signed_names_an_mcp_caller() -> None:
    owner = "a" * 32
    mark = identity.mcp_caller_mark(owner, "198.51.100.50")
    assert identity.mcp_caller(mark) == (owner, "198.51.100.50")
    altered = mark.replace("198.51.100.50", "198.51.100.51")  # another address under the same signature
    assert identity.mcp_caller(altered) is None
    assert identity.mcp_caller(f"{owner} 198.51.100.50 {'0' * 64}") is None
    assert identity.mcp_caller(identity.issue()[1]) is None  # a browser token is not a caller mark
    assert identity.mcp_caller(None) is None


def test_the_spaces_key_rule_for_mcp_callers_and_its_switch(space_key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    caller = Session(shared=True, owner="b" * 32, address="198.51.100.52", mcp=True)
    browser = Session(shared=True, owner="c" * 32, address="198.51.100.52")
    assert "CLARITY_MCP_USES_SPACE_KEY" in (key_refusal(caller) or "")
    assert key_refusal(browser) is None
    for unclear in ("maybe", ""):  # neither on nor off: the key stays kept
        monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", unclear)
        assert key_refusal(caller)
    monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", "1")
    assert key_refusal(caller) is None
    own = Session(shared=True, owner="d" * 32, mcp=True, typed_key="their:own")
    monkeypatch.delenv("CLARITY_MCP_USES_SPACE_KEY")
    assert key_refusal(own) is None  # a caller's own key is theirs to spend


def test_the_switch_on_where_it_cannot_apply_is_said_at_start(monkeypatch: pytest.MonkeyPatch, fal_key: str) -> None:
    from core import config_check

    def said() -> str:
        return " ".join(f.line for f in config_check.check() if f.variable == "CLARITY_MCP_USES_SPACE_KEY")

    monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", "1")
    assert "no FAL_KEY" in said()
    monkeypatch.setenv("FAL_KEY", fal_key)
    assert "single-user app" in said()
    monkeypatch.setenv("CLARITY_SHARED", "1")
    assert said() == ""
    monkeypatch.setenv("CLARITY_MCP_USES_SPACE_KEY", "maybe")
    assert "using off (MCP callers bring their own key" in said()
