"""Snippets: valid Python that sends exactly the given arguments, prints each log line once, never a key."""

from __future__ import annotations

import ast
import base64
import json
import time
import types
from typing import Any

import fal_client
import pytest

from core import schema, snippets
from core.errors import InputError

URL = "https://example.com/photo.png"
LONG_DATA_URI = "data:image/png;base64," + base64.b64encode(bytes(range(256)) * 8).decode()

PARAMETER_SETS: list[dict[str, Any]] = [
    {"image_url": URL},
    schema.validate({"image_url": URL}),
    {"image_url": URL, "creativity": 0.1 + 0.2, "resemblance": 1 / 3, "guidance_scale": 7.123456789012345},
    {"image_url": URL, "upscale_factor": 2, "num_inference_steps": 4, "seed": 0},
    {"image_url": URL, "upscale_factor": 3.9999999999999996, "seed": schema.MAX_SEED, "creativity": 1e-07},
    {"image_url": URL, "prompt": "ein Bild über Käse, 猫, 🐈 — «quoted»", "enable_safety_checker": False},
    {"image_url": URL, "prompt": 'it\'s a "test"', "negative_prompt": "back\\slash\nnew line\ttab"},
    {"image_url": URL, "prompt": "'''\"\"\" {braces} %s {0} \\n", "negative_prompt": ""},
    {"image_url": URL, "prompt": "line\u2028separator\u00a0nbsp\u200bzero-width\x7f"},
    {"image_url": "data:image/png;base64,iVBORw0KGgo=", "seed": 42},
    {"image_url": LONG_DATA_URI, "creativity": 0.0, "resemblance": 1.0, "guidance_scale": 0},
]


def _call_arguments(code: str, function: str) -> ast.expr:
    """The ``arguments=`` node of the call to ``fal_client.<function>``."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == function:
            return next(k.value for k in node.keywords if k.arg == "arguments")
    raise AssertionError(f"no fal_client.{function} call")


def _same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Equal, with the same key order and the same types (2 and 2.0 are different renderings)."""
    return list(left) == list(right) and all(type(left[k]) is type(right[k]) and left[k] == right[k] for k in left)


def _expected(arguments: dict[str, Any]) -> dict[str, Any]:
    order = [f.name for f in schema.FIELDS]
    return {k: arguments[k] for k in order if k in arguments and not (k == "seed" and arguments[k] is None)}


@pytest.mark.parametrize("arguments", PARAMETER_SETS)
@pytest.mark.parametrize(("render", "function"), [(snippets.subscribe_code, "subscribe"),
                                                 (snippets.queue_code, "submit")])
def test_snippet_sends_exactly_the_arguments(arguments: dict[str, Any], render: Any, function: str) -> None:
    code = render(arguments)
    compile(code, "snippet.py", "exec")
    sent = ast.literal_eval(_call_arguments(code, function))
    assert _same(sent, _expected(arguments))
    assert f'"{schema.ENDPOINT}"' in code


@pytest.mark.parametrize("arguments", PARAMETER_SETS)
def test_json_body_round_trips(arguments: dict[str, Any]) -> None:
    body = json.loads(snippets.json_body(arguments))
    assert _same(body, _expected(arguments))
    curl = snippets.curl_code(arguments)
    assert snippets.json_body(arguments) in curl
    assert "https://queue.fal.run/fal-ai/clarity-upscaler" in curl and "Key $FAL_KEY" in curl


def test_random_seed_is_left_out_and_seed_zero_kept() -> None:
    assert '"seed"' not in snippets.subscribe_code({"image_url": URL, "seed": None})
    assert '"seed": 0,' in snippets.subscribe_code({"image_url": URL, "seed": 0})


def test_no_key_in_any_snippet(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e:9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    monkeypatch.setenv("FAL_KEY", key)
    monkeypatch.setenv("FAL_KEY_ID", key.split(":")[0])
    monkeypatch.setenv("FAL_KEY_SECRET", key.split(":")[1])
    for arguments in PARAMETER_SETS:
        for text in (snippets.subscribe_code(arguments), snippets.queue_code(arguments),
                     snippets.json_body(arguments), snippets.curl_code(arguments)):
            assert key.split(":")[0] not in text and key.split(":")[1] not in text
    assert "FAL_KEY environment variable" in snippets.subscribe_code(PARAMETER_SETS[0])


def test_subscribe_snippet_imports_only_fal_client() -> None:
    tree = ast.parse(snippets.subscribe_code(PARAMETER_SETS[2]))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names]
    assert imported == ["fal_client"]


def test_local_image_becomes_an_upload_without_the_server_path() -> None:
    code = snippets.subscribe_code({"image_url": None, "creativity": 0.5},
                                   image_path_hint="/tmp/gradio/0123abcd/holiday photo.jpg")
    compile(code, "snippet.py", "exec")
    assert 'image_url = fal_client.upload_file("holiday photo.jpg")' in code
    assert "/tmp/gradio" not in code
    node = _call_arguments(code, "subscribe")
    assert isinstance(node, ast.Dict) and isinstance(node.values[0], ast.Name) and node.values[0].id == "image_url"
    assert 'fal_client.upload_file("input.png")' in snippets.queue_code({"creativity": 0.5})
    assert "/srv/data" not in snippets.subscribe_code({"image_url": "/srv/data/in.png"})
    assert "/srv/data" not in snippets.json_body({"image_url": "/srv/data/in.png"})


