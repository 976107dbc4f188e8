"""Start-up work done at launch (never at import): re-attach to fal runs a restart left pending."""

from __future__ import annotations

from typing import Any

from components import store
from core import config
from core.engines import make_engine
from core.resume import resume_in_background
from core.runs import Run


def _engine_for(run: Run) -> Any:
    key = config.env_fal_key()  # a key typed in a browser session died with it; such runs wait for a fetch
    return make_engine("fal", key) if key else None


def resume_pending_runs() -> Any:
    """Follow every pending fal run to completion in the background; mark interrupted local runs."""
    return resume_in_background(store.store(), _engine_for)
