"""*Run the whole picture with these settings*: from a finished region run (a single run or a sweep's cell), the
whole picture it was cut from with the same parameters and the same seed, priced as usual; the run it makes links
to the region run, both ways (``run.link``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from core.errors import InputError
from core.inputs.region import Region, price_line
from core.runs import store
from core.runs.runs import Run
from core.sharing.visitor import Visitor
from core.usecases.run import RunRequest


@dataclass(frozen=True)
class WholeRun:
    """The whole-picture run a region run leads to: the ``request`` (to run as it is, or to put in a form), the
    region ``run`` it comes from, the whole picture's size and its price ``line`` ("whole 2048×1536 → …, $0.38")."""

    request: RunRequest
    run: Run
    width: int
    height: int
    line: str

    @property
    def parameters(self) -> dict[str, Any]:
        """Every parameter of the region run, its seed the one used (a form's values)."""
        return dict(self.request.parameters)


def whole_of(run_id: str | None, visitor: Visitor) -> WholeRun:
    """The whole-picture run of the visitor's region run ``run_id``; InputError saying why there is none (no run
    chosen, not a region run, not finished, its whole picture no longer kept)."""
    run = store.store().get(run_id, owner=visitor.scope()) if run_id else None
    if run is None:
        raise InputError("Choose a finished region run first.", None)
    region = Region.parse(run.region)
    if region is None:
        raise InputError("This run is already of the whole picture: only a region run has a whole picture to run.",
                         None)
    if run.status != "completed":
        raise InputError(f"This region run is {run.status}: run the whole picture from a finished one.", None)
    if not run.whole_path or not Path(run.whole_path).is_file():
        raise InputError("The whole picture of this region run is no longer kept.", None)
    with Image.open(run.whole_path) as whole:
        width, height = whole.size
    parameters = run.parameters()  # the seed used, when the engine used one
    request = RunRequest(parameters, run.whole_path, run.engine, run.model, linked_run=run.id,
                         input_name=run.input_name)
    return WholeRun(request, run, width, height,
                    price_line(None, width, height, float(parameters["upscale_factor"])))
