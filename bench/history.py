"""History at scale: 100,000 runs, then the first table as the UI builds it, one save, and memory.

Run: python -m bench.history        Goals: first table ≤ 0.5 s, one save ≤ 20 ms.
``BENCH_HISTORY_RUNS`` changes the number of runs (100,000 is the figure issue 13 asks for).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import schema  # noqa: E402
from core.runs.history import History  # noqa: E402
from core.runs.runs import Run  # noqa: E402

RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", 100_000))
TABLE_LIMIT = 500  # what the history panel shows (History.table's default)
THUMBNAILS = 48  # the newest runs the History tab shows as pictures (components/history/history_panel.py)
GOAL_TABLE_S, GOAL_SAVE_MS = 0.5, 20.0
WORDS = ("fox", "cat", "portrait", "city", "night", "watercolour", "macro", "forest", "neon", "film", "grain",
         "studio", "light", "old", "photo")


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB; 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def fake_run(rng: random.Random, when: float, owner: str = "") -> Run:
    arguments = schema.defaults()
    arguments.update(prompt=" ".join(rng.sample(WORDS, 5)) + ", masterpiece, best quality",
                     upscale_factor=rng.choice([1.5, 2.0, 3.0, 4.0]), creativity=round(rng.random(), 2),
                     resemblance=round(rng.random(), 2), guidance_scale=round(rng.uniform(0, 20), 1),
                     num_inference_steps=rng.randint(4, 50), seed=rng.randint(0, schema.MAX_SEED))
    run = Run(engine=rng.choice(["fal", "local"]), arguments=arguments, owner=owner, created_at=when)
    run.status = rng.choices(["completed", "failed", "cancelled"], [90, 7, 3])[0]
    run.request_id, run.seed = f"req-{run.id}", arguments["seed"]
    run.started_at, run.finished_at = when + rng.random() * 5, when + 5 + rng.random() * 40
    run.width, run.height, run.timings = 2048, 1536, {"inference": round(rng.uniform(3, 40), 2)}
    run.input_path, run.output_path = "inputs/abc.png", f"outputs/{run.id}.png"
    run.sweep_id = f"sweep-{int(when) // 600}" if rng.random() < 0.3 else None
    return run


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> dict:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CLARITY_DATA_DIR"] = folder
        start = time.time() - RUNS * 60
        fill_start = time.perf_counter()
        with closing(History.open_default()) as history:
            for i in range(RUNS):
                history.save(fake_run(rng, start + i * 60, owner=f"visitor{i % 20}"))
        fill_s = time.perf_counter() - fill_start
        size_mb = Path(folder, "history.sqlite3").stat().st_size / 1e6

        # As at start-up: open (quick_check included), then the first table and its conversion for gr.Dataframe,
        # and the count behind "newest 500 of N" (the History tab's history_view asks for it when full).
        rss_before = rss_mb()
        tracemalloc.start()
        first_start = time.perf_counter()
        history = History.open_default()
        open_s = time.perf_counter() - first_start
        payload = history.table(None, limit=TABLE_LIMIT).to_dict("split")
        total = history.count(None)
        first_table_s = time.perf_counter() - first_start
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rss_delta_mb = rss_mb() - rss_before
        assert len(payload["data"]) == TABLE_LIMIT and total == RUNS

        table_again_s = min(timed(lambda: history.table(None).to_dict("split")) for _ in range(5))
        owner_table_s = min(timed(lambda: history.table("visitor3").to_dict("split")) for _ in range(5))
        search_s = min(timed(lambda: history.table(None, search="fox neon").to_dict("split")) for _ in range(5))
        everything_s = min(timed(lambda: history.table(None, limit=None).to_dict("split")) for _ in range(3))
        frame_s = timed(lambda: history.frame(None))

        # The History tab's first render with its thumbnails, as its handler makes it (the table, then the newest
        # runs' thumbnails): the newest runs get real 1024×1024 outputs, whose thumbnails are made on that first
        # render (cold) and read back after (warm).
        from PIL import Image

        from core.runs.thumbs import thumbnail

        picture = Image.effect_noise((1024, 1024), 60).convert("RGB")
        for run_id in history.table(None, limit=THUMBNAILS)["id"]:
            run = history.get(run_id)
            if run is None:
                raise RuntimeError(f"run {run_id} vanished from the history it was just listed in")
            run.output_path = str(Path(folder, f"{run_id}.png"))
            picture.save(run.output_path, compress_level=1)
            history.save(run)

        def view() -> None:
            frame = history.table(None)
            for run_id in frame["id"][:THUMBNAILS]:
                run = history.get(run_id)
                if run is not None:
                    thumbnail(run, Path(folder))
        with_thumbnails_cold_s = timed(view)
        with_thumbnails_warm_s = min(timed(view) for _ in range(3))

        saves_ms, updates_ms = [], []
        for _ in range(200):
            run = fake_run(rng, time.time())
            run.status = "queued"
            saves_ms.append(timed(lambda run=run: history.save(run)) * 1000)
            run.status = "running"
            updates_ms.append(timed(lambda run=run: history.save(run)) * 1000)
        history.close()

    save_ms = statistics.median(saves_ms)
    result = {
        "runs": RUNS, "table_limit": TABLE_LIMIT, "db_size_mb": round(size_mb, 2), "fill_s": round(fill_s, 2),
        "open_s": round(open_s, 4), "first_table_s": round(first_table_s, 4),
        "table_again_s": round(table_again_s, 4), "owner_table_s": round(owner_table_s, 4),
        "search_table_s": round(search_s, 4), "all_rows_table_s": round(everything_s, 4),
        "full_frame_s": round(frame_s, 4), "first_render_with_thumbnails_cold_s": round(with_thumbnails_cold_s, 3),
        "render_with_thumbnails_warm_s": round(with_thumbnails_warm_s, 4),
        "save_median_ms": round(save_ms, 3), "save_p95_ms": round(sorted(saves_ms)[189], 3),
        "update_median_ms": round(statistics.median(updates_ms), 3),
        "first_table_peak_python_mb": round(peak_mb, 2), "first_table_rss_delta_mb": round(rss_delta_mb, 2),
        "goal_first_table_s": GOAL_TABLE_S, "goal_save_ms": GOAL_SAVE_MS,
        "meets_goals": first_table_s <= GOAL_TABLE_S and save_ms <= GOAL_SAVE_MS,
    }
    return result


def write_result(name: str, result: dict[str, Any]) -> Path:
    path = Path(__file__).resolve().parent / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    return path


if __name__ == "__main__":
    figures = main()
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    print(f"wrote {write_result('history', figures)}")
