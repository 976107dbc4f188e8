"""*Vary seed per cell* (issue 25 §3): A1111 users expect one seed over a grid when the seed is empty (cells differ
only by their axis values) and, when asked, a seed per cell. Each cell then runs with the sweep's seed plus its
index in grid order, on engines that use a seed; the choice is refused by name where it would make identical
cells (an engine that uses no seed, or beside a Seed axis), at the page and the API alike, and comes back when
the sweep is re-opened."""

from __future__ import annotations

import asyncio

import pytest

from components.common.session import Session
from components.sweep import sweep_reopen
from core.errors import InputError
from core.runs import store
from core.sweep.reopen import reopen
from core.usecases import SweepRequest, run_sweep
from core.usecases.values import SWEEP
from tests.reliability import noise_png


@pytest.fixture
def photo(tmp_path) -> str:
    return noise_png(tmp_path / "photo.png", (32, 24), seed=3)


def values(**changes) -> dict:
    """``/sweep``'s values by name: its documented defaults, a 2×2 fal grid, and ``changes``."""
    return {**{param.name: param.default for param in SWEEP}, "engine": "fal", "x_axis": "creativity",
            "x_values": "0.2, 0.5", "y_axis": "resemblance", "y_values": "0.3, 0.6", **changes}


def ran(request: SweepRequest, visitor: Session):
    async def go():
        async for progress in run_sweep(request, visitor):
            last = progress
        assert last.finished
        return last

    return asyncio.run(go())


def seeds(progress) -> list[int | None]:
    return [progress.runs[cell.key].seed for cell in progress.plan.cells]


def test_a_fal_sweep_varies_its_seed_per_cell_only_when_asked(photo, fal_server, fal_key, monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    me = Session()
    one = ran(SweepRequest.checked(values(image=photo)), me)
    assert len(set(seeds(one))) == 1 and seeds(one)[0] is not None  # empty seed: one drawn for the grid
    given = ran(SweepRequest.checked(values(image=photo, seed=41, vary_seed=True)), me)
    assert seeds(given) == [41, 42, 43, 44]  # the grid's seed plus each cell's index, row by row
    drawn = ran(SweepRequest.checked(values(image=photo, vary_seed=True)), me)
    first = seeds(drawn)[0]
    assert first is not None and seeds(drawn) == [first + i for i in range(4)]
    sent = [submit.json["seed"] for submit in fal_server.submits()[-4:]]
    assert sorted(sent) == seeds(drawn)  # what fal was asked for, not only what was recorded
    plan, _ = reopen(drawn.plan.id, me.scope(), store.store())
    assert plan.vary_seed and not reopen(one.plan.id, me.scope(), store.store())[0].vary_seed
    assert sweep_reopen.controls(drawn.plan.id, plan, "fal", me)[5] is True


FACTOR = {"x_axis": "upscale_factor", "x_values": "1, 2", "y_axis": "", "y_values": ""}  # axes every engine uses


@pytest.mark.parametrize(("changes", "words"), [
    ({"engine": "local", **FACTOR}, "The local engine uses no seed"),
    ({"engine": "lanczos", **FACTOR}, "The lanczos engine uses no seed"),
    ({"x_axis": "seed", "x_values": "1, 2"}, "Vary seed per cell and a Seed axis"),
    ({"y_axis": "seed", "y_values": "1, 2"}, "Vary seed per cell and a Seed axis"),
])
def test_vary_seed_is_refused_where_every_cell_would_be_the_same(photo, changes, words) -> None:
    with pytest.raises(InputError) as refused:
        ran(SweepRequest.checked(values(image=photo, vary_seed=True, **changes)), Session())
    assert str(refused.value).startswith(words) and refused.value.field == "vary_seed"


@pytest.mark.parametrize("loose", ["true", 1, "yes", None])
def test_vary_seed_is_a_boolean(loose) -> None:
    with pytest.raises(InputError) as refused:
        SweepRequest.checked(values(vary_seed=loose))
    assert "vary_seed" in str(refused.value)


def test_comparing_engines_keeps_vary_seed_for_the_engine_that_uses_one(photo, fal_server, fal_key,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    fal_server.set_default(queue_polls=1, run_polls=1)
    done = ran(SweepRequest.checked(values(image=photo, seed=7, vary_seed=True, x_axis="engine",
                                           x_values="fal, lanczos", y_axis="", y_values="")), Session())
    assert seeds(done) == [7, None]  # fal used the first cell's seed; lanczos uses none
