"""One upscale, whichever door asked for it (the Upscale tab, the public ``/upscale`` API, a deep link)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

import core.usecases.admission as admission
from core.engines import describe
from core.inputs.region import Region
from core.runs import events, names, store
from core.runs.runner import Update, execute
from core.runs.runs import Run
from core.schema import PARAMETER_FIELDS
from core.sharing.visitor import Visitor
from core.usecases.going import going
from core.usecases.outliving import outliving
from core.usecases.validate import check_url_first, prepare_input
from core.usecases.values import UPSCALE, check

PARAMETER_NAMES = tuple(f.name for f in PARAMETER_FIELDS)


@dataclass(frozen=True)
class RunRequest:
    """One upscale as asked for, before any check.

    ``parameters`` are the endpoint's (``core/schema.py`` names, raw values; ``image_url`` among them: an https
    URL or a data URI); ``image`` is an uploaded file's path (it wins over ``image_url``). ``engine`` is a
    registered engine id (``core/engines``); ``model`` one of its models (None: the visitor's choice, else its
    default); ``webhook_url`` is passed on to an engine whose descriptor takes webhooks. ``region`` upscales only
    that part of the picture (``core/inputs/region.py``); ``linked_run`` is the region run this whole-picture run
    was made from (*Run the whole picture*): each run then names the other. ``input_name`` is the picture's own
    name when ``image`` is a stored copy under another (a retry, or the whole picture of a region run); None: the
    name is ``image``'s or the URL's."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    image: str | None = None
    engine: str = "local"
    model: str | None = None
    webhook_url: str = ""
    region: Region | None = None
    linked_run: str | None = None
    input_name: str | None = None

    @classmethod
    def checked(cls, values: Mapping[str, Any]) -> RunRequest:
        """The upscale of API values by name (``values.UPSCALE``: ``image``, ``image_url``, the schema's
        parameters, ``engine``, the region's four boxes), each checked against its declared type and range;
        InputError naming the parameter at fault, before anything runs."""
        clean = check(UPSCALE, values)
        parameters = {name: clean[name] for name in ("image_url", *PARAMETER_NAMES)}
        return cls(parameters, None if clean["image_url"] else clean["image"] or None, clean["engine"],
                   region=Region.checked(clean))


def link(run: Run, region_run_id: str | None, image_path: str | None, visitor: Visitor) -> None:
    """Link a whole-picture run to the region run it was made from, both ways — only when that run is the
    visitor's own region run and ``run`` is on the whole of the picture it was cut from. Being of one picture, the
    two runs then bear one name: the region run's (the page's form holds the picture as "<stem>.png")."""
    if not region_run_id or run.region or not image_path:
        return
    source = store.store().get(region_run_id, owner=visitor.scope())
    if source is None or not source.region or not source.whole_path or not same_picture(source.whole_path,
                                                                                          image_path):
        return
    run.linked_run, source.linked_run = source.id, run.id
    run.input_name = source.input_name or run.input_name
    store.save(source)


def same_picture(first: str, second: str) -> bool:
    """Whether two stored inputs hold the same pixels (the same file, or one stored again from the other)."""
    if first == second:
        return True
    try:
        with Image.open(first) as one, Image.open(second) as other:
            return one.size == other.size and one.mode == other.mode and one.tobytes() == other.tobytes()
    except OSError:
        return False


@outliving
async def run_one(request: RunRequest, visitor: Visitor) -> AsyncIterator[Update]:
    """Check, admit and run one upscale, saving it in the history at every change; yields the runner's updates
    (the first one also carries the notes of reading the input). Raises a StudioError before the first update
    when the request is refused (bad input, no key, a limit or a budget): nothing was sent, nothing saved."""
    admission.check_engine(request.engine)
    engine_id = request.engine
    await admission.admit_paid_work(engine_id)  # a paid result still waits unsaved: no new paid work yet
    notes: list[str] = []
    measure = admission.budget_applies(visitor, (engine_id,))
    check_url_first(request.parameters, request.image, engine_id)  # a malformed URL is named before the key
    engine = admission.build(engine_id, visitor, request.model)  # no key: refused before anything is fetched
    found = await asyncio.to_thread(prepare_input, request.parameters, request.image, engine_id, notes, measure,
                                    request.region)  # fetches and decodes the picture (and cuts the region)
    arguments, image_path = found.arguments, found.path
    pasted = request.parameters.get("image_url")
    run = Run(engine=engine_id, arguments=arguments, owner=visitor.owner, model=admission.model_of(engine),
              input_name=request.input_name or names.input_name(request.image, pasted),
              source_url=names.source_url(request.image, pasted),
              region=request.region.text if request.region else None, whole_path=found.whole_path)
    link(run, request.linked_run, image_path, visitor)
    options = {"webhook_url": request.webhook_url} if describe(engine_id).webhooks and request.webhook_url else {}
    price = admission.price(engine_id, image_path, arguments["upscale_factor"])
    pending = [events.Note(note) for note in notes]
    with admission.admitted(visitor, engine_id, price, "run") as spend, going(run.id):
        spend.add(run, price)
        async for update in execute(engine, run, image_path, store.save, **options):
            spend.watch(update.events)
            if pending:
                update.events[:0], pending = pending, []
            yield update
