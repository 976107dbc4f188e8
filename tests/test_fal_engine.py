"""The fal engine against the test fal server, through the real fal_client over HTTPS."""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any

import fal_client.client
import httpx
import pytest
from fal_client.auth import MissingCredentialsError
from PIL import Image

from core import schema
from core.engines.base import Completed, InProgress, Queued
from core.engines.fal import FalEngine, FalJob, translate
from core.errors import AuthError, CancelledRun, EngineError, EngineTimeoutError, InputError, StudioError


def png_bytes(width: int, height: int, colour: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(width: int = 10, height: int = 8) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(width, height)).decode()


def engine_for(key: str) -> FalEngine:
    return FalEngine(key, poll_interval=0.01)


async def collect(job: FalJob, timeout: float | None = None) -> list[Any]:
    return [event async for event in job.events(timeout=timeout)]


def messages(events: list[Any]) -> list[str]:
    return [entry["message"] for event in events if not isinstance(event, Queued) for entry in event.logs]


def test_events_arrive_in_order_with_each_log_line_once(fal_server, fal_key):
    fal_server.script(queue_polls=3, run_polls=4, logs=["Loading", "Tile 1/2", "Loading", "Tile 2/2"])

    async def scenario() -> list[Any]:
        job = await engine_for(fal_key).submit({"image_url": data_uri()})
        return await collect(job)

    events = asyncio.run(scenario())
    kinds = [type(event).__name__ for event in events]
    assert kinds[:3] == ["Queued"] * 3 and kinds[-1] == "Completed"
    assert set(kinds[3:-1]) == {"InProgress"}
    assert [event.position for event in events[:3]] == [2, 1, 0]
    # fal resends the whole log on every poll; the engine passes each line on once, repeats included
    assert messages(events) == ["Loading", "Tile 1/2", "Loading", "Tile 2/2"]
    assert events[-1].error is None and "inference_time" in events[-1].metrics


def test_no_logs_at_all_is_fine(fal_server, fal_key):
    fal_server.script(queue_polls=0, run_polls=2, logs=[])

    async def scenario() -> list[Any]:
        return await collect(await engine_for(fal_key).submit({"image_url": data_uri()}))

    events = asyncio.run(scenario())
    assert all(event.logs == [] for event in events if isinstance(event, (InProgress, Completed)))
    assert isinstance(events[-1], Completed)


def test_result_has_the_endpoint_shape_and_the_exact_size(fal_server, fal_key):
    arguments = schema.validate({"image_url": data_uri(13, 9), "upscale_factor": 1.5, "seed": 11})

    async def scenario() -> tuple[FalJob, dict]:
        job = await engine_for(fal_key).submit(arguments, webhook_url="https://example.com/done")
        return job, await job.result()

    job, result = asyncio.run(scenario())
    expected = schema.output_size(13, 9, 1.5)
    assert (result["image"]["width"], result["image"]["height"]) == expected
    with Image.open(io.BytesIO(httpx.get(result["image"]["url"]).content)) as output:
        assert output.size == expected
    assert result["seed"] == 11 and "inference" in result["timings"]
    (submit,) = fal_server.submits()
    assert job.arguments == arguments == submit.json
    assert submit.query == {"fal_webhook": "https://example.com/done"}
    assert job.request_id and fal_server.state(job.request_id).status == "COMPLETED"


def test_a_local_image_is_uploaded_once_for_many_submits(fal_server, fal_key, tmp_path):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(png_bytes(6, 5))
    second.write_bytes(png_bytes(7, 3, "teal"))
    copy = tmp_path / "copy-of-first.png"
    copy.write_bytes(first.read_bytes())

    async def scenario() -> list[FalJob]:
        engine = engine_for(fal_key)
        concurrent = await asyncio.gather(*[engine.submit({"seed": n}, str(second)) for n in range(3)])
        one = await engine.submit({"seed": 1}, str(first))
        two = await engine.submit({"seed": 2}, str(copy))
        return [*concurrent, one, two]

    jobs = asyncio.run(scenario())
    uploads = fal_server.uploads()
    assert len(uploads) == 2
    assert {job.arguments["image_url"] for job in jobs[:3]} == {uploads[0]}
    assert jobs[3].arguments["image_url"] == jobs[4].arguments["image_url"] == uploads[1]
    assert sorted(s.json["seed"] for s in fal_server.submits()) == [0, 1, 1, 2, 2]
    assert all(s.json["image_url"] in uploads for s in fal_server.submits())


def test_an_https_image_url_is_sent_as_is(fal_server, fal_key, tmp_path):
    path = tmp_path / "in.png"
    path.write_bytes(png_bytes(4, 4))
    url = fal_client.SyncClient(key=fal_key).upload(png_bytes(4, 4), "image/png", file_name="in.png")
    fal_server.reset()

    async def scenario() -> FalJob:
        return await engine_for(fal_key).submit({"image_url": url}, str(path))

    assert asyncio.run(scenario()).arguments == {"image_url": url}
    assert fal_server.uploads() == []


