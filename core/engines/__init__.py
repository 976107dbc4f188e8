"""The engine seam: ``fal`` (the hosted endpoint) and ``local`` (Real-ESRGAN on the CPU).

``make_engine`` is the one place that picks an engine; the UI never imports fal_client or ncnn.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import TYPE_CHECKING

from core.engines.base import EngineInfo
from core.errors import AuthError, InputError
from core.schema import PARAMETER_FIELDS, PRICE_PER_MEGAPIXEL

if TYPE_CHECKING:  # for the checker only: fal_client is imported when the fal engine is first made
    from core.engines.base import Engine
    from core.engines.fal import FalEngine

ENGINES = ("fal", "local")
DEFAULT_SWEEP_CONCURRENCY: int | None = None  # no ceiling: every cell goes to fal's queue, which schedules them
_fal_engines: dict[str, FalEngine] = {}  # one fal client per key, found by the key's hash (never the key itself)
_lock = threading.Lock()


def fal_job_timeout(default: float) -> float | None:
    """Seconds a fal request may take, queue included: ``CLARITY_FAL_TIMEOUT`` (0 = no limit), else ``default``."""
    try:
        seconds = float(os.environ.get("CLARITY_FAL_TIMEOUT", default))
    except ValueError:
        seconds = default
    return seconds if seconds > 0 else None


def forget(key: str | None) -> bool:
    """Drop the fal engine (and so the client holding ``key``) made for a typed key; True if there was one.
    Runs still under way keep their own reference until they end."""
    if not key:
        return False
    with _lock:
        return _fal_engines.pop(hashlib.sha256(key.encode()).hexdigest(), None) is not None


def _fal_runs_at_once() -> int | None:
    """``CLARITY_SWEEP_CONCURRENCY`` as an optional ceiling on fal cells in flight; unset, empty or 0: none."""
    try:
        ceiling = int(float(os.environ.get("CLARITY_SWEEP_CONCURRENCY") or 0))
    except ValueError:
        return DEFAULT_SWEEP_CONCURRENCY
    return ceiling if ceiling > 0 else DEFAULT_SWEEP_CONCURRENCY


def describe(engine_id: str) -> EngineInfo:
    """What engine ``engine_id`` can do (raises ValueError for an unknown id). Read per call: fal's ceiling follows
    ``CLARITY_SWEEP_CONCURRENCY`` (none by default: fal's queue schedules every cell at the account's pace)."""
    if engine_id == "fal":
        return EngineInfo("fal", "fal (hosted clarity-upscaler)", (), PRICE_PER_MEGAPIXEL,
                          frozenset(f.name for f in PARAMETER_FIELDS), webhooks=True, resumable_by_request_id=True,
                          runs_at_once=_fal_runs_at_once(), needs_key=True, fetches_urls=True)
    if engine_id == "local":
        from core.engines.realesrgan import MODELS  # no diffusion pass: only the factor changes the picture

        return EngineInfo("local", "local (Real-ESRGAN on this CPU)", tuple(MODELS), 0.0,
                          frozenset({"upscale_factor", "seed"}), webhooks=False, resumable_by_request_id=False,
                          runs_at_once=1)
    raise ValueError(f"Unknown engine {engine_id!r}; choose one of {', '.join(ENGINES)}.")


def parse_spec(token: str) -> tuple[str, str | None]:
    """An engine as a sweep's engine axis names it — ``fal``, ``local`` or ``local:<model>`` — as ``(engine id,
    model or None)``; InputError quoting the token and the choices otherwise."""
    name, _, model = token.strip().lower().partition(":")
    choices = ", ".join(spec for engine in ENGINES for spec in (engine, *(f"{engine}:{m}" for m in
                                                                           describe(engine).models)))
    if name not in ENGINES or (model and model not in describe(name).models):
        raise InputError(f"Engine axis: `{token.strip()}` is not an engine; write one of {choices}.", "engine")
    return name, model or None


def keyed_engine() -> str:
    """The engine that runs with an API key (the default when a key is available)."""
    return next(name for name in ENGINES if describe(name).needs_key)


def keyless_engine() -> str:
    """The engine that runs with no key and no network (the default otherwise)."""
    return next(name for name in ENGINES if not describe(name).needs_key)


def resumable_engines() -> tuple[str, ...]:
    """The engines whose runs can be followed again by request id (after a restart, or from another tab)."""
    return tuple(name for name in ENGINES if describe(name).resumable_by_request_id)


def make_engine(name: str, key: str | None = None, model: str | None = None) -> Engine:
    """The engine called ``name``: fal needs a key (typed in, or ``FAL_KEY``); local takes a model name."""
    if name == "local":
        from core.engines.local import DEFAULT_MODEL, LocalEngine

        return LocalEngine(model or DEFAULT_MODEL)
    if name != "fal":
        raise ValueError(f"Unknown engine {name!r}; choose one of {', '.join(ENGINES)}.")
    if not key:
        raise AuthError("No fal key: set FAL_KEY, type a key in the Engine panel, or use the local engine. "
                        "Keys are made at https://fal.ai/dashboard/keys.")
    from core.engines.fal import DEFAULT_JOB_TIMEOUT, FalEngine

    digest = hashlib.sha256(key.encode()).hexdigest()
    with _lock:
        engine = _fal_engines.get(digest)
        if engine is None:
            engine = _fal_engines[digest] = FalEngine(key)
        engine.job_timeout = fal_job_timeout(DEFAULT_JOB_TIMEOUT)  # read per call: the engine is kept per key
    return engine
