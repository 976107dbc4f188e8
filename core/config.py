"""Settings read from the environment, once per call (never at import time)."""

from __future__ import annotations

import os
from pathlib import Path


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


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def max_input_megapixels() -> float:
    """Inputs larger than this are refused before decoding (``CLARITY_MAX_INPUT_MP``)."""
    return float(_int_env("CLARITY_MAX_INPUT_MP", 16))


def max_upload_bytes() -> int:
    """Uploads and fetched URLs larger than this are refused (``CLARITY_MAX_UPLOAD_MB``)."""
    return _int_env("CLARITY_MAX_UPLOAD_MB", 50) * 1024 * 1024


def max_output_megapixels() -> float:
    """Runs whose output would be larger than this are refused (``CLARITY_MAX_OUTPUT_MP``)."""
    return float(_int_env("CLARITY_MAX_OUTPUT_MP", 64))


def on_space() -> bool:
    """Running as a Hugging Face Space (``SYSTEM=spaces`` with a ``SPACE_ID``), where Spaces' OAuth works."""
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))


def shared_mode() -> bool:
    """Strangers share this process: on a Hugging Face Space (``SPACE_ID``), or ``CLARITY_SHARED=1``."""
    flag = os.environ.get("CLARITY_SHARED", "").strip().lower()
    if flag in ("0", "false", "no"):
        return False
    return bool(os.environ.get("SPACE_ID")) or flag in ("1", "true", "yes")


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
    return _int_env("CLARITY_RUNS_PER_MINUTE", 10 if shared_mode() else 0)


def max_queue() -> int:
    """Runs that may wait for the local engine, and the Gradio queue's size (``CLARITY_MAX_QUEUE``; 0 = no cap)."""
    return _int_env("CLARITY_MAX_QUEUE", 64)


def max_jobs_per_visitor() -> int:
    """Runs or sweeps one visitor may have going at once (``CLARITY_MAX_JOBS_PER_VISITOR``; 0 = no cap).

    Capped only in shared mode unless set explicitly."""
    return _int_env("CLARITY_MAX_JOBS_PER_VISITOR", 3 if shared_mode() else 0)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def caps_survive_restart() -> bool:
    """Whether the spending ledger outlives a restart: off a Space always; on a Space when the data directory is
    on persistent storage or was set by the owner (``CLARITY_DATA_DIR``), or when the owner accepted caps that
    reset at every restart (``CLARITY_ACCEPT_RESETTING_CAPS=1``)."""
    return not history_is_ephemeral() or _flag("CLARITY_ACCEPT_RESETTING_CAPS")


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
    return max(1, _int_env("CLARITY_LEDGER_DAYS", 30))
