"""Following a run again: by id from another tab (``fetch``), and every pending run after a restart
(``resume_pending``). A run in the history is shown from the history whatever its engine; a request id made
elsewhere is followed on the engine that can re-attach to requests (fal), with the key rules below."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator

import core.usecases.admission as admission
from core.engines import describe, resumable_engines
from core.engines.base import ResumableEngine
from core.errors import InputError, StudioError
from core.runs import events, store
from core.runs.resume import resume_in_background
from core.runs.runner import Update, follow_request
from core.runs.runs import Run
from core.sharing.visitor import Visitor
from core.usecases.values import LATEST

RUN_ID = re.compile(r"^[A-Za-z0-9._:-]{4,128}$")  # a request id or a run id: letters, digits, dashes


def key_for(visitor: Visitor, run: Run | None) -> str | None:
    """The key that may follow a request: any key this visitor may use for a run in their own history; for an id
    they did not make here, only a key they typed themselves — on a shared app the Space's key never follows a
    stranger's request id (request ids are not secrets, and fal would hand back that person's result)."""
    if run is not None:
        return visitor.fal_key()
    if not visitor.shared and visitor.fal_key():
        return visitor.fal_key()
    if visitor.typed_key:
        return visitor.typed_key
    raise StudioError("This id is not in your history (check it for a typo). To follow a fal request made "
                      "elsewhere, type your own fal key first (Key, local model, webhook).")


async def fetch(run_or_request_id: str, visitor: Visitor) -> AsyncIterator[Update]:
    """Show a run by its run id or its engine's request id (or ``latest``: the visitor's newest run), recording
    what it becomes in the history.

    A run of this visitor's history that has ended is shown as stored (``stored``: stage ``done``, ``failed`` or
    ``cancelled``), on any engine; one still pending on a resumable engine, or an id made elsewhere, is re-attached
    to and followed to its end. A cancelled run on a resumable engine is re-attached to as well (its engine may
    have finished it before the cancel arrived: a result made, and on fal paid for), and stays cancelled, in the
    view and in the history, when its engine has no result for it. Raises a StudioError before the first update
    for an id that is not one, a run still running on an engine that cannot be re-attached to, or no key that
    may follow it."""
    wanted = (run_or_request_id or "").strip()
    history = store.store()
    if wanted.casefold() == LATEST:  # the visitor's newest run, at every door (the page's box, /fetch, MCP)
        newest = history.runs(visitor.scope(), limit=1)
        if not newest:
            raise InputError("request_id: there is no run in your history yet, so no 'latest'.", "request_id")
        wanted = newest[0].id
    if not RUN_ID.match(wanted):
        raise StudioError("Paste a fal request id or a run id (letters, digits and dashes), or 'latest'.")
    run = history.by_request_id(wanted, owner=visitor.scope()) or history.get(wanted, owner=visitor.scope())
    resumable = run is None or (describe(run.engine).resumable_by_request_id and bool(run.request_id))
    if run is not None and (run.status == "completed" and run.output_path or not resumable):
        if not run.final:
            raise StudioError(f"This run is still under way on the {run.engine} engine, which cannot be followed "
                              "from another tab; it appears in the History when it ends.")
        yield stored(run)
        return
    engine_id = run.engine if run is not None else resumable_engines()[0]
    engine = admission.build_resumable(engine_id, visitor, key_for(visitor, run))
    if run is None:  # submitted elsewhere (another tool, or a lost tab): its arguments are not known here
        run = Run(engine=engine_id, arguments={}, owner=visitor.owner, request_id=wanted,
                  cell="fetched by request id")
    cancelled = run.status == "cancelled"
    async for update in follow_request(engine, run, _keeping_cancel if cancelled else store.save):
        if cancelled and update.stage == "failed" and update.run.status in ("cancelled", "failed"):
            # its engine has no result for it (fal answers a cancelled request's result with an error): the
            # cancel stands, as the history still has it
            said = [event for event in update.events if isinstance(event, events.Failure)]
            recorded = history.get(run.id, owner=visitor.scope()) or run
            yield Update(recorded, [*(events.Note(f"{engine_id} has no result for it: {event.message}")
                                      for event in said), events.Cancelled(recorded.request_id)], "cancelled")
            return
        yield update


def stored(run: Run) -> Update:
    """A run that has ended, as the history has it: ``done`` with its result, ``cancelled`` (a cancel is not a
    failure: no Failure event), or ``failed`` with the error it recorded."""
    happened: list[events.Event] = [events.FromHistory(run.id, run.status)]
    if run.status == "completed" and run.output_path:
        return Update(run, happened, "done")
    if run.status == "cancelled":
        return Update(run, [*happened, events.Cancelled(run.request_id)], "cancelled")
    happened.append(events.Failure(run.error or f"The run {run.status}.", run.error_field))
    return Update(run, happened, "failed")


def _keeping_cancel(run: Run) -> None:
    """The history's save for a cancelled run followed again: it records what the engine made of it (completed,
    or a result kept at the engine: ``unsaved``), never a status on the way or the engine's having no result for
    it, so the row stays cancelled until there is a result."""
    if run.status not in ("queued", "running", "failed"):
        store.save(run)


def resume_pending() -> threading.Thread:
    """Follow every pending run on a resumable engine to completion in the background (with the machine's own
    key: a key typed in a browser session died with it, so such runs wait for a fetch); mark interrupted the
    pending runs of engines that die with the process."""
    owner = Visitor()

    def engine_for(run: Run) -> ResumableEngine | None:
        info = describe(run.engine)
        if not info.resumable_by_request_id or (info.needs_key and not owner.fal_key()):
            return None
        return admission.build_resumable(run.engine, owner)

    return resume_in_background(store.store(), engine_for)
