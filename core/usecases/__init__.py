"""The use cases: everything a run needs between a request and its events, in one place for every door.

A door (the Upscale event, the Sweep tab, retry, fetch, the resume at start-up, the public API — which calls the
same handlers) turns what it was given into a request and a ``Visitor`` (``core/sharing/visitor.py``), calls one
of these, and turns what it yields into a view:

- ``run_one(RunRequest, Visitor)`` → ``Update``s (``core/runs/runner.py``) of one upscale;
- ``run_sweep(SweepRequest, Visitor)`` and ``retry_cells(RetryRequest, Visitor)`` → ``SweepProgress`` snapshots;
- ``fetch(id, Visitor)`` → ``Update``s of a run followed again, or shown from the history;
- ``resume_pending()`` → the background thread following pending runs after a restart.

They own validation (``validate.py``), engine choice and construction, rate limits, job slots, the Space key's
rules and budget reservations priced from each engine's descriptor (``admission.py``), saving
(``core/runs/store.py``) and running. Refusals are StudioErrors raised before anything is sent; components turn
them into messages. Nothing else builds an engine, checks a limit or reserves a budget (tests/test_architecture.py).
"""

from __future__ import annotations

from core.sharing.visitor import Visitor
from core.usecases.admission import key_refusal, over_budget, spent_today
from core.usecases.fetch import fetch, resume_pending
from core.usecases.run import RunRequest, run_one
from core.usecases.sweep import RetryRequest, SweepProgress, SweepRequest, retry_cells, run_sweep

__all__ = ["RetryRequest", "RunRequest", "SweepProgress", "SweepRequest", "Visitor", "fetch", "key_refusal",
           "over_budget", "resume_pending", "retry_cells", "run_one", "run_sweep", "spent_today"]
