"""The docs run as shown (issue 26 §2): the "Use via API" page's Python, JavaScript and curl snippets of every
public endpoint, with their example inputs, succeed when pasted.

Gradio writes the snippets itself (``gradio_client.snippet`` from each endpoint's parameters: a default where there
is one, else the component's example) and hands them to the API page in ``/gradio_api/info``
(``code_snippets``), which is where this test reads them. Each runs as a user would: the Python one with
``python``, the JavaScript one with ``node`` beside the pinned ``@gradio/client`` (tests/js), the curl one with
``bash``. The picture's example is a bundled photo this app serves itself (never a file on the internet). Two
things in Gradio's curl template are the reader's to fill in, and the test does what its reader must: the
``/path/to/your/file`` placeholder becomes the sample photo fetched from the app, and its ``| read EVENT_ID`` needs
``shopt -s lastpipe`` in bash (zsh needs nothing).

Run in an order a script would (the ids' examples are ``latest``: the caller's newest run or sweep), each
snippet must exit cleanly and print its outputs — no error event, no exception."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.usecases.values import ENDPOINTS
from tests.reliability import TIMEOUT
from tests.test_clients import JS, js_calls
from testsupport.apps import AppProcess

ORDER = ["upscale", "sweep", "sweep_price", "history", "fetch", "dataset", "cells", "status", "cancel", "retry"]


@pytest.fixture(scope="module")
def snippets(studio: str) -> dict[str, dict[str, str]]:
    info = httpx.get(f"{studio}gradio_api/info", timeout=TIMEOUT).json()["named_endpoints"]
    assert sorted(ORDER) == sorted(name.lstrip("/") for name in info) == sorted(ENDPOINTS)
    return {name.lstrip("/"): endpoint["code_snippets"] for name, endpoint in info.items()}


def _run(command: list[str], cwd: Path, what: str) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT * 4, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, f"{what}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _run_js(name: str, cwd: Path) -> str:
    """The JavaScript snippet's output. The app keeps a session state, so @gradio/client holds a heartbeat
    stream open and node does not exit by itself after printing (a script ends it with ``process.exit()``, as the
    README's does): the run is over once the printed ``result.data`` array is closed; an error ends node at once,
    non-zero."""
    process = subprocess.Popen(["node", f"{name}.mjs"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "NO_COLOR": "1"})
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.rstrip() == "]" or (line.startswith("[") and line.rstrip().endswith("]")):
                break
        else:
            process.wait(timeout=TIMEOUT)
            assert process.returncode == 0, f"{name}: JavaScript:\n{''.join(lines)}\n{process.stderr.read()}"
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
    assert lines, f"{name}: JavaScript printed nothing"
    return "".join(lines)


def test_the_picture_example_is_a_photo_this_app_serves(studio: str, snippets: dict[str, dict[str, str]]) -> None:
    python = snippets["upscale"]["python"]
    url = python.split("handle_file('")[1].split("'")[0]
    assert url.startswith(f"{studio}gradio_api/file=") and url.endswith("chelsea.jpg"), url
    served = httpx.get(url, timeout=TIMEOUT)
    assert served.status_code == 200 and served.content[:3] == b"\xff\xd8\xff"  # a JPEG, from this app
    assert f'fetch("{url}")' in snippets["upscale"]["javascript"]
    assert "github" not in str(snippets) and ".pdf" not in str(snippets)


def test_the_picture_example_runs_on_the_app_as_started(tmp_path: Path) -> None:
    """``python app.py`` as the README starts it (the launch holds its thread): the upscale snippet's
    ``handle_file`` of the sample photo at the app's own address runs as pasted (Gradio refuses to fetch a
    machine's own address, so the app must have the photo ready in its cache)."""
    app = AppProcess(tmp_path / "data", {"FAL_KEY": ""}).wait_ready()
    try:
        info = httpx.get(f"{app.url}gradio_api/info", timeout=TIMEOUT).json()["named_endpoints"]
        python = info["/upscale"]["code_snippets"]["python"]
        assert f"handle_file('{app.url}gradio_api/file=" in python, python
        (tmp_path / "upscale.py").write_text(python)
        assert "'width': 902" in _run([sys.executable, "upscale.py"], tmp_path, "upscale: Python")
    finally:
        app.stop()


def test_every_snippet_runs_as_pasted(studio: str, snippets: dict[str, dict[str, str]], tmp_path: Path) -> None:
    js_calls(studio, [])  # installs @gradio/client (npm ci) when it is not yet
    (tmp_path / "node_modules").symlink_to(JS / "node_modules", target_is_directory=True)
    url = snippets["upscale"]["python"].split("handle_file('")[1].split("'")[0]
    photo = tmp_path / "chelsea.jpg"
    photo.write_bytes(httpx.get(url, timeout=TIMEOUT).content)  # the file the curl snippet's reader uploads
    printed: dict[str, dict[str, str]] = {}
    for name in ORDER:
        code = snippets[name]
        (tmp_path / f"{name}.py").write_text(code["python"])
        (tmp_path / f"{name}.mjs").write_text(code["javascript"])
        curl = code["bash"].replace("/path/to/your/file", str(photo))
        (tmp_path / f"{name}.sh").write_text("shopt -s lastpipe\n" + curl + "\n")
        printed[name] = {
            "python": _run([sys.executable, f"{name}.py"], tmp_path, f"{name}: Python"),
            "javascript": _run_js(name, tmp_path),
            "bash": _run(["bash", f"{name}.sh"], tmp_path, f"{name}: curl")}
        stream = printed[name]["bash"]
        assert "event: complete" in stream and "event: error" not in stream, (name, stream)
        assert printed[name]["python"].strip() and printed[name]["javascript"].strip(), (name, printed[name])
    # the examples did what they say: the sample photo upscaled ×2 (451×300 → 902×600), a sweep of two cells
    assert "'width': 902" in printed["upscale"]["python"] and "width: 902" in printed["upscale"]["javascript"]
    assert '"width":902' in printed["upscale"]["bash"].replace(" ", "")
    assert "'counts': {'completed': 2}" in printed["sweep"]["python"]
    assert "'kind': 'sweep'" in printed["status"]["python"]  # latest: the sweep, its cells the newest runs
    assert "'retried': 0" in printed["retry"]["python"]  # nothing of it had failed: nothing ran again


def _blocks(language: str) -> list[str]:
    from tests.test_docs import section

    return re.findall(rf"^```{language}\n(.*?)^```", section("Public API"), re.M | re.S)


def test_the_readmes_api_examples_run(studio: str, tmp_path: Path) -> None:
    """The README's Public API section, Python, JavaScript and curl, run as written on a photo named photo.jpg
    (only the address is this app's)."""
    from PIL import Image

    js_calls(studio, [])
    (tmp_path / "node_modules").symlink_to(JS / "node_modules", target_is_directory=True)
    Image.effect_mandelbrot((40, 30), (-2, -1.2, 1, 1.2), 60).convert("RGB").save(tmp_path / "photo.jpg")
    [python], [javascript], [curl] = _blocks("python"), _blocks("js"), _blocks("bash")
    here = studio.rstrip("/")

    def at_this_app(code: str) -> str:
        assert "http://127.0.0.1:7860" in code
        return code.replace("http://127.0.0.1:7860", here)

    (tmp_path / "readme.py").write_text(at_this_app(python) + "\nprint(priced, page, cells['counts'], "
                                        "state['status'], stopped['cancelled_now'], result['status'])\n")
    printed = _run([sys.executable, "readme.py"], tmp_path, "README: Python").splitlines()[-1]
    assert "'cells': 2" in printed and "'price_usd': " in printed, printed
    assert printed.endswith("{'completed': 3} completed False completed"), printed
    report = ("console.log(JSON.stringify([result.status, priced.cells, cells.counts, page.total > 0, "
              "state.kind]));\nprocess.exit(0);")
    assert javascript.rstrip().splitlines()[-1].startswith("process.exit(0);")
    (tmp_path / "readme.mjs").write_text(at_this_app(javascript).replace("process.exit(0);", report, 1))
    said = _run(["node", "readme.mjs"], tmp_path, "README: JavaScript").strip().splitlines()[-1]
    assert said == '["completed",3,{"completed":2},true,"sweep"]', said
    (tmp_path / "readme.sh").write_text(at_this_app(curl))
    outputs = _run(["bash", "readme.sh"], tmp_path, "README: curl").strip().splitlines()
    assert len(outputs) == 8 and all(line.startswith("[") for line in outputs), outputs  # outputs, never an error