def failure(key: str, arguments: dict | None = None) -> StudioError:
    """Run one request to the end and return the StudioError it raised."""
    async def scenario() -> None:
        job = await engine_for(key).submit(arguments or {"image_url": data_uri()})
        await job.result(timeout=30)

    with pytest.raises(StudioError) as caught:
        asyncio.run(scenario())
    return caught.value


def test_a_rejected_key_says_what_to_do(fal_server):
    error = failure("wrong-key-id:wrong-secret")
    assert isinstance(error, AuthError)
    assert str(error) == "fal rejected this key. Check it, or create one at https://fal.ai/dashboard/keys"


def test_a_locked_account_gives_fals_reason(fal_server, fal_key):
    fal_server.script(submit_status=403)
    error = failure(fal_key)
    assert isinstance(error, AuthError)
    assert "Exhausted balance" in str(error) and "fal.ai/dashboard/billing" in str(error)


def test_a_422_names_the_field_in_plain_words(fal_server, fal_key):
    error = failure(fal_key, {"image_url": data_uri(), "upscale_factor": 5})
    assert isinstance(error, InputError) and error.field == "upscale_factor"
    assert "Upscale factor" in str(error) and "less than or equal to 4" in str(error)
    assert not any(mark in str(error) for mark in ("[", "{", "'loc'"))


def test_a_content_policy_refusal_is_said_plainly(fal_server, fal_key):
    fal_server.script(result_status=422, result_body={"detail": [
        {"loc": ["body", "image_url"], "msg": "The image was flagged by the content checker",
         "type": "content_policy_violation"}]})
    error = failure(fal_key)
    assert isinstance(error, InputError) and error.field == "image_url"
    assert "content checker" in str(error) and "content_policy_violation" not in str(error)


def test_a_server_error_is_an_engine_error_with_the_status(fal_server, fal_key):
    fal_server.script(submit_status=500)
    error = failure(fal_key)
    assert type(error) is EngineError
    assert "HTTP 500" in str(error) and "internal error" in str(error) and "Internal server error" in str(error)


def test_a_rate_limit_that_outlasts_the_jobs_timeout_is_an_engine_error(fal_server, fal_key, monkeypatch):
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 2)
    fal_server.script(submit_status=429)
    engine = FalEngine(fal_key, poll_interval=0.01, job_timeout=1.0)
    engine.submit_backoff = 0.1

    async def scenario() -> None:
        await engine.submit({"image_url": data_uri()})

    with pytest.raises(StudioError) as caught:
        asyncio.run(scenario())
    assert type(caught.value) is EngineError and "HTTP 429" in str(caught.value)
    assert len(fal_server.submits()) > 2  # the engine waited out fal_client's retries and tried again


def test_retried_troubles_do_not_reach_the_user(fal_server, fal_key):
    fal_server.script(status_error=429, status_error_polls=(1, 2), reset_on_poll=4)

    async def scenario() -> tuple[list[Any], dict]:
        job = await engine_for(fal_key).submit({"image_url": data_uri()})
        return await collect(job), await job.result()

    events, result = asyncio.run(scenario())
    assert isinstance(events[-1], Completed) and result["image"]["width"] == 20


def test_completed_with_an_error_ends_the_events_and_fails_the_result(fal_server, fal_key):
    fal_server.script(completed_error="Runner disconnected", completed_error_type="runner_disconnected")

    async def scenario() -> tuple[list[Any], BaseException]:
        job = await engine_for(fal_key).submit({"image_url": data_uri()})
        events = await collect(job)
        with pytest.raises(EngineError) as caught:
            await job.result()
        return events, caught.value

    events, error = asyncio.run(scenario())
    assert isinstance(events[-1], Completed) and events[-1].error == "Runner disconnected"
    assert str(error) == "fal reported an error: Runner disconnected (runner_disconnected)"
    assert error.request_id


@pytest.mark.parametrize("stage, behaviour", [
    ("IN_QUEUE", {"queue_polls": 1000}),
    ("IN_PROGRESS", {"queue_polls": 0, "stall": True}),
])
def test_cancel_reaches_the_server_and_stops_the_events(fal_server, fal_key, stage, behaviour):
    fal_server.script(**behaviour)

    async def scenario() -> tuple[str, str]:
        job = await engine_for(fal_key).submit({"image_url": data_uri()})
        events = job.events()
        first = await events.__anext__()
        state_before = fal_server.state(job.request_id).status
        await job.cancel()
        with pytest.raises(CancelledRun):
            await events.__anext__()
        await job.cancel()  # already completed on the server: not an error
        assert isinstance(first, Queued if stage == "IN_QUEUE" else InProgress)
        return job.request_id, state_before

    request_id, state_before = asyncio.run(scenario())
    assert state_before == stage
    state = fal_server.state(request_id)
    assert state.cancel_received and state.status == "COMPLETED"
    cancels = [r.path for r in fal_server.requests if r.method == "PUT"]
    assert cancels == [f"/{schema.ENDPOINT}/requests/{request_id}/cancel"] * 2


