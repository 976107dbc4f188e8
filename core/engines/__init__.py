"""The engine registry: the one place engines are listed, and where the rest of the app reads what they can do.

Each engine is one module of this package exporting ``info() -> EngineInfo`` (its descriptor: abilities, price,
what it needs from the visitor) and ``make(EngineSettings) -> Engine`` (its factory); an engine may also export
``forget(key)`` to drop what it keeps for a key. Adding an engine is its file plus its name in ``ENGINES``.

Components and ``core/`` read descriptors here (``describe``, ``ENGINES``, ``parse_spec``…); only the use-case
layer (``core/usecases/``) calls ``factory`` to build an engine. The modules are imported on first use, never at
import: the UI never imports fal_client's engine code or ncnn by importing this.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from core.engines.base import EngineInfo, Factory
from core.errors import InputError

__all__ = ["ENGINES", "EngineInfo", "describe", "factory", "forget", "keyed_engine", "keyless_engine", "parse_spec",
           "resumable_engines"]

ENGINES = ("fal", "local", "lanczos")  # the one line an engine adds; the order is the engine radio's


def _module(engine_id: str) -> ModuleType:
    if engine_id not in ENGINES:
        raise ValueError(f"Unknown engine {engine_id!r}; choose one of {', '.join(ENGINES)}.")
    return importlib.import_module(f"core.engines.{engine_id}")


def describe(engine_id: str) -> EngineInfo:
    """What engine ``engine_id`` can do (raises ValueError for an unknown id). Read per call: a descriptor may
    follow the environment (fal's ceiling follows ``CLARITY_SWEEP_CONCURRENCY``)."""
    info: EngineInfo = _module(engine_id).info()
    return info


def factory(engine_id: str) -> Factory:
    """The factory of engine ``engine_id``: for the use-case layer (``core/usecases/``) only."""
    made: Factory = _module(engine_id).make
    return made


def forget(key: str | None) -> bool:
    """Drop whatever any engine keeps for a typed key (fal: its client); True if something was dropped. Runs
    still under way keep their own reference until they end."""
    dropped = False
    for engine_id in ENGINES:
        hook = getattr(_module(engine_id), "forget", None)
        dropped = bool(hook(key)) if hook is not None and key else dropped
    return dropped


def parse_spec(token: str) -> tuple[str, str | None]:
    """An engine as a sweep's engine axis names it — ``fal``, ``local``, ``local:<model>``, ``lanczos`` — as
    ``(engine id, model or None)``; InputError quoting the token and the choices otherwise."""
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
    """The engine that runs with no key and no network (the default otherwise): the first listed."""
    return next(name for name in ENGINES if not describe(name).needs_key)


def resumable_engines() -> tuple[str, ...]:
    """The engines whose runs can be followed again by request id (after a restart, or from another tab)."""
    return tuple(name for name in ENGINES if describe(name).resumable_by_request_id)
