"""Settings read from the environment, once per call (never at import time).

Numbers and switches go through one checked reader: :func:`number` (its bounds in ``NUMBERS``) and :func:`flag`.
A value that is missing gives the default; one that is empty, not a number, not finite, not whole where it must
be, or out of its range gives the default too, and ``core/config_check.py`` says so in one line at start.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Bounds:
    """What a numeric variable takes: ``lo``..``hi`` (inclusive; None = open), whole numbers only (``whole``), in
    ``unit``; ``above`` excludes ``lo`` itself. ``default`` says the default in words, for the start-up check."""

    lo: float | None
    hi: float | None
    whole: bool
    unit: str
    default: str
    above: bool = False

    def takes(self) -> str:
        """"a whole number from 0 to 1000 (runs a minute)"."""
        kind = "a whole number" if self.whole else "a number"
        lo = None if self.lo is None else f"{self.lo:g}"
        if lo is not None and self.hi is not None:
            span = f" above {lo}, at most {self.hi:g}" if self.above else f" from {lo} to {self.hi:g}"
        elif lo is not None:
            span = f" above {lo}" if self.above else f" of at least {lo}"
        else:
            span = ""
        return f"{kind}{span} ({self.unit})"


NUMBERS: dict[str, Bounds] = {
    "CLARITY_MAX_INPUT_MP": Bounds(0, 10_000, False, "megapixels", "16", above=True),
    "CLARITY_MAX_OUTPUT_MP": Bounds(0, 100_000, False, "megapixels", "64", above=True),
    "CLARITY_MAX_UPLOAD_MB": Bounds(0, 100_000, False, "megabytes", "50", above=True),
    "CLARITY_RUNS_PER_MINUTE": Bounds(0, 1_000_000, True, "runs a minute, 0 = no limit",
                                      "10 on a shared app, none otherwise"),
    "CLARITY_MAX_QUEUE": Bounds(0, 1_000_000, True, "runs, 0 = no cap", "64"),
    "CLARITY_MAX_JOBS_PER_VISITOR": Bounds(0, 1_000_000, True, "runs at once, 0 = no cap",
                                           "3 on a shared app, none otherwise"),
    "CLARITY_MAX_SWEEP_CELLS": Bounds(1, 100_000, True, "cells", "100"),
    "CLARITY_PAGE_MB": Bounds(0, 100_000, False, "megabytes, above which an exported sweep page leaves out the "
                              "full-size pictures", "200", above=True),
    "CLARITY_CONFIRM_PRICE": Bounds(0, None, False, "US dollars", "1"),
    "CLARITY_CONFIRM_CELLS": Bounds(0, None, True, "cells", "16"),
    "CLARITY_SWEEP_CONCURRENCY": Bounds(0, 10_000, True, "fal cells in flight, 0 = no ceiling", "no ceiling"),
    "CLARITY_FAL_CONCURRENCY": Bounds(0, 10_000, True, "requests your fal account runs at once, 0 = inferred",
                                      "inferred from the runs seen"),
    "CLARITY_LEDGER_DAYS": Bounds(1, 100_000, True, "days the spending ledger keeps", "30"),
    "CLARITY_FAL_TIMEOUT": Bounds(0, None, False, "seconds, 0 = no limit", "1800"),
    "CLARITY_FETCH_TIMEOUT": Bounds(0, 3600, False, "seconds", "15", above=True),
    "CLARITY_DAILY_BUDGET_USD": Bounds(0, None, False, "US dollars a day, 0 = no cap",
                                       "5 on a shared app with FAL_KEY"),
    "CLARITY_VISITOR_DAILY_BUDGET_USD": Bounds(0, None, False, "US dollars a day, 0 = no cap",
                                               "0.5 on a shared app with FAL_KEY"),
    "CLARITY_PROXY_HOPS": Bounds(0, 20, True, "proxies", "1 on a Space, 0 otherwise"),
}


def number_problem(name: str) -> str | None:
    """What is wrong with the value of ``name`` (a ``NUMBERS`` variable) — "is empty", "is 'abc', not a
    number", ... — or None when it is unset or fine."""
    raw = os.environ.get(name)
    if raw is None:
        return None
    text, bounds = raw.strip(), NUMBERS[name]
    if not text:
        return "is empty"
    try:
        value = float(text)
    except ValueError:
        return f"is {text!r}, not a number"
    if not math.isfinite(value):
        return f"is {text!r}, not a finite number"
    if bounds.whole and value != int(value):
        return f"is {text!r}, not a whole number"
    low = bounds.lo is not None and (value <= bounds.lo if bounds.above else value < bounds.lo)
    if low or (bounds.hi is not None and value > bounds.hi):
        return f"is {text!r}, out of range"
    return None


