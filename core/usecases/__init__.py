"""The use cases: everything a run needs between a request and its events, in one place for every door.

A door (the Upscale event, the Sweep tab, retry, fetch, the resume at start-up, the public API — which calls the
same handlers) turns what it was given into a request and a ``Visitor`` (``core/sharing/visitor.py``), calls one
of these, and turns what it yields into a view:

- ``run_one(RunRequest, Visitor)`` → ``Update``s (``core/runs/runner.py``) of one upscale;
- ``run_sweep(SweepRequest, Visitor)`` and ``retry_cells(RetryRequest, Visitor)`` → ``SweepProgress`` snapshots;
- ``fetch(id, Visitor)`` → ``Update``s of a run followed again, or shown from the history;
- ``estimate_sweep(SweepRequest, owner, image_path, scope)`` → a ``SweepEstimate``: a sweep's plan, price and time
  before it runs, learned from the history (``estimate.py``);
- ``control``: what a visitor started, by id — ``status``, ``cancel``, ``retry_request``, ``sweep_cells``
  (``control.py``; only the visitor's own history is searched); ``estimate.dry_run`` prices a sweep unrun;
- ``quote_sweep(SweepRequest, Visitor)`` → a ``SweepQuote``: the same, with the key rules and budget that would
  apply, for a door without a pre-flight line (``/sweep_price``, an MCP tool; ``quote.py``);
- ``resume_pending()`` → the background thread following pending runs after a restart;
- ``keep_saving()`` → the thread saving again, every 30 s, a finished paid result the machine could not keep
  (``core/runs/unsaved.py``); ``admit_paid_work`` refuses new paid work while one waits;
- ``key_missing(engines, Visitor)`` → why a run on those engines would be refused for want of a fal key (the
  run's own words), or None: for a pre-flight that says so before Run is pressed.

Values from outside (the public API) become requests only through ``RunRequest.checked``,
``SweepRequest.checked``, ``HistoryQuery.checked`` and ``FetchQuery.checked`` (``values.py``): every parameter
checked against its declared type and range, and refused by name, before anything runs.

``run_one``, ``run_sweep`` and ``retry_cells`` outlive whoever follows them (``outliving.py``): a closed tab or a
dropped API connection leaves the run going to its end and into the history; only a cancel cancels it.

They own validation (``validate.py``), engine choice and construction, rate limits, job slots, the Space key's
rules and budget reservations priced from each engine's descriptor (``admission.py``), saving
(``core/runs/store.py``) and running. Refusals are StudioErrors raised before anything is sent; components turn
them into messages. Nothing else builds an engine, checks a limit or reserves a budget (tests/test_architecture.py).
"""

from __future__ import annotations

from core.sharing.visitor import Visitor
from core.usecases.admission import admit_paid_work, keep_saving, key_missing, key_refusal, over_budget, spent_today
from core.usecases.estimate import SweepEstimate, estimate_sweep
from core.usecases.fetch import fetch, resume_pending
from core.usecases.run import RunRequest, run_one
from core.usecases.sweep import RetryRequest, SweepProgress, SweepRequest, retry_cells, run_sweep
from core.usecases.values import DatasetQuery, FetchQuery, HistoryQuery, IdQuery

__all__ = ["DatasetQuery", "FetchQuery", "HistoryQuery", "IdQuery", "RetryRequest", "RunRequest", "SweepEstimate",
           "SweepProgress", "SweepRequest", "Visitor", "admit_paid_work", "estimate_sweep", "fetch", "keep_saving",
           "key_missing", "key_refusal",
           "over_budget", "resume_pending", "retry_cells", "run_one", "run_sweep", "spent_today"]
