"""The public API: ``/upscale``, ``/sweep``, ``/history``, ``/fetch`` and ``/dataset``, each its own hidden,
API-only event.

The page's own events are private (``api_visibility="private"``): their outputs carry what only the page needs (a
view state, the console's text), so a client that reads every output of an event (raw REST, the JavaScript client)
got three or four values where ``gradio_client`` and the API page said two. Here every endpoint has exactly the
outputs it documents, for every client, and its parameters are written from ``core/usecases/values.py`` (name,
type, default, required-ness): the same table that checks them.

Values reach the handler as the caller sent them (``RawValue`` passes JSON through untouched; Gradio's own
widgets would turn "false" into a ticked box or stop "bogus" with their own words before the app could name the
parameter), and become a request only through the use-case layer's ``.checked()``: a wrong type, an empty value,
NaN or infinity, a huge number or an unknown choice is refused naming the parameter, before anything runs.
Refusals are ``gr.Error``s without a traceback (``components/common/refusal.py``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr
import pandas as pd
from gradio.data_classes import FileData
from gradio_client.utils import is_file_obj_with_meta

from components.api import tool_docs
from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.history.history_panel import history_page
from components.upscale.action import download_name, result_json
from core import usecases
from core.errors import StudioError
from core.runs.runs import Run
from core.usecases import DatasetQuery, FetchQuery, HistoryQuery, RunRequest, SweepRequest, export, quote
from core.usecases.values import ANY, ENDPOINTS, Param, shown

DESCRIPTIONS = {
    "upscale": "Upscale one picture (a file, or image_url) on an engine: fal-ai/clarity-upscaler (fal), Real-ESRGAN "
               "(local) or a Lanczos resize (lanczos). Returns the output PNG and the result JSON (image, seed, "
               "timings, request id, run id, status).",
    "sweep": "Run a grid of upscales over one or two axes (X/Y plot syntax) and return the cells' CSV and the "
             "contact sheet. Above the confirmation limits it runs only with confirm=true.",
    "history": "Your runs, newest first, one row each: every endpoint field, the seed used, size, duration, "
               "request id, status, engine. Page with offset and limit.",
    "fetch": "A run by its run id or fal request id: its output PNG and result JSON (a pending fal request is "
             "followed to its end).",
    "dataset": "Your finished runs as a Hugging Face dataset: a zip in the imagefolder layout (the pictures and a "
               "metadata.jsonl with every parameter, seed, engine, model, request id, timings; a sweep's also its "
               "axes and metrics). A sweep by sweep_id, or your history filtered by search, status and engine.",
    "sweep_price": "Price a sweep before running it (the same parameters as sweep, without confirm): cells, output "
                   "megapixels, price in USD, estimated time, whether sweep needs confirm=true, and whether this "
                   "Space's key would refuse it or what is left of today's budget. Nothing runs, nothing is spent.",
}


class RawValue(gr.JSON):
    """An API-only input that hands the handler the JSON value the caller sent, untouched, and tells the API
    page and the clients the parameter's declared type (``Param.json_schema``)."""

    is_template = True  # never drawn: it lives in a hidden column
    param: Param  # set by ``_input`` (Gradio writes a component's constructor arguments into the page's config)

    def preprocess(self, payload: Any) -> Any:
        return payload

    def postprocess(self, value: Any) -> Any:  # only its default is ever written: kept as it is ("" stays "")
        return value

    def api_info(self) -> dict[str, Any]:
        return self.param.json_schema()

    def example_payload(self) -> Any:
        return self.param.default

    def example_value(self) -> Any:
        return self.param.default


class RawFile(gr.File):
    """The picture as an API-only input: any file, whatever its name or type (the app reads it by its content);
    a value that is not a file is refused naming the parameter.

    Gradio validates an input against its component's data model before ``preprocess``, and a string or a number
    for a file failed there with a blank error; so the model is kept aside (``data_model`` is None to Gradio) and
    applied here. Gradio still checks, before that, that a file it is given lies in its upload folder."""

    is_template = True
    param: Param
    _model: Any = FileData

    @property
    def data_model(self) -> Any:
        return None

    @data_model.setter
    def data_model(self, model: Any) -> None:  # gr.File.__init__ sets it
        self._model = model

    def api_info(self) -> dict[str, Any]:
        schema = self._model.model_json_schema()
        schema["additional_description"] = schema.pop("description", None)
        return schema

    def preprocess(self, payload: Any) -> Any:
        if payload is None:
            return None
        try:
            if not is_file_obj_with_meta(payload):
                raise ValueError("not a file")
            return super().preprocess(self._model.model_validate(payload, context={"validate_meta": True}))
        except Exception:  # a string, a number, a dict that is not a file: Gradio's own words name nothing
            raise refused(f"{self.param.name} must be {self.param.takes()}, got {shown(payload)}; upload it "
                          "(gradio_client's handle_file, a File in JavaScript) or give image_url.",
                          visible=False) from None


def _input(param: Param) -> gr.components.Component:
    """The hidden input of one parameter."""
    made: RawFile | RawValue
    if param.kind == "file":
        made = RawFile(label=param.name, type="filepath", visible=False)
    else:
        made = RawValue(param.default, label=param.name, visible=False)
    made.param = param
    return made