def test_attach_follows_a_request_by_its_id(fal_server, fal_key):
    fal_server.script(queue_polls=1, run_polls=3, logs=["one", "two", "three"])

    async def submit() -> tuple[str, list[str]]:
        job = await engine_for(fal_key).submit({"image_url": data_uri(5, 5), "upscale_factor": 2})
        seen = []
        async for event in job.events():
            seen += [entry["message"] for entry in getattr(event, "logs", [])]
            if seen:
                break  # the app "restarts" mid-run
        return job.request_id, seen

    async def resume(request_id: str) -> tuple[list[Any], dict]:
        job = await engine_for(fal_key).attach(request_id, {"upscale_factor": 2})
        assert job.request_id == request_id and job.arguments == {"upscale_factor": 2}
        return await collect(job), await job.result()

    request_id, seen = asyncio.run(submit())
    events, result = asyncio.run(resume(request_id))
    assert seen == ["one"]
    assert messages(events) == ["one", "two", "three"]  # a new job starts its own log from the top
    assert result["image"]["width"] == 10


def test_a_stalled_request_hits_the_timeout(fal_server, fal_key):
    fal_server.script(queue_polls=0, stall=True)

    async def scenario() -> tuple[str, EngineTimeoutError, EngineTimeoutError]:
        job = await engine_for(fal_key).submit({"image_url": data_uri()})
        with pytest.raises(EngineTimeoutError) as from_events:
            await collect(job, timeout=0.3)
        with pytest.raises(EngineTimeoutError) as from_result:
            await job.result(timeout=0.3)
        return job.request_id, from_events.value, from_result.value

    request_id, from_events, from_result = asyncio.run(scenario())
    assert from_events.request_id == from_result.request_id == request_id
    assert request_id in str(from_result) and "0.3 s" in str(from_result)
    assert fal_server.state(request_id).status == "IN_PROGRESS"  # not cancelled behind the user's back


def test_the_key_appears_in_no_error_message(fal_server, fal_key):
    echo = f"Key {fal_key} is not allowed here"
    errors = [failure("bad-id:bad-secret-0123456789")]
    for code, body in [(400, {"detail": echo}), (403, {"detail": echo}), (500, {"detail": echo}),
                       (422, {"detail": [{"loc": ["body", "prompt"], "msg": echo, "type": "value_error"}]})]:
        fal_server.script(times=1, submit_status=code, submit_body=body)
        errors.append(failure(fal_key))
    fal_server.script(times=1, completed_error=echo)
    errors.append(failure(fal_key))
    errors.append(translate(RuntimeError(echo), key=fal_key))
    secret = fal_key.partition(":")[2]
    for error in errors:
        assert fal_key not in str(error) and secret not in str(error) and secret not in repr(error.args)
    assert all("***" in str(error) for error in errors[1:])
    assert fal_key not in repr(engine_for(fal_key))


def test_missing_credentials_and_timeouts_are_translated():
    assert isinstance(translate(MissingCredentialsError("none")), AuthError)
    assert isinstance(translate(fal_client.FalClientTimeoutError(5.0, "req-1")), EngineTimeoutError)
    assert isinstance(translate(httpx.ReadTimeout("slow")), EngineTimeoutError)
    assert type(translate(httpx.ConnectError("refused"))) is EngineError
    with pytest.raises(AuthError):
        FalEngine("  ")


class _ReplyingHandle:
    """A request handle whose next status reply the test delivers by hand."""

    request_id = "race-0001"

    def __init__(self) -> None:
        self.reply: asyncio.Future | None = None
        self.polls = 0

    def status(self, with_logs: bool = False) -> asyncio.Future:
        self.polls += 1
        self.reply = asyncio.get_running_loop().create_future()
        return self.reply

    async def cancel(self) -> None:
        return None


def test_cancelling_as_a_status_reply_arrives_still_stops_the_job(fal_key):
    """The sweep's Cancel all hung: Python 3.11's wait_for swallowed a cancel that met a reply, and polling went on."""
    handle = _ReplyingHandle()

    async def scenario() -> int:
        job = FalJob(engine_for(fal_key), handle, {})
        follower = asyncio.ensure_future(collect(job))
        while handle.reply is None:
            await asyncio.sleep(0)
        handle.reply.set_result(InProgress(logs=[]))  # the reply and the cancel land in the same loop step
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(follower), 2)
        return handle.polls

    assert asyncio.run(scenario()) == 1  # no further poll after the cancel
