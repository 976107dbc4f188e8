"""What every run passes before it starts, whichever door it came in by: a known engine, built for this visitor,
within the per-visitor limits, and with its price reserved from the budgets its engines answer to.

This module is the only one that builds engines (through the registry's factories), checks limits and reserves
budgets; ``core/usecases/run.py``, ``sweep.py`` and ``fetch.py`` call it, and the components call those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PIL import Image

from core import money
from core.engines import ENGINES, describe, factory, keyed_engine
from core.engines.base import Engine, EngineSettings, ResumableEngine
from core.errors import AuthError, InputError, StudioError
from core.runs import unsaved
from core.schema import output_size
from core.sharing import budget, limits, spending
from core.sharing.spending import Spend
from core.sharing.visitor import Visitor
from core.storage import StorageError


def check_engine(engine: str) -> None:
    """InputError (field ``engine``) unless ``engine`` is a registered engine id."""
    if engine not in ENGINES:
        raise InputError(f"Engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}.", "engine")


def build(engine: str, visitor: Visitor, model: str | None = None, key: str | None = None) -> Engine:
    """Engine ``engine`` made for ``visitor``: its key when the descriptor says it needs one (``key`` overrides the
    visitor's), and ``model`` — else the visitor's choice for it, else its default — when it offers models.
    AuthError without a key; InputError for an unknown engine or model."""
    check_engine(engine)
    info = describe(engine)
    chosen = (model or visitor.model_for(engine) or info.default_model) if info.models else None
    if chosen is not None and chosen not in info.models:
        raise InputError(f"The {engine} engine has no model {chosen!r}; choose one of {', '.join(info.models)}.",
                         "engine")
    used = (key or visitor.fal_key()) if info.needs_key else None
    space_key = bool(used) and visitor.shared and not key and not visitor.typed_key  # the owner's account
    return factory(engine)(EngineSettings(key=used, model=chosen, space_key=space_key))


def key_missing(engines: Sequence[str], visitor: Visitor) -> str | None:
    """Why a run on ``engines`` would be refused for want of a key, in the words the run itself would use (the
    first engine that needs one the visitor does not have); None when every engine can be built."""
    for name in engines:
        if describe(name).needs_key and not visitor.fal_key():
            try:
                build(name, visitor)
            except AuthError as exc:
                return str(exc)
    return None


def build_resumable(engine: str, visitor: Visitor, key: str | None = None) -> ResumableEngine:
    """Engine ``engine`` built as ``build`` does, as one that re-attaches to requests by id; StudioError when its
    descriptor says it cannot (``resumable_by_request_id``)."""
    built = build(engine, visitor, key=key)
    if not describe(engine).resumable_by_request_id or not isinstance(built, ResumableEngine):
        raise StudioError(f"The {engine} engine cannot follow a request by its id.")
    return built


def model_of(engine: Engine) -> str | None:
    """The model an engine runs (None for an engine with one model)."""
    model = getattr(engine, "model", None)
    return str(model) if model and describe(engine.name).models else None


def budget_applies(visitor: Visitor, engines: Sequence[str]) -> bool:
    """Whether a run on ``engines`` spends from a budgeted Space key (so its input must be measured first)."""
    return any(spending.space_key_in_use(visitor, engine) for engine in engines) and budget.caps().any


def price(engine: str, image_path: str | None, factor: float) -> float:
    """The estimated price (USD) of upscaling the picture at ``image_path`` by ``factor`` on ``engine``: output
    megapixels × its descriptor's price (reads the header only); 0 with no local file (a URL its engine fetches)."""
    if not image_path or not describe(engine).priced:
        return 0.0
    with Image.open(image_path) as image:
        return spending.price(engine, *output_size(image.width, image.height, factor))


def over_budget(visitor: Visitor, width: int, height: int, factor: float) -> str:
    """" — more than the $0.01 you have left today on this Space's key" when upscaling a ``width × height``
    picture by ``factor`` on the keyed engine would not fit what this visitor may still spend today; else ''."""
    left = spending.left_today(visitor)
    if left is None:
        return ""
    cost = spending.price(keyed_engine(), *output_size(width, height, factor))
    return f" — more than the {money.left(left)} you have left today on this Space's key" if cost > left + 1e-9 \
        else ""


def key_refusal(visitor: Visitor) -> str | None:
    """Why this visitor may not run on the Space's key, in a sentence that says what would change it; None when
    they may, or when no Space key is in play (``core/sharing/spending.py``)."""
    refusal = spending.key_refusal(visitor)
    return refusal[1] if refusal else None


def spent_today(visitor: Visitor) -> str:
    """"today: $0.12 of $0.50" when this visitor spends from a budgeted Space key, else ''."""
    return spending.today_line(visitor)


@contextmanager
def admitted(visitor: Visitor, engines: str | Sequence[str], amount: float, what: str) -> Iterator[Spend]:
    """Hold a run (or a sweep) within the visitor's limits for its duration: the request rate, a job slot, the
    Space key's rules for each engine, and ``amount`` USD reserved from the budgets (settled at what the runs
    added to the yielded Spend used). InputError, before anything is sent, when one of them refuses."""
    limits.check_rate(visitor.limit_keys())
    with limits.job_slot(visitor.limit_keys()), spending.reserved(visitor, engines, amount, what) as spend:
        yield spend


async def admit_paid_work(engines: str | Sequence[str]) -> None:
    """Refuse new paid work (any of ``engines`` priced) while a finished paid result waits unsaved because the
    machine ran out (``core/runs/unsaved.py``): it is tried again first, so a run after space was freed goes
    ahead. StorageError naming what ran out, before anything is sent; free engines are always admitted."""
    used = (engines,) if isinstance(engines, str) else tuple(engines)
    if not any(describe(engine).priced for engine in used if engine in ENGINES) or not unsaved.waiting():
        return
    await unsaved.save_again()
    if unsaved.waiting():
        words = unsaved.reason() or "the server cannot save results"
        raise StorageError(f"No new paid runs for now: a finished paid result could not be saved yet because "
                           f"{words}. It is saved on its own as soon as it can be (the app tries again every "
                           f"{unsaved.INTERVAL_S:g} s); nothing was sent and nothing was spent. The free engines "
                           "still work.", _kind_waiting())


def _kind_waiting() -> str:
    from core import storage

    words = unsaved.reason()
    return next((kind for kind, said in storage.WORDS.items() if said == words), storage.DISK_FULL)


def keep_saving() -> None:
    """Save waiting results and rows again every 30 s while the app runs (``core/runs/unsaved.py``)."""
    unsaved.keep_saving()
