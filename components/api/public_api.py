"""The public API: ``/upscale``, ``/sweep``, ``/history``, ``/fetch``, ``/dataset``, ``/cells``, ``/status``,
``/cancel`` and ``/retry``, each its own hidden, API-only event.

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
from components.api.sample_photo import SAMPLE, sample_photo
from components.common.files import servable
from components.common.refusal import refused
from components.common.session import Session, for_request
from components.history.history_panel import history_page, history_total
from components.upscale.action import download_name, result_json
from core import usecases
from core.errors import StudioError
from core.runs.runs import Run
from core.usecases import DatasetQuery, FetchQuery, HistoryQuery, IdQuery, RunRequest, SweepRequest, control, export
from core.usecases.estimate import dry_run
from core.usecases.quote import quote_sweep
from core.usecases.sweep import finished
from core.usecases.values import ANY, CELLS, ENDPOINTS, EXAMPLES, LATEST, Param, shown

DESCRIPTIONS = {
    "upscale": "Upscale one picture (a file, or image_url) on an engine: fal-ai/clarity-upscaler (fal), Real-ESRGAN "
               "(local) or a Lanczos resize (lanczos). Returns the output PNG and the result JSON (image, seed, "
               "timings, request id, run id, status).",
    "sweep": "Run a grid of upscales over up to four axes (X, Y, then Z and W; A1111's X/Y/Z plot syntax) and "
             "return the cells' CSV, the contact sheet (one grid per Z and W value) and a summary (sweep_id, cells "
             "by status). "
             "Above the confirmation limits it runs only "
             "with confirm=true. dry_run=true prices it without running it: the summary is the pre-flight (cells, "
             "output megapixels, price, time estimate) and there is no CSV or sheet.",
    "history": "Your runs, newest first, one row each: every endpoint field, the seed used, size, duration, "
               "request id, status, engine. Page with offset and limit: the second output gives the total and "
               "the next offset (null on the last page).",
    "fetch": "A run by its run id or request id (any engine), or 'latest': its output PNG and result JSON (a "
             "pending fal request is followed to its end).",
    "dataset": "Your finished runs as a Hugging Face dataset: a zip in the imagefolder layout (the pictures and a "
               "metadata.jsonl with every parameter, seed, engine, model, request id, timings; a sweep's also its "
               "axes and metrics). A sweep by sweep_id, or your history filtered by search, status and engine.",
    "cells": "A sweep's cells by its sweep_id (or 'latest'): every finished cell's picture, captioned with its "
             "label, and the sweep's status with each cell's label, run id, status and result.",
    "status": "Where a run or sweep of yours stands, by run id, request id, sweep id or 'latest': its status, "
              "engine, error and times; a sweep's cells counted by status.",
    "cancel": "Cancel a run or sweep of yours that is going, by id (a sweep's cell: its sweep); returns where it "
              "stands after (cancelled_now false: it had already ended).",
    "retry": "Run again a run of yours that ended (same input, parameters, engine and model; a new run) or a "
             "sweep's unfinished cells (failed, interrupted, cancelled), by id: the output PNG or contact sheet, "
             "and the result JSON or the sweep's status (retried: how many cells ran again; 0 when every cell had "
             "finished).",
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
        return EXAMPLES.get(self.param.name, self.param.default)

    def example_value(self) -> Any:
        return EXAMPLES.get(self.param.name, self.param.default)


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

    def example_payload(self) -> Any:
        return sample_photo()

    def example_value(self) -> Any:
        return sample_photo()["url"]

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
        made = RawFile(str(SAMPLE), label=param.name, type="filepath", visible=False)  # the documented default
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


def _finished(run: Run | None, what: str, session: Session) -> tuple[str | None, dict[str, Any]]:
    if run is None:
        raise StudioError(f"The {what} did not start.")
    if run.status != "completed" or not run.output_path:
        raise StudioError(run.error or f"The {what} did not complete ({run.status}).")
    return servable(run.output_path, download_name(run)), result_json(run, session.root_url)


async def upscale(values: dict[str, Any], session: Session) -> tuple[str | None, dict[str, Any]]:
    """``/upscale``: the output PNG and the result JSON."""
    asked = RunRequest.checked(values)
    run = None
    async for update in usecases.run_one(asked, session):
        run = update.run
    return _finished(run, "run", session)


async def sweep(values: dict[str, Any], session: Session) -> tuple[str | None, str | None, dict[str, Any]]:
    """``/sweep``: the cells' CSV, the contact sheet and the summary (``dry_run``: the pre-flight alone)."""
    asked = SweepRequest.checked(values)
    if asked.dry_run:
        return None, None, await asyncio.to_thread(dry_run, asked, session)
    last = None
    async for progress in usecases.run_sweep(asked, session):
        last = progress
    if last is None or not last.finished:
        raise StudioError("The sweep did not finish.")
    summary = control.sweep_cells(last.plan.id, session)[1]
    return ((servable(last.csv) if last.csv else None), (servable(last.sheet) if last.sheet else None),
            {"dry_run": False, **summary})


