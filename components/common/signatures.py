"""Public handlers whose parameters ``core/schema.py`` writes: ``image``, ``image_url``, then every endpoint
parameter under its own name, type and default, in schema order — then the handler's own parameters.

Gradio names an API's parameters after its function's signature, so the signature *is* the API. Writing the
schema's fields into it by hand, in three handlers, let a field added mid-schema shift the others silently; here
they are written once. A handler takes the form as one dict::

    @schema_handler
    async def upscale(form: dict[str, Any], engine: str = "local", ...) -> ...

and is called by Gradio (and by tests) as ``upscale(image, image_url, prompt, upscale_factor, ..., engine=...)``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from core import schema

R = TypeVar("R")
_TYPES = {"str": str, "url": str, "float": float, "int": int, "bool": bool}
FORM_NAMES: tuple[str, ...] = ("image", "image_url", *(f.name for f in schema.PARAMETER_FIELDS))


def form_parameters() -> list[inspect.Parameter]:
    """``image`` and ``image_url`` (either may be given), then each schema parameter with its type and default."""
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    found = [inspect.Parameter("image", keyword, default=None, annotation=str | None),
             inspect.Parameter("image_url", keyword, default=None, annotation=str | None)]
    for field in schema.PARAMETER_FIELDS:
        kind = _TYPES[field.kind]
        annotation = kind | None if field.default is None else kind
        found.append(inspect.Parameter(field.name, keyword, default=field.default, annotation=annotation))
    return found


def schema_handler(fn: Callable[..., R]) -> Callable[..., R]:
    """``fn(form, *rest)`` as a handler whose signature is the form's parameters followed by ``rest`` (written at
    run time: to a type checker it takes any arguments)."""
    own = list(inspect.signature(fn).parameters.values())[1:]  # after ``form``
    hints = typing.get_type_hints(fn)
    parameters = form_parameters() + [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own]
    signature = inspect.Signature(parameters, return_annotation=hints.get("return", inspect.Signature.empty))

    def split(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        return {name: values.pop(name) for name in FORM_NAMES}, values

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def streaming(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            form, rest = split(args, kwargs)
            async for item in fn(form, **rest):
                yield item
        handler: Any = streaming
    else:
        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            form, rest = split(args, kwargs)
            return fn(form, **rest)
        handler = plain
    handler.__signature__ = signature
    handler.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
    del handler.__wrapped__  # Gradio and inspect read the written signature, not the inner one
    return typing.cast(Callable[..., R], handler)
