"""Console panel: every event as a timestamped line, and a stage indicator queued → running → done."""

from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr

from components.upscale.console_log import ConsoleLog
from core.runs import events
from core.runs.runner import STAGES


def stamp(text: str, when: float | None = None) -> str:
    """A console line: local time to the millisecond, then the text."""
    when = time.time() if when is None else when
    return f"{time.strftime('%H:%M:%S', time.localtime(when))}.{int(when % 1 * 1000):03d}  {text}"


def _words(event: events.Event) -> str:
    match event:
        case events.Submitting(engine=engine):
            return f"Submitting to the {engine} engine…"
        case events.Submitted(request_id=request_id):
            return f"Submitted · request {request_id}"
        case events.Reattaching(request_id=request_id):
            return f"Re-attaching to request {request_id}…"
        case events.QueuePosition(position=0):
            return "In queue: next in line"
        case events.QueuePosition(position=position):
            return f"In queue at position {position}"
        case events.Started(engine=engine, model=model):
            return f"Running ({engine}{', ' + model if model else ''})"
        case events.LogLine(message=message, level=level):
            return f"[{level}] {message}"
        case events.Metric(values=values):
            return "Metrics: " + ", ".join(f"{name}={value}" for name, value in values.items())
        case events.Fetching():
            return "Fetching the result…"
        case events.Saved(width=width, height=height, size_bytes=size):
            return f"Saved {width}×{height} PNG ({file_size(size)})."
        case events.Note(text=text):
            return f"Note: {text}"
        case events.FromHistory(status="completed"):
            return "Already in the history: showing the stored result."
        case events.FromHistory(status=status):
            return f"Already in the history, {status}: there is no result to show."
        case events.Failure(message=message):
            return f"Error: {message}"
        case events.Cancelled(request_id=request_id):
            return f"Cancelled · request {request_id or 'not sent'} · recorded in the history."
        case events.Done(seconds=seconds, seed=seed, request_id=request_id):
            took = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2f}"  # a fast run is not "0.0 s"
            used = f"seed {seed}" if seed is not None else "seed not used"  # an engine without randomness
            return f"Done in {took} s · {used} · request {request_id}"
    return str(event)


def lines(happened: list[events.Event]) -> list[str]:
    """The console lines for ``happened``, each stamped with the time it happened."""
    return [stamp(_words(event), event.at) for event in happened]


@dataclass
class Console:
    stage: gr.HTML
    log: ConsoleLog


def stage_html(stage: str, paid: bool = False) -> str:
    """The progress strip: each stage lit once reached; a failure or cancel shown in place of 'done'. ``paid``
    marks a run on a priced engine: Escape asks before it cancels one in flight (components/common/shortcuts.html)."""
    reached = STAGES.index(stage) if stage in STAGES else (-1 if stage == "idle" else len(STAGES) - 1)
    steps = []
    for index, name in enumerate(STAGES):
        label = stage if (name == "done" and stage in ("failed", "cancelled")) else name
        state = "now" if index == reached else ("past" if index < reached else "")
        if stage in ("failed", "cancelled") and name == "done":
            state = stage
        steps.append(f'<span class="stage {state}">{label}</span>')
    return (f'<div class="stages" data-stage="{stage}" data-paid="{str(paid).lower()}">' + " → ".join(steps)
            + "</div>")


def file_size(size_bytes: int) -> str:
    """A file's size as the page's file box (Gradio's File) writes it, so the console and the box read alike:
    1024-based units, one decimal below 10 ("1.3 MB", "14 MB")."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    amount, units = size_bytes / 1024, ["KB", "MB", "GB", "TB"]
    while amount >= 1024 and len(units) > 1:
        amount, units = amount / 1024, units[1:]
    return f"{amount:.1f} {units[0]}" if amount < 10 else f"{int(amount + 0.5)} {units[0]}"  # JS Math.round


def render() -> Console:
    stage = gr.HTML(stage_html("idle"), elem_id="stage")
    log = ConsoleLog(label="Console", lines=10, max_lines=18, interactive=False, autoscroll=True,
                     elem_id="console", buttons=["copy"], placeholder="Console: queue status and logs appear here.")
    return Console(stage, log)