async def history(values: dict[str, Any], session: Session) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``/history``: a page of the caller's runs, newest first, and where it lies (total, next offset)."""
    query = HistoryQuery.checked(values)
    page = history_page(query, session)
    total = history_total(query, session)
    after = query.offset + len(page)
    return page, {"total": total, "offset": query.offset, "limit": query.limit, "returned": len(page),
                  "next_offset": after if after < total else None}


async def fetch(values: dict[str, Any], session: Session) -> tuple[str | None, dict[str, Any]]:
    """``/fetch``: a run's output PNG and result JSON, by run id, request id or ``latest``."""
    asked = FetchQuery.checked(values)
    run = None
    async for update in usecases.fetch(asked.request_id, session):  # "latest" read there, as at every door
        run = update.run
    return _finished(run, "request", session)


def _cell_result(run: Run | None, root: str = "") -> dict[str, Any] | None:
    return result_json(run, root) if run is not None and run.status == "completed" and run.output_path else None


async def cells(values: dict[str, Any], session: Session) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """``/cells``: a sweep's finished cells' pictures (captioned with their labels) and its status, every cell's
    result JSON in it."""
    wanted = IdQuery.checked(values, CELLS).id
    sweep_id = control.newest_sweep(session) if wanted.casefold() == LATEST else wanted
    found, summary = control.sweep_cells(sweep_id, session)
    pictures = [(str(servable(run.output_path, download_name(run))), label) for label, run in found
                if _cell_result(run) is not None and run is not None]
    by_label = {label: _cell_result(run, session.root_url) for label, run in found}
    summary["cells"] = [{**cell, "result": by_label.get(cell["label"])} for cell in summary["cells"]]
    return pictures, summary


async def status(values: dict[str, Any], session: Session) -> dict[str, Any]:
    """``/status``: where a run or sweep of the caller's stands."""
    return control.status(IdQuery.checked(values).id, session)


async def cancel(values: dict[str, Any], session: Session) -> dict[str, Any]:
    """``/cancel``: cancel a run or sweep of the caller's going here; where it stands after."""
    return await control.cancel(IdQuery.checked(values).id, session)


async def retry(values: dict[str, Any], session: Session) -> tuple[str | None, dict[str, Any]]:
    """``/retry``: a run again (its PNG and result JSON) or a sweep's unfinished cells (its sheet and status)."""
    asked = control.retry_request(IdQuery.checked(values).id, session)
    if isinstance(asked, RunRequest):
        run = None
        async for update in usecases.run_one(asked, session):
            run = update.run
        return _finished(run, "run", session)
    count = control.to_retry(asked)
    last = None
    if count:
        async for progress in usecases.retry_cells(asked, session):
            last = progress
    else:  # nothing failed: the sweep as it stands (a retry asked twice does no harm)
        last = await finished(asked.plan, dict(asked.runs), asked.engine, asked.input_path)
    if last is None or not last.finished:
        raise StudioError("The retry did not finish.")
    return (servable(last.sheet) if last.sheet else None), {**control.sweep_cells(last.plan.id, session)[1],
                                                            "retried": count}


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
                gr.Image(label="Contact sheet", type="filepath", format="png", visible=False),
                gr.JSON(label="Summary", visible=False)]
    if name == "dataset":
        return [gr.File(label="Dataset zip", visible=False)]
    if name == "cells":
        return [gr.Gallery(label="Cell pictures", type="filepath", format="png", visible=False),
                gr.JSON(label="Sweep", visible=False)]
    if name == "sweep_price":
        return [gr.JSON(label="Quote", visible=False)]
    if name in ("status", "cancel"):
        return [gr.JSON(label="Status", visible=False)]
    if name == "retry":
        return [gr.File(label="Output PNG or contact sheet", visible=False), gr.JSON(label="Result", visible=False)]
    return [gr.Dataframe(label="Runs", visible=False), gr.JSON(label="Page", visible=False)]


async def sweep_price(values: dict[str, Any], session: Session) -> dict[str, Any]:
    """``/sweep_price``: a sweep's quote (``core/usecases/quote.py``), nothing run."""
    asked = SweepRequest.checked(values)
    return (await asyncio.to_thread(quote_sweep, asked, session)).as_json()


RUNS: dict[str, Callable[[dict[str, Any], Session], Awaitable[Any]]] = {
    "upscale": upscale, "sweep": sweep, "history": history, "fetch": fetch, "dataset": dataset, "cells": cells,
    "status": status, "cancel": cancel, "retry": retry, "sweep_price": sweep_price}


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