def number(name: str, default: float) -> float:
    """The value of the numeric variable ``name`` (bounds in ``NUMBERS``); ``default`` when it is unset, empty,
    malformed or out of range (``core/config_check.py`` reports which at start)."""
    if os.environ.get(name) is None or number_problem(name):
        return default
    return float(os.environ[name].strip())


def whole(name: str, default: int) -> int:
    """:func:`number` for a variable of whole numbers."""
    return int(number(name, default))


def flag_problem(name: str) -> str | None:
    """What is wrong with the switch ``name`` ("is 'maybe', not one of 1/0, true/false, yes/no, on/off"), or None."""
    raw = os.environ.get(name)
    if raw is None or raw.strip().lower() in TRUE + FALSE:
        return None
    return "is empty" if not raw.strip() else f"is {raw.strip()!r}, not one of 1/0, true/false, yes/no, on/off"


def flag(name: str, default: bool, unclear: bool | None = None) -> bool:
    """The switch ``name``: ``default`` when unset; ``unclear`` (default: ``default``) when it is set to anything
    but 1/0, true/false, yes/no, on/off — callers pass the safe side."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():  # empty: as if unset (the start-up check says so)
        return default
    text = raw.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return default if unclear is None else unclear


def mcp_uses_space_key() -> bool:
    """Whether MCP callers may run on the Space's own ``FAL_KEY`` (``CLARITY_MCP_USES_SPACE_KEY``, off by default;
    a value neither on nor off keeps it off): an MCP caller is a new visitor per session, so the owner opts in."""
    return flag("CLARITY_MCP_USES_SPACE_KEY", False, unclear=False)


def persistent_root() -> Path | None:
    """A Space's persistent storage (``CLARITY_PERSISTENT_ROOT``, default ``/data``) when this runs on a Space
    and it is a writable directory; None otherwise (the container's own disk is wiped at every restart)."""
    if not os.environ.get("SPACE_ID"):
        return None
    root = Path(os.environ.get("CLARITY_PERSISTENT_ROOT") or "/data")
    return root if root.is_dir() and os.access(root, os.W_OK | os.X_OK) else None


def data_dir() -> Path:
    """The data directory, created on first use: ``$CLARITY_DATA_DIR``; else, on a Space with persistent
    storage, ``<persistent root>/clarity-studio``; else ``./data``."""
    explicit = os.environ.get("CLARITY_DATA_DIR")
    root = None if explicit else persistent_root()
    path = Path(explicit or (root / "clarity-studio" if root else "data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def history_is_ephemeral() -> bool:
    """On a Space whose history lives on the container's own disk (lost at every restart or rebuild)."""
    return bool(os.environ.get("SPACE_ID")) and not os.environ.get("CLARITY_DATA_DIR") and persistent_root() is None


def env_fal_key() -> str | None:
    """The Space's or machine's fal key, if any (``FAL_KEY``, or ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``)."""
    key = os.environ.get("FAL_KEY", "").strip()
    if key:
        return key
    key_id, secret = os.environ.get("FAL_KEY_ID", "").strip(), os.environ.get("FAL_KEY_SECRET", "").strip()
    return f"{key_id}:{secret}" if key_id and secret else None


def max_input_megapixels() -> float:
    """Inputs larger than this are refused before decoding (``CLARITY_MAX_INPUT_MP``)."""
    return number("CLARITY_MAX_INPUT_MP", 16)


def max_upload_bytes() -> int:
    """Uploads and fetched URLs larger than this are refused (``CLARITY_MAX_UPLOAD_MB``)."""
    return int(number("CLARITY_MAX_UPLOAD_MB", 50) * 1024 * 1024)


def max_output_megapixels() -> float:
    """Runs whose output would be larger than this are refused (``CLARITY_MAX_OUTPUT_MP``)."""
    return number("CLARITY_MAX_OUTPUT_MP", 64)


def page_full_size_bytes() -> int:
    """An exported sweep page larger than this leaves its full-size pictures out (``CLARITY_PAGE_MB``)."""
    return int(number("CLARITY_PAGE_MB", 200) * 1024 * 1024)


OAUTH_VARIABLES = ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "OAUTH_SCOPES", "OPENID_PROVIDER_URL")


def on_space() -> bool:
    """Running as a Hugging Face Space (``SYSTEM=spaces`` with a ``SPACE_ID``)."""
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))


