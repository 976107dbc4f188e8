"""Run every benchmark in bench/ (each in its own process, one after another), then summarise their goals.

The summary is one markdown table (benchmark, figure, goal, met?) built from ``bench/results/<name>.json``,
printed and written to ``bench/results/SUMMARY.md`` with the machine description.

Run: python -m bench.run_all                    every benchmark, then the summary (about 10 minutes)
     python -m bench.run_all overhead startup   only these, then the summary of all results present
     python -m bench.run_all --summary          the summary of the results already written
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import RESULTS, machine  # noqa: E402

TIMEOUT_S = 1800
# Benchmarks written before the "goals" key: (figure path in the JSON, goal). A goal of None shows the figure
# without judging it. A JSON's own "goals" ({figure: {"goal": "<= 100"}}) takes precedence.
FALLBACK_GOALS: dict[str, list[tuple[str, str | None]]] = {
    "history": [("first_table_s", "<= 0.5"), ("save_median_ms", "<= 20")],
    "local_engine": [("fast.s_per_output_mp", None), ("quality.s_per_output_mp", None),
                     ("fast_1024_to_4096.peak_rss_mb", None), ("torch.fast.ncnn_speed_over_torch", None),
                     ("torch.quality.ncnn_speed_over_torch", None)],  # ncnn vs torch: context, never judged
}


def benchmarks() -> list[str]:
    """Every runnable benchmark module in bench/ (helpers start with an underscore)."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all")


def run(name: str) -> dict[str, Any]:
    """``python -m bench.<name>`` in a fresh process; its exit code, seconds and the tail of its output."""
    print(f"--- {name} ---", flush=True)
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        code, output = -1, f"timed out after {TIMEOUT_S} s\n{partial}"
    seconds = time.monotonic() - start
    tail = "\n".join(line for line in output.splitlines() if not line.startswith("Closing server"))[-3000:]
    print(tail, flush=True)
    print(f"--- {name}: exit {code} in {seconds:.0f} s ---\n", flush=True)
    return {"exit": code, "seconds": round(seconds, 1)}


def lookup(figures: dict[str, Any], path: str) -> Any:
    value: Any = figures
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):  # "sweeps.0.ratio"
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def judge(value: Any, goal: str | None) -> str:
    """``yes`` / ``**no**`` for a goal like ``<= 100``; ``—`` when there is no goal or no number."""
    if goal is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return "—"
    op, _, limit = goal.partition(" ")
    try:
        bound = float(limit)
    except ValueError:
        return "—"
    met = {"<=": value <= bound, "<": value < bound, ">=": value >= bound, ">": value > bound}.get(op)
    return "—" if met is None else ("yes" if met else "**no**")


def rows_for(name: str, figures: dict[str, Any]) -> list[tuple[str, Any, str | None, str]]:
    """(figure, value, goal, floor) per judged figure. A goal spec may name a ``floor``: the path of the figure
    it is measured against in the same run (a bare Gradio page, a bare engine call), shown beside it."""
    if isinstance(figures.get("goals"), dict):
        rows = []
        for path, spec in figures["goals"].items():
            goal = spec.get("goal") if isinstance(spec, dict) else spec
            floor_path = spec.get("floor") if isinstance(spec, dict) else None
            floor = f"{floor_path} = {show(lookup(figures, floor_path))}" if floor_path else "—"
            rows.append((path, lookup(figures, path), goal, floor))
        return rows
    rows = []
    for path, goal in FALLBACK_GOALS.get(name, []):
        if goal is not None and "{goal}" in goal:
            goal = goal.format(goal=figures.get("goal")) if figures.get("goal") is not None else None
        rows.append((path, lookup(figures, path), goal, "—"))
    return rows


def show(value: Any) -> str:
    if value is None:
        return "missing"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def summary(names: list[str], runs: dict[str, dict[str, Any]]) -> str:
    """The markdown summary of every result file present (and of the runs that failed)."""
    lines = ["| benchmark | figure | value | goal | met? | floor (same run) | measured |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        path = RESULTS / f"{name}.json"
        outcome = runs.get(name)
        if outcome and outcome["exit"] != 0:
            lines.append(f"| {name} | run | failed (exit {outcome['exit']}) | — | **no** | — | — |")
            continue
        if not path.exists():
            lines.append(f"| {name} | — | no result yet | — | — | — | — |")
            continue
        figures = json.loads(path.read_text())
        when = str(figures.get("measured_at", "—"))[:16].replace("T", " ")
        rows = rows_for(name, figures) or [("(no goal)", None, None, "—")]
        for figure, value, goal, floor in rows:
            shown = "—" if figure == "(no goal)" else show(value)
            lines.append(f"| {name} | {figure} | {shown} | {goal or '—'} | {judge(value, goal)} | {floor} | {when} |")
    about = machine()
    head = (f"# Benchmark summary\n\nMeasured on Python {about['python']}, {about['processor']}, {about['cores']} "
            f"cores; written {time.strftime('%Y-%m-%d %H:%M:%S %z')}. Each benchmark's full figures are in "
            f"`bench/results/<name>.json`; what they mean is in `bench/README.md`.\n\n")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    available = benchmarks()
    summary_only = "--summary" in argv
    chosen = [a for a in argv if not a.startswith("-")] or ([] if summary_only else available)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    runs = {name: run(name) for name in chosen}
    text = summary(available, runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "SUMMARY.md").write_text(text)
    print(text)
    print(f"written to {(RESULTS / 'SUMMARY.md').relative_to(ROOT)}")
    return 1 if any(outcome["exit"] != 0 for outcome in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
