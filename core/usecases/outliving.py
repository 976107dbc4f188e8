"""A run outlives whoever follows it: closing the tab (or dropping an API connection) leaves the run going.

Gradio closes an event's generator when its page goes away (``aclose()``: a ``GeneratorExit`` at the ``yield``
where the generator waits). Driven directly by that generator, a run stopped there: never finished, never saved,
its row "running" for ever, a paid result lost. :func:`outliving` runs the use case in a task of its own and lets
the follower read its updates from a queue: a follower that goes away stops reading, and the run goes on to its
end and into the history (its budget settled, its job slot freed, as if followed). A follower *cancelled* — the
Cancel button, Escape, an API ``cancel()``: Gradio cancels the event's task — cancels the run, which is recorded
as cancelled before the follower's cancellation goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from core.errors import StudioError

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

CANCEL_WAIT_S = 15.0  # how long a cancelled follower waits for the run to record its end (a fal cancel: < 1 s)
_RUNNING: set[asyncio.Task[None]] = set()  # strong references: a run no one follows is kept to its end


@dataclass(frozen=True)
class _Raised:
    error: BaseException


class _End:
    pass


def outliving(use_case: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    """``use_case`` (an async generator function) run so that it outlives its follower (see the module's doc).

    The wrapped function yields what ``use_case`` yields and raises what it raises (a refusal before the first
    update is still raised to the caller); only where the updates are produced changes."""

    @functools.wraps(use_case)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return _follow(use_case(*args, **kwargs), getattr(use_case, "__name__", "run"))

    return wrapped


async def _follow(updates: AsyncIterator[T], what: str) -> AsyncIterator[T]:
    queue: asyncio.Queue[T | _Raised | _End] = asyncio.Queue()  # between the run's task and its follower
    task = asyncio.get_running_loop().create_task(_produce(updates, queue))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    ended = False
    try:
        while True:
            item = await queue.get()
            if isinstance(item, _End):
                ended = True
                return
            if isinstance(item, _Raised):
                ended = True
                raise item.error
            yield item
    except asyncio.CancelledError:  # cancelled by the visitor: the run is cancelled, and recorded so, first
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_WAIT_S)
        raise
    finally:
        if not ended and not task.done():
            log.info("%s goes on without its follower (the page closed or the connection dropped); it is saved "
                     "in the history when it ends.", what)


async def _produce(updates: AsyncIterator[T], queue: asyncio.Queue[T | _Raised | _End]) -> None:
    try:
        async for update in updates:
            queue.put_nowait(update)
    except asyncio.CancelledError:  # its follower cancelled it, or a cancel by id (``control.cancel``): said so
        queue.put_nowait(_Raised(StudioError("It was cancelled.")))
        raise
    except Exception as exc:  # handed to the follower, who raises it; if none follows, the run recorded its end
        queue.put_nowait(_Raised(exc))
    else:
        queue.put_nowait(_End())