def missing_oauth() -> tuple[str, ...]:
    """The OAuth variables a Space sets with ``hf_oauth: true`` that are missing or empty here."""
    return tuple(name for name in OAUTH_VARIABLES if not os.environ.get(name, "").strip())


def sign_in_available() -> bool:
    """Sign in with Hugging Face can work: on a Space whose OAuth variables are all set (``hf_oauth: true``).
    Without them Gradio's login button stops the app at start, so it is not rendered."""
    return on_space() and not missing_oauth()


def shared_mode() -> bool:
    """Strangers share this process: on a Hugging Face Space (``SPACE_ID``), or ``CLARITY_SHARED=1``. A value of
    ``CLARITY_SHARED`` that is neither on nor off counts as on (the safe side: per-visitor walls)."""
    return flag("CLARITY_SHARED", bool(os.environ.get("SPACE_ID")), unclear=True)


def browser_secret() -> str:
    """The secret that obfuscates the owner id kept in the browser: ``CLARITY_BROWSER_SECRET`` or one made once
    in the data directory (so ids survive a restart). It obfuscates; it does not protect."""
    secret = os.environ.get("CLARITY_BROWSER_SECRET", "").strip()
    if secret:
        return secret
    path = data_dir() / "browser-secret"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def runs_per_minute() -> int:
    """Runs or sweeps one visitor may start a minute (``CLARITY_RUNS_PER_MINUTE``; 0 = no limit): 10 in shared
    mode unless set, none in a single-user app."""
    return whole("CLARITY_RUNS_PER_MINUTE", 10 if shared_mode() else 0)


def max_queue() -> int:
    """Runs that may wait for the local engine, and the Gradio queue's size (``CLARITY_MAX_QUEUE``; 0 = no cap)."""
    return whole("CLARITY_MAX_QUEUE", 64)


def max_jobs_per_visitor() -> int:
    """Runs or sweeps one visitor may have going at once (``CLARITY_MAX_JOBS_PER_VISITOR``; 0 = no cap).

    Capped only in shared mode unless set explicitly."""
    return whole("CLARITY_MAX_JOBS_PER_VISITOR", 3 if shared_mode() else 0)



def caps_survive_restart() -> bool:
    """Whether the spending ledger outlives a restart: off a Space always; on a Space when the data directory is
    on persistent storage or was set by the owner (``CLARITY_DATA_DIR``), or when the owner accepted caps that
    reset at every restart (``CLARITY_ACCEPT_RESETTING_CAPS=1``)."""
    return not history_is_ephemeral() or flag("CLARITY_ACCEPT_RESETTING_CAPS", False)


def space_author() -> str | None:
    """The Space's author (``SPACE_AUTHOR_NAME``, set by Hugging Face on a Space): a user or an organisation."""
    return os.environ.get("SPACE_AUTHOR_NAME", "").strip() or None


def admins() -> list[str]:
    """Hugging Face usernames who see the owner's view besides the Space's author (``CLARITY_ADMINS``,
    comma-separated; the only way for an organisation's Space, whose author is the organisation)."""
    return [name.strip() for name in os.environ.get("CLARITY_ADMINS", "").split(",") if name.strip()]


def ledger_days() -> int:
    """Days the spending ledger keeps its rows for the owner's view and export (``CLARITY_LEDGER_DAYS``, default
    30; at least 1): older rows are pruned."""
    return whole("CLARITY_LEDGER_DAYS", 30)