def _endpoint(params: tuple[Param, ...], run: Callable[[dict[str, Any], Session], Awaitable[Any]],
              name: str) -> Callable[..., Awaitable[Any]]:
    """A handler named ``name`` whose signature is ``params`` (Gradio names an API's parameters after its
    function's), that calls ``run(values by name, session)`` and turns a refusal into a message."""
    names = [param.name for param in params]

    async def handler(*args: Any) -> Any:  # Gradio calls it with the values in order, the session, the request
        extra = list(args[len(names):]) + [None, None]
        session = for_request(extra[0], extra[1])
        try:
            return await run(dict(zip(names, args, strict=False)), session)
        except StudioError as exc:  # refused before anything was sent, or the run failed: its own words
            raise refused(str(exc)) from None

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(param.name, keyword, default="" if param.required else param.default, annotation=Any)
         for param in params]  # a required one's "" (not None) keeps it required on the API page
        + [inspect.Parameter("session", keyword, default=None, annotation=Session),
           inspect.Parameter("request", keyword, default=None, annotation=gr.Request)])
    handler.__annotations__ = {param.name: Any for param in params} | {"session": Session, "request": gr.Request}
    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = tool_docs.docstring(DESCRIPTIONS[name], params)  # each parameter's line: MCP tools read it
    return handler


def _finished(run: Run | None, what: str) -> tuple[str | None, dict[str, Any]]:
    if run is None:
        raise StudioError(f"The {what} did not start.")
    if run.status != "completed" or not run.output_path:
        raise StudioError(run.error or f"The {what} did not complete ({run.status}).")
    return servable(run.output_path, download_name(run)), result_json(run)


async def upscale(values: dict[str, Any], session: Session) -> tuple[str | None, dict[str, Any]]:
    """``/upscale``: the output PNG and the result JSON."""
    asked = RunRequest.checked(values)
    run = None
    async for update in usecases.run_one(asked, session):
        run = update.run
    return _finished(run, "run")


async def sweep(values: dict[str, Any], session: Session) -> tuple[str | None, str | None]:
    """``/sweep``: the cells' CSV and the contact sheet."""
    asked = SweepRequest.checked(values)
    last = None
    async for progress in usecases.run_sweep(asked, session):
        last = progress
    if last is None or not last.finished:
        raise StudioError("The sweep did not finish.")
    return (servable(last.csv) if last.csv else None), (servable(last.sheet) if last.sheet else None)


async def history(values: dict[str, Any], session: Session) -> pd.DataFrame:
    """``/history``: a page of the caller's runs, newest first."""
    return history_page(HistoryQuery.checked(values), session)


async def fetch(values: dict[str, Any], session: Session) -> tuple[str | None, dict[str, Any]]:
    """``/fetch``: a run's output PNG and result JSON, by run id or request id."""
    asked = FetchQuery.checked(values)
    run = None
    async for update in usecases.fetch(asked.request_id, session):
        run = update.run
    return _finished(run, "request")


async def dataset(values: dict[str, Any], session: Session) -> str | None:
    """``/dataset``: an imagefolder zip of a sweep's finished cells or of the caller's filtered history."""
    asked = DatasetQuery.checked(values)
    if asked.sweep_id:
        written = await asyncio.to_thread(export.sweep_dataset, asked.sweep_id, session)
    else:
        written = await asyncio.to_thread(
            export.history_dataset, session, asked.search, None if asked.status == ANY else asked.status,
            None if asked.engine == ANY else asked.engine)
    return servable(str(written.path), written.path.name)


def _outputs(name: str) -> list[gr.components.Component]:
    if name in ("upscale", "fetch"):
        return [gr.File(label="Output PNG", visible=False), gr.JSON(label="Result", visible=False)]
    if name == "sweep":
        return [gr.File(label="Cells CSV", visible=False),
                gr.Image(label="Contact sheet", type="filepath", format="png", visible=False)]
    if name == "dataset":
        return [gr.File(label="Dataset zip", visible=False)]
    if name == "sweep_price":
        return [gr.JSON(label="Quote", visible=False)]
    return [gr.Dataframe(label="Runs", visible=False)]


async def sweep_price(values: dict[str, Any], session: Session) -> dict[str, Any]:
    """``/sweep_price``: a sweep's quote (``core/usecases/quote.py``), nothing run."""
    asked = SweepRequest.checked(values)
    return (await asyncio.to_thread(quote.quote_sweep, asked, session)).as_json()


RUNS: dict[str, Callable[[dict[str, Any], Session], Awaitable[Any]]] = {
    "upscale": upscale, "sweep": sweep, "history": history, "fetch": fetch, "dataset": dataset,
    "sweep_price": sweep_price}


def build(session: gr.State) -> None:
    """The public endpoints, each an API-only event on hidden components (call inside the Blocks, before any
    other event takes their names). ``session`` is the browser session (a ``gr.State``: no part of the API): a
    caller the page has identified keeps its identity; any other gets one from its Gradio session."""
    with gr.Column(visible=False, elem_id="public-api"):
        trigger = gr.Button(visible=False)
        for name, params in ENDPOINTS.items():
            inputs = [*(_input(param) for param in params), session]
            trigger.click(_endpoint(params, RUNS[name], name), inputs, _outputs(name), api_name=name,
                          api_description=tool_docs.description(name, DESCRIPTIONS[name]), concurrency_limit=None,
                          show_progress="hidden", queue=True)

