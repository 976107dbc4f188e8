"""The test fal server's account limit: at most N requests IN_PROGRESS, the rest IN_QUEUE in order with
positions counting down, none refused (docs/fal-protocol.md, "The queue")."""

from __future__ import annotations

import asyncio
import time

import fal_client
from fal_client import Completed, InProgress, Queued

APP = "fal-ai/clarity-upscaler"
IMAGE = "https://v3.fal.media/files/none.png"


async def _submit(client: fal_client.AsyncClient, count: int) -> list[fal_client.AsyncRequestHandle]:
    return [await client.submit(APP, {"image_url": IMAGE, "seed": n}) for n in range(count)]


def test_an_account_limit_runs_n_at_once_and_queues_the_rest_with_positions(fal_server, fal_key):
    fal_server.set_account_limit(2)
    fal_server.set_default(queue_polls=0, run_polls=0, run_time=0.4, logs=())

    async def scenario() -> tuple[list, list, float]:
        client = fal_client.AsyncClient(key=fal_key)
        start = time.monotonic()
        handles = await _submit(client, 5)
        first = [await handle.status() for handle in handles]
        later: list = []
        while True:
            statuses = [await handle.status() for handle in handles]
            later.append(statuses)
            if all(isinstance(s, Completed) for s in statuses):
                return first, later, time.monotonic() - start
            await asyncio.sleep(0.05)

    first, later, seconds = asyncio.run(scenario())
    assert [type(s) for s in first] == [InProgress, InProgress, Queued, Queued, Queued]
    assert [s.position for s in first[2:]] == [0, 1, 2]  # 0 = next
    positions = [s.position for statuses in later for s in statuses[4:] if isinstance(s, Queued)]
    assert positions == sorted(positions, reverse=True) and 0 in positions  # counting down
    # A sweep of status calls is not one instant (a request may finish and the next start between two calls),
    # so how many ran at once is the server's own count.
    assert fal_server.peak_in_progress == 2
    assert seconds >= 1.1  # three waves of 0.4 s, not one: no upper bound, a loaded machine only adds time


def test_without_a_limit_every_request_runs_at_once(fal_server, fal_key):
    fal_server.set_default(queue_polls=0, run_polls=0, run_time=0.3, logs=())

    async def scenario() -> list:
        handles = await _submit(fal_client.AsyncClient(key=fal_key), 6)
        return [await handle.status() for handle in handles]

    assert all(isinstance(s, InProgress) for s in asyncio.run(scenario()))
    assert fal_server.peak_in_progress == 6


def test_a_waiting_request_starts_when_a_slot_frees_even_if_nobody_polls(fal_server, fal_key):
    fal_server.set_account_limit(1)
    fal_server.set_default(queue_polls=0, run_polls=0, run_time=0.3, logs=())

    async def scenario() -> list[str]:
        handles = await _submit(fal_client.AsyncClient(key=fal_key), 2)
        await asyncio.sleep(0.75)  # fal runs the second as soon as the first ends, polled or not
        return [fal_server.state(handle.request_id).status for handle in handles]

    assert asyncio.run(scenario()) == ["COMPLETED", "COMPLETED"]


def test_cancelling_a_waiting_request_frees_its_place(fal_server, fal_key):
    fal_server.set_account_limit(1)
    fal_server.set_default(queue_polls=0, run_polls=0, run_time=5, logs=())

    async def scenario() -> tuple[int, int]:
        handles = await _submit(fal_client.AsyncClient(key=fal_key), 3)
        before = (await handles[2].status()).position
        await handles[1].cancel()
        return before, (await handles[2].status()).position

    assert asyncio.run(scenario()) == (1, 0)
