"""The configuration checked once at start: one line per problem, never a traceback.

Each documented variable (README, "Configuration") that is set but empty, malformed or out of range gets one
warning line naming it, what it takes and the safe default used instead; so does each contradiction between
variables (a budget without a key, sign-in required where sign-in cannot work, a Space without its OAuth
variables). What has no safe default — a data directory that cannot be written, a port that is not one — stops
the app with one line naming the variable and what it takes (``ConfigurationError``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from typing import TextIO

from core import config

FLAGS = {"CLARITY_SHARED": "on (per-visitor walls)", "CLARITY_KEY_REQUIRES_LOGIN": "on (the key kept for sign-in)",
         "CLARITY_ACCEPT_RESETTING_CAPS": "off (the Space's key off without persistent storage)",
         "CLARITY_MCP_USES_SPACE_KEY": "off (MCP callers bring their own key or use the local engine)"}
CHOICES = {"CLARITY_LOCAL_MODEL": (("fast", "quality"), "fast")}
BUDGETS = ("CLARITY_DAILY_BUDGET_USD", "CLARITY_VISITOR_DAILY_BUDGET_USD")


class ConfigurationError(SystemExit):
    """The app cannot start with this configuration; the message is the one line that says why."""


@dataclass(frozen=True)
class Finding:
    """One line for the log: ``stop`` when the app cannot start, else a warning (a safe default is used)."""

    variable: str
    line: str
    stop: bool = False


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _numbers() -> list[Finding]:
    found = []
    for name, bounds in config.NUMBERS.items():
        problem = config.number_problem(name)
        if problem:
            found.append(Finding(name, f"{name} {problem}: it takes {bounds.takes()}; using the default "
                                       f"({bounds.default})."))
    return found


def _flags_and_choices() -> list[Finding]:
    found = [Finding(name, f"{name} {problem}: it takes 1/0, true/false, yes/no or on/off; using {safe}.")
             for name, safe in FLAGS.items() if (problem := config.flag_problem(name))]
    for name, (choices, default) in CHOICES.items():
        value = os.environ.get(name)
        if value is not None and value.strip() not in choices:
            found.append(Finding(name, f"{name} is {value.strip()!r}: it takes one of {', '.join(choices)}; "
                                       f"using {default}."))
    return found


def _key() -> list[Finding]:
    found = []
    key = os.environ.get("FAL_KEY")
    if key is not None and not key.strip():
        found.append(Finding("FAL_KEY", "FAL_KEY is empty: it takes a fal key (key-id:secret); running without "
                                        "the app's own key (visitors type theirs, or use the local engine)."))
    elif key is not None and ":" not in key:
        found.append(Finding("FAL_KEY", "FAL_KEY does not look like a fal key (key-id:secret); it is used as "
                                        "given, and fal will say if it refuses it."))
    halves = [name for name in ("FAL_KEY_ID", "FAL_KEY_SECRET") if _set(name)]
    if len(halves) == 1 and not _set("FAL_KEY"):
        other = "FAL_KEY_SECRET" if halves[0] == "FAL_KEY_ID" else "FAL_KEY_ID"
        found.append(Finding(other, f"{halves[0]} is set without {other}: a fal key needs both (or FAL_KEY); "
                                    "running without the app's own key."))
    return found


def _contradictions() -> list[Finding]:
    found = []
    for name in BUDGETS:
        if not _set(name) or config.number_problem(name):
            continue
        if not config.env_fal_key():
            found.append(Finding(name, f"{name} is set but there is no FAL_KEY: a budget caps the app's own key, "
                                       "so it has no effect (visitors pay with keys they type)."))
        elif not config.shared_mode():
            found.append(Finding(name, f"{name} is set on a single-user app: budgets apply only when strangers "
                                       "share it (a Space, or CLARITY_SHARED=1), so it has no effect."))
    mcp = "CLARITY_MCP_USES_SPACE_KEY"
    if config.mcp_uses_space_key() and not (config.env_fal_key() and config.shared_mode()):
        found.append(Finding(mcp, f"{mcp} is on, but " + ("there is no FAL_KEY" if not config.env_fal_key() else
                                                          "this is a single-user app") +
                             ": it lets MCP callers use a shared app's own key, so it has no effect."))
    wants_sign_in = config.flag("CLARITY_KEY_REQUIRES_LOGIN", False, unclear=True) or _set("CLARITY_ALLOWED_USERS")
    if config.on_space() and config.missing_oauth():
        missing = config.missing_oauth()[0]
        found.append(Finding(missing, f"{missing} is not set, so Sign in with Hugging Face is off (add "
                                      "`hf_oauth: true` to the Space's README front matter to turn it on)."))
    if wants_sign_in and not config.sign_in_available():
        name = "CLARITY_KEY_REQUIRES_LOGIN" if config.flag_problem("CLARITY_KEY_REQUIRES_LOGIN") is not None or \
            config.flag("CLARITY_KEY_REQUIRES_LOGIN", False) else "CLARITY_ALLOWED_USERS"
        where = "this is not a Space" if not config.on_space() else "the Space's OAuth variables are missing"
        found.append(Finding(name, f"{name} keeps the app's key for signed-in visitors, but sign-in cannot work "
                                   f"here ({where}): no visitor can use the app's key; they type their own or "
                                   "use the local engine."))
    return found


def spaces_runtime() -> bool:
    """Whether Hugging Face's Spaces runtime is here (its ``spaces`` package, which Gradio's Spaces reloader
    needs), not only ``SYSTEM=spaces`` (a Docker Space, or a copy run elsewhere, may set that alone)."""
    import importlib.util

    return importlib.util.find_spec("spaces") is not None


def _runtime() -> list[Finding]:
    if not config.on_space() or spaces_runtime() or not config.missing_oauth():
        return []
    return [Finding("SYSTEM", "SYSTEM=spaces but this is not the Spaces runtime (no `spaces` package): the app "
                              "runs as it does off a Space, without sign-in.")]


def _data_dir() -> list[Finding]:
    name = "CLARITY_DATA_DIR"
    try:
        folder = config.data_dir()
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        given = os.environ.get(name) or "./data"
        return [Finding(name, f"{name} ({given}) cannot be used: {exc.strerror or exc}. It takes a folder this "
                              "app can create and write.", stop=True)]
    return []  # (that it is not inside Gradio's cache is checked at launch: components/common/startup.py)


def _port() -> list[Finding]:
    name, raw = "GRADIO_SERVER_PORT", os.environ.get("GRADIO_SERVER_PORT")
    if raw is None:
        return []
    text = raw.strip()
    if text.isdigit() and 1 <= int(text) <= 65535:
        return []
    return [Finding(name, f"{name} is {text!r}: it takes a port number from 1 to 65535 (the default is 7860).",
                    stop=True)]


def check() -> list[Finding]:
    """Every problem with the configuration in the environment, warnings first, then those that stop."""
    found = _numbers() + _flags_and_choices() + _key() + _runtime() + _contradictions() + _port() + _data_dir()
    first: dict[str, Finding] = {}
    for finding in found:  # one line per variable: what is wrong with its value comes before what it contradicts
        first.setdefault(finding.variable, finding)
    return sorted(first.values(), key=lambda finding: finding.stop)


def at_start(out: TextIO | None = None) -> list[Finding]:
    """Print one line per warning on ``out`` (stderr); raise ConfigurationError with the first line that stops
    the app. Returns the warnings. Called by ``app.py`` before Gradio is imported.

    ``SYSTEM=spaces`` off the Spaces runtime and without OAuth (a Docker Space, a copy elsewhere) is taken out of
    this process's environment: Gradio would otherwise start that runtime's reloader, which needs its ``spaces``
    package, and print a traceback; the app then runs as it does off a Space (sign-in could not work anyway)."""
    stream = out or sys.stderr
    found = check()
    for finding in found:
        if finding.stop:
            raise ConfigurationError(f"Clarity Studio cannot start: {finding.line}")
        print(f"Clarity Studio configuration: {finding.line}", file=stream, flush=True)
    if config.on_space() and not spaces_runtime() and config.missing_oauth():
        os.environ.pop("SYSTEM", None)
    return found
