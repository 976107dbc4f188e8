"""Starting with half a configuration (issue 27 §4): each documented variable missing, empty or malformed, and the
contradictions between them, start the app with one warning line and a safe default, or stop it with one line
naming the variable and what it takes; never a traceback. Sign-in appears only where it can work."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import config, config_check
from testsupport.apps import ROOT, AppProcess

pytestmark = pytest.mark.reliability("configuration")

BAD_NUMBERS = ("abc", "", "  ", "nan", "inf", "-5", "1e400", "12abc")
OAUTH = {"OAUTH_CLIENT_ID": "client", "OAUTH_CLIENT_SECRET": "secret", "OAUTH_SCOPES": "openid profile",
         "OPENID_PROVIDER_URL": "https://huggingface.co"}
# What each numeric variable reads as when it cannot be used: the documented default.
READERS = {
    "CLARITY_MAX_INPUT_MP": (config.max_input_megapixels, 16),
    "CLARITY_MAX_OUTPUT_MP": (config.max_output_megapixels, 64),
    "CLARITY_MAX_UPLOAD_MB": (config.max_upload_bytes, 50 * 1024 * 1024),
    "CLARITY_MAX_QUEUE": (config.max_queue, 64),
    "CLARITY_RUNS_PER_MINUTE": (config.runs_per_minute, 0),
    "CLARITY_MAX_JOBS_PER_VISITOR": (config.max_jobs_per_visitor, 0),
}


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with none of the app's variables (the data directory stays the test's own)."""
    for name in [*config.NUMBERS, *config_check.FLAGS, *config_check.CHOICES, *OAUTH, "FAL_KEY", "FAL_KEY_ID",
                 "FAL_KEY_SECRET", "SPACE_ID", "SYSTEM", "CLARITY_ALLOWED_USERS", "GRADIO_SERVER_PORT"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def lines(found: list[config_check.Finding], name: str) -> list[str]:
    return [finding.line for finding in found if finding.variable == name]


@pytest.mark.parametrize("name", config.NUMBERS)
def test_a_malformed_number_warns_once_and_uses_the_default(name: str, clean: pytest.MonkeyPatch,
                                                            case: Any) -> None:
    case.tried = len(BAD_NUMBERS)
    for bad in BAD_NUMBERS:
        clean.setenv(name, bad)
        said = lines(config_check.check(), name)
        assert len(said) == 1 and said[0].startswith(name) and "using the default" in said[0], (bad, said)
        assert not any(f.stop for f in config_check.check())
        if name in READERS:
            reader, default = READERS[name]
            assert reader() == default, (bad, reader())


def test_a_good_number_is_read_and_not_warned_about(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("CLARITY_MAX_INPUT_MP", " 24 ")
    clean.setenv("CLARITY_MAX_QUEUE", "0")
    assert config_check.check() == [] and config.max_input_megapixels() == 24 and config.max_queue() == 0


@pytest.mark.parametrize("name", config_check.FLAGS)
def test_an_unclear_switch_takes_the_safe_side(name: str, clean: pytest.MonkeyPatch) -> None:
    clean.setenv(name, "maybe")
    said = lines(config_check.check(), name)
    assert len(said) == 1 and "1/0, true/false" in said[0]
    assert config.flag(name, False, unclear=True)
    if name == "CLARITY_SHARED":
        assert config.shared_mode()  # per-visitor walls, not one history for everyone


def test_an_unknown_local_model_warns(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("CLARITY_LOCAL_MODEL", "turbo")
    said = lines(config_check.check(), "CLARITY_LOCAL_MODEL")
    assert len(said) == 1 and "fast, quality" in said[0]


@pytest.mark.parametrize("setting, variable, words", [
    ({"CLARITY_DAILY_BUDGET_USD": "3", "CLARITY_SHARED": "1"}, "CLARITY_DAILY_BUDGET_USD", "no FAL_KEY"),
    ({"CLARITY_VISITOR_DAILY_BUDGET_USD": "1", "FAL_KEY": "a:b"}, "CLARITY_VISITOR_DAILY_BUDGET_USD",
     "single-user app"),
    ({"CLARITY_KEY_REQUIRES_LOGIN": "1", "CLARITY_SHARED": "1", "FAL_KEY": "a:b"}, "CLARITY_KEY_REQUIRES_LOGIN",
     "sign-in cannot work here"),
    ({"CLARITY_ALLOWED_USERS": "alice", "SPACE_ID": "o/s", "SYSTEM": "spaces", "FAL_KEY": "a:b"},
     "CLARITY_ALLOWED_USERS", "sign-in cannot work here"),
    ({"SPACE_ID": "o/s", "SYSTEM": "spaces"}, "OAUTH_CLIENT_ID", "Sign in with Hugging Face is off"),
    ({"SPACE_ID": "o/s", "SYSTEM": "spaces", **OAUTH, "OAUTH_SCOPES": ""}, "OAUTH_SCOPES", "hf_oauth"),
    ({"FAL_KEY_ID": "abc"}, "FAL_KEY_SECRET", "needs both"),
    ({"FAL_KEY": "  "}, "FAL_KEY", "is empty"),
], ids=["budget without a key", "budget on a single-user app", "sign-in required off a Space",
        "allowed users without OAuth", "a Space without OAuth", "OAuth half set", "half a key", "empty key"])
def test_a_contradiction_is_one_warning_line(setting: dict, variable: str, words: str,
                                             clean: pytest.MonkeyPatch) -> None:
    for name, value in setting.items():
        clean.setenv(name, value)
    found = config_check.check()
    said = lines(found, variable)
    assert len(said) == 1 and words in said[0], [f.line for f in found]
    assert not any(f.stop for f in found)


def test_sign_in_only_when_it_can_work(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("SPACE_ID", "owner/space")
    clean.setenv("SYSTEM", "spaces")
    assert not config.sign_in_available()
    for name, value in OAUTH.items():
        clean.setenv(name, value)
    assert config.sign_in_available() and config_check.check() == []


def test_spaces_without_its_runtime_is_said_once(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("SPACE_ID", "owner/space")
    clean.setenv("SYSTEM", "spaces")
    said = lines(config_check.check(), "SYSTEM")
    assert said == ([] if config_check.spaces_runtime() else [said[0]]) and all("runtime" in line for line in said)


def test_the_sign_in_refusal_does_not_send_a_visitor_to_a_missing_button(clean: pytest.MonkeyPatch) -> None:
    from core.errors import InputError
    from core.sharing import spending
    from core.sharing.visitor import Visitor

    clean.setenv("CLARITY_SHARED", "1")
    clean.setenv("FAL_KEY", "a:b")
    clean.setenv("CLARITY_KEY_REQUIRES_LOGIN", "1")
    with pytest.raises(InputError, match="sign-in is not available here"):
        spending.check_key_rules(Visitor(owner="x", shared=True), "fal")


def test_warnings_print_one_line_each(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("CLARITY_MAX_INPUT_MP", "abc")
    clean.setenv("CLARITY_RUNS_PER_MINUTE", "")
    out = io.StringIO()
    config_check.at_start(out)
    printed = out.getvalue().splitlines()
    assert len(printed) == 2 and all("Clarity Studio configuration:" in line for line in printed)


# -- the app itself, as a process ----------------------------------------------------------------------------

def started(tmp_path: Path, env: dict[str, str]) -> tuple[str, dict]:
    """Start ``python app.py`` with ``env``; its log and its page config once it answers (then stopped)."""
    app = AppProcess(tmp_path / "data", {"GRADIO_ANALYTICS_ENABLED": "False", **env})
    try:
        app.wait_ready()
        page = httpx.get(app.url + "config", timeout=10).json()
    finally:
        app.stop()
    return app.log.read_text(), page


def test_a_space_without_oauth_and_malformed_numbers_starts_without_sign_in(tmp_path: Path, case: Any) -> None:
    case.tried = 4
    env = {"SPACE_ID": "owner/space", "SYSTEM": "spaces", "CLARITY_MAX_INPUT_MP": "abc",
           "CLARITY_RUNS_PER_MINUTE": "", "CLARITY_SHARED": "maybe"}
    env.update({name: "" for name in OAUTH if os.environ.get(name)})
    log, page = started(tmp_path, env)
    assert "Traceback" not in log and "OAuth is required" not in log
    for name in ("CLARITY_MAX_INPUT_MP", "CLARITY_RUNS_PER_MINUTE", "CLARITY_SHARED", "OAUTH_CLIENT_ID"):
        assert len([line for line in log.splitlines() if f"configuration: {name}" in line]) == 1, (name, log)
    assert not [c for c in page["components"] if c.get("type") == "loginbutton"]


def stops(tmp_path: Path, env: dict[str, str]) -> str:
    environment = {**os.environ, "CLARITY_DATA_DIR": str(tmp_path / "data"), "GRADIO_SERVER_NAME": "127.0.0.1",
                   **env}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0
    said = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and len([line for line in said if "cannot start" in line]) == 1, said
    return said[-1]


def test_a_port_that_is_not_one_stops_with_one_line(tmp_path: Path) -> None:
    line = stops(tmp_path, {"GRADIO_SERVER_PORT": "seventy"})
    assert "GRADIO_SERVER_PORT" in line and "1 to 65535" in line


def test_a_data_directory_that_cannot_be_written_stops_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = stops(tmp_path, {"CLARITY_DATA_DIR": str(blocker / "data")})
    assert "CLARITY_DATA_DIR" in line and "folder" in line