def test_long_data_uri_is_kept_exactly_and_an_upload_is_offered() -> None:
    code = snippets.subscribe_code({"image_url": LONG_DATA_URI})
    assert ast.literal_eval(_call_arguments(code, "subscribe"))["image_url"] == LONG_DATA_URI
    assert 'fal_client.upload_file("input.png")' in code
    assert "upload_file" not in snippets.subscribe_code({"image_url": URL})


@pytest.mark.parametrize("bad", [{"image_url": URL, "creativity": 2.0}, {"image_url": URL, "api_key": "x"},
                                 {"image_url": "data:text/html;base64,AAAA"},
                                 {"image_url": URL, "guidance_scale": float("nan")}])
def test_invalid_arguments_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        snippets.subscribe_code(bad)
    with pytest.raises(InputError):
        snippets.json_body(bad)


# --- running the snippets against a stand-in fal_client (no network) ---------------------------------------------

def _log(*messages: str) -> list[dict[str, str]]:
    return [{"message": m, "level": "INFO", "source": "USER", "timestamp": "2026-01-01T00:00:00Z"} for m in messages]


# Every status repeats the whole log so far, and logs may be None (docs/fal-protocol.md, "Logs").
EVENTS = [fal_client.Queued(position=1), fal_client.Queued(position=0), fal_client.InProgress(logs=None),
          fal_client.InProgress(logs=_log("tile 1/2")), fal_client.InProgress(logs=_log("tile 1/2", "tile 2/2")),
          fal_client.Completed(logs=_log("tile 1/2", "tile 2/2", "done"), metrics={})]
RESULT = {"image": {"url": "https://v3.fal.media/files/out.png"}, "seed": 7}


def _stand_in(calls: list[tuple[str, Any]]) -> types.ModuleType:
    module = types.ModuleType("fal_client")
    module.Queued, module.InProgress, module.Completed = fal_client.Queued, fal_client.InProgress, fal_client.Completed
    events = iter(EVENTS)

    def subscribe(app: str, arguments: dict, *, with_logs: bool = False, on_queue_update: Any = None) -> dict:
        calls.append(("subscribe", arguments))
        for event in EVENTS:
            on_queue_update(event)
        return RESULT

    module.subscribe = subscribe
    module.submit = lambda app, arguments: calls.append(("submit", arguments)) or types.SimpleNamespace(
        request_id="req-1")
    module.status = lambda app, request_id, with_logs=False: next(events)
    module.result = lambda app, request_id: RESULT
    module.upload_file = lambda path: calls.append(("upload_file", path)) or "https://v3.fal.media/files/in.png"
    return module


@pytest.mark.parametrize("render", [snippets.subscribe_code, snippets.queue_code])
def test_running_the_snippet_prints_each_log_line_once(render: Any, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setitem(__import__("sys").modules, "fal_client", _stand_in(calls))
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    exec(compile(render({"creativity": 0.3}, image_path_hint="me.png"), "snippet.py", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith(("tile", "done"))] == ["tile 1/2", "tile 2/2", "done"]
    assert out[-1] == repr(RESULT)
    assert calls[0] == ("upload_file", "me.png")
    assert calls[1][1] == {"image_url": "https://v3.fal.media/files/in.png", "creativity": 0.3}


def test_the_curl_script_runs_the_whole_queue_sequence(fal_server, fal_key, tmp_path) -> None:
    """Run as written by bash and curl against the test fal server (reached at fal's own host name)."""
    import os
    import shutil
    import subprocess

    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    fal_server.set_default(queue_polls=2, run_polls=2)
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(buffer, format="PNG")
    picture = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    script = snippets.curl_code({"image_url": picture, "prompt": "it's $5 \"q\"", "upscale_factor": 2.0})
    assert not script.endswith("\n") and "\n\n" not in script  # no empty numbered lines in the Code tab
    env = {**os.environ, "FAL_KEY": fal_key, "CURL_CA_BUNDLE": os.environ["SSL_CERT_FILE"]}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    request_line, result = done.stdout.splitlines()[0], json.loads(done.stdout.splitlines()[-1])
    assert request_line.startswith("request ") and len(request_line) > len("request ") + 8
    assert result["image"]["url"] and "seed" in result
    sent = [r.json for r in fal_server.submits()]
    assert sent[-1]["prompt"] == "it's $5 \"q\""  # quotes and $ arrive untouched


@pytest.mark.parametrize("trouble", ["refused submit", "wrong key"])
def test_the_curl_script_stops_and_says_why_when_fal_refuses(fal_server, fal_key, trouble) -> None:
    """A refused submit or a wrong key ends the script with fal's answer; it used to poll for ever."""
    import os
    import shutil
    import subprocess

    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    if trouble == "refused submit":
        fal_server.set_default(submit_status=422, submit_body={"detail": [{"msg": "image_url is not an image"}]})
    key = fal_key if trouble == "refused submit" else "not-a-key"
    script = snippets.curl_code({"image_url": "https://example.com/a.png", "upscale_factor": 2.0})
    env = {**os.environ, "FAL_KEY": key, "CURL_CA_BUNDLE": os.environ["SSL_CERT_FILE"]}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.startswith("request refused: ")
    assert "fal answered: " in done.stderr
    if trouble == "refused submit":
        assert "image_url is not an image" in done.stdout
