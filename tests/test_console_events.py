"""The runner's typed events, as the console words them: each kind has its own sentence, stamped with the time
it happened, and queue position 0 reads "next in line"."""

from __future__ import annotations

import dataclasses
import time

from components.upscale import console
from core.runs import events

SAMPLES = {
    events.Submitting: events.Submitting("fal"), events.Submitted: events.Submitted("req-1"),
    events.Reattaching: events.Reattaching("req-1"), events.QueuePosition: events.QueuePosition(3),
    events.Started: events.Started("local", "fast"), events.LogLine: events.LogLine("step 2/18", "WARNING"),
    events.Metric: events.Metric({"inference_time": 1.5}), events.Fetching: events.Fetching(),
    events.Saved: events.Saved(640, 480, 1_234_567), events.Note: events.Note("metadata ignored"),
    events.Failure: events.Failure("Creativity must be 0-1.", "creativity"),
    events.Done: events.Done(2.25, 42, "req-1"), events.FromHistory: events.FromHistory("run-1"),
    events.Cancelled: events.Cancelled("req-1"),
}


def test_every_kind_of_event_has_its_own_sentence() -> None:
    kinds = {cls for cls in vars(events).values()
             if isinstance(cls, type) and issubclass(cls, events.Event) and cls is not events.Event}
    assert kinds == set(SAMPLES)
    sentences = {kind: console.lines([event])[0].split("  ", 1)[1] for kind, event in SAMPLES.items()}
    assert all(not text.startswith(kind.__name__ + "(") for kind, text in sentences.items())  # not a repr
    assert len(set(sentences.values())) == len(sentences)
    assert sentences[events.LogLine] == "[WARNING] step 2/18"
    assert sentences[events.Done] == "Done in 2.2 s · seed 42 · request req-1"
    # 1,234,567 bytes as the page's file box (Gradio) writes a size: 1024-based, one decimal below 10.
    assert sentences[events.Saved] == "Saved 640×480 PNG (1.2 MB)."


def test_queue_position_zero_is_next_in_line() -> None:
    assert console.lines([events.QueuePosition(0)])[0].endswith("In queue: next in line")


def test_a_line_carries_the_time_its_event_happened() -> None:
    moment = time.mktime((2026, 11, 29, 13, 45, 7, 0, 0, -1)) + 0.25
    event = dataclasses.replace(events.Fetching(), at=moment)
    assert console.lines([event]) == ["13:45:07.250  Fetching the result…"]
