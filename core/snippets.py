"""The exact client code for a parameter set ("use as code"): Python with fal_client, the JSON body, curl.

Snippets never contain a key: fal_client reads ``FAL_KEY`` from the environment and curl uses ``$FAL_KEY``.
Values are rendered exactly as given (floats with ``repr``), in schema order, so a snippet reproduces the run.
A local file (or no image) becomes ``fal_client.upload_file(...)``; a server path is never written out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeGuard

from core.errors import InputError
from core.inputs.region import Region
from core.schema import ENDPOINT, FIELDS, check_value

QUEUE_URL = f"https://queue.fal.run/{ENDPOINT}"
DEFAULT_UPLOAD_NAME = "input.png"
LONG_DATA_URI = 200  # characters; longer inline images get a note offering an upload instead
IMAGE_PLACEHOLDER = "<an https:// URL or a data: URI of your image>"
_FIELD_NAMES = tuple(f.name for f in FIELDS)

_KEY_NOTE = """\
# pip install fal-client
# fal_client reads your API key from the FAL_KEY environment variable; set it in your shell
# (export FAL_KEY=...) rather than writing it into code.
"""


class _Name(str):
    """A bare Python name inside the rendered arguments (not a string literal)."""


def _is_remote(image_url: Any) -> TypeGuard[str]:
    """True for a value the endpoint takes as is: an https:// URL or a data: URI."""
    return isinstance(image_url, str) and image_url.lower().startswith(("https://", "data:"))


def _ordered(arguments: dict[str, Any]) -> list[tuple[str, Any]]:
    """The arguments in schema order, checked but not converted; a value that is None (the random seed, a
    prompt left out) is left out, so the endpoint's default applies."""
    unknown = [key for key in arguments if key not in _FIELD_NAMES]
    if unknown:
        raise InputError(f"{unknown[0]!r} is not a parameter of {ENDPOINT}.", None)
    items = []
    for name in _FIELD_NAMES:
        if arguments.get(name) is None:  # left out (the random seed too): the endpoint's default applies
            continue
        value = arguments[name]
        if name == "image_url":
            if _is_remote(value):
                check_value(name, value)
        else:
            check_value(name, value)  # refuse what the endpoint would refuse, but render the value as given
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"{name}: must be a finite number.", name)
        items.append((name, value))
    return items


def _py(value: Any) -> str:
    """A Python literal for a JSON-like value; strings prefer double quotes, like fal's own examples."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def _upload_name(image_path_hint: str | None) -> str:
    # Only the file's name: a server-side path means nothing on the reader's machine and may reveal too much.
    name = Path(image_path_hint).name if image_path_hint else ""
    return name or DEFAULT_UPLOAD_NAME


def _region_lines(region: Region, image_path_hint: str | None) -> str:
    """The lines that cut a region run's part out of the picture and upload it (fal received that crop)."""
    name = _upload_name(image_path_hint)
    return (f"# This run upscaled a region of the picture, {region.width}×{region.height} pixels at x={region.x}, "
            f"y={region.y}:\n# cut it out of the picture first (Pillow), then upload the crop.\n"
            f"from PIL import Image\n\n"
            f"Image.open({_py(name)}).crop({region.box!r}).save(\"region.png\")\n"
            f"image_url = fal_client.upload_file(\"region.png\")\n\n")


def _preamble(arguments: dict[str, Any], image_path_hint: str | None,
              region: Region | None = None) -> tuple[list[tuple[str, Any]], str]:
    """The ordered items (image_url possibly as the name ``image_url``) and the lines that prepare the image (for a
    region run: cut out of the picture, then uploaded)."""
    items = _ordered(arguments)
    image = arguments.get("image_url")
    lines = ""
    if region is not None:
        lines = _region_lines(region, image_path_hint)
        items = [("image_url", _Name("image_url"))] + [(k, v) for k, v in items if k != "image_url"]
    elif not _is_remote(image):
        upload = _upload_name(image_path_hint if image_path_hint else image if isinstance(image, str) else None)
        lines = (f"# Upload the picture to fal's storage once; the URL it returns is what the endpoint reads.\n"
                 f"image_url = fal_client.upload_file({_py(upload)})\n\n")
        items = [("image_url", _Name("image_url"))] + [(k, v) for k, v in items if k != "image_url"]
    elif image.lower().startswith("data:") and len(image) > LONG_DATA_URI:
        lines = (f"# The picture is inlined below as a data URI ({len(image):,} characters) so this script\n"
                 f"# reproduces the run exactly. To send a file instead, replace that value with\n"
                 f"# fal_client.upload_file({_py(_upload_name(image_path_hint))}).\n\n")
    return items, lines


def _arguments_literal(items: list[tuple[str, Any]], indent: str) -> str:
    inner = indent + "    "
    body = "".join(f"{inner}{_py(key)}: {value if isinstance(value, _Name) else _py(value)},\n"
                   for key, value in items)
    return "{\n" + body + indent + "}"


def subscribe_code(arguments: dict[str, Any], image_path_hint: str | None = None,
                   region: Region | None = None) -> str:
    """A runnable script that calls ``fal_client.subscribe`` with exactly these arguments (for a region run, on
    that region cut out of the picture)."""
    items, image_lines = _preamble(arguments, image_path_hint, region)
    return (
        f"{_KEY_NOTE}import fal_client\n\n"
        f"# Every status update repeats the whole log so far: print only the lines not yet shown.\n"
        f"printed = []\n\n\n"
        f"def on_queue_update(update):\n"
        f"    if isinstance(update, (fal_client.InProgress, fal_client.Completed)):\n"
        f"        for log in (update.logs or [])[len(printed):]:\n"
        f"            print(log[\"message\"])\n"
        f"            printed.append(log)\n\n\n"
        f"{image_lines}"
        f"result = fal_client.subscribe(\n"
        f"    {_py(ENDPOINT)},\n"
        f"    arguments={_arguments_literal(items, '    ')},\n"
        f"    with_logs=True,\n"
        f"    on_queue_update=on_queue_update,\n"
        f")\n"
        f"print(result)\n"
    )


def queue_code(arguments: dict[str, Any], image_path_hint: str | None = None,
               region: Region | None = None) -> str:
    """A runnable script using the queue directly: ``submit``, ``status(with_logs=True)``, ``result`` (for a
    region, on that region cut out of the picture)."""
    items, image_lines = _preamble(arguments, image_path_hint, region)
    return (
        f"{_KEY_NOTE}import time\n\nimport fal_client\n\n"
        f"{image_lines}"
        f"handler = fal_client.submit(\n"
        f"    {_py(ENDPOINT)},\n"
        f"    arguments={_arguments_literal(items, '    ')},\n"
        f")\n"
        f"request_id = handler.request_id\n"
        f"# Keep the request id: the result can be fetched with it later, even from another machine.\n"
        f"print(\"request id:\", request_id)\n\n"
        f"printed = 0  # each status carries the whole log so far\n"
        f"position = None\n"
        f"while True:\n"
        f"    status = fal_client.status({_py(ENDPOINT)}, request_id, with_logs=True)\n"
        f"    if isinstance(status, fal_client.Queued):\n"
        f"        if status.position != position:\n"
        f"            position = status.position\n"
        f"            print(\"queue position:\", position)\n"
        f"    else:\n"
        f"        logs = status.logs or []\n"
        f"        for log in logs[printed:]:\n"
        f"            print(log[\"message\"])\n"
        f"        printed = len(logs)\n"
        f"    if isinstance(status, fal_client.Completed):\n"
        f"        break\n"
        f"    time.sleep(1)\n\n"
        f"result = fal_client.result({_py(ENDPOINT)}, request_id)\n"
        f"print(result)\n"
    )


def json_body(arguments: dict[str, Any], region: Region | None = None) -> str:
    """The JSON request body (indent 2). Without an https/data image, or for a region (the part must be cut out
    and uploaded first), it holds a placeholder to replace."""
    items = _ordered(arguments)
    body = dict(items)
    if region is not None:
        body = {"image_url": _region_placeholder(region), **{k: v for k, v in items if k != "image_url"}}
    elif not _is_remote(arguments.get("image_url")):
        body = {"image_url": IMAGE_PLACEHOLDER, **{k: v for k, v in items if k != "image_url"}}
    return json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False)


def _region_placeholder(region: Region) -> str:
    return (f"<an https:// URL or a data: URI of the region cut out of your image: {region.width}×{region.height} "
            f"pixels at x={region.x}, y={region.y}>")


def curl_code(arguments: dict[str, Any], region: Region | None = None) -> str:
    """A shell script (curl, sed, grep) for the whole queue sequence with ``$FAL_KEY``: submit the body, poll the
    status with logs until COMPLETED, fetch the result (docs/fal-protocol.md, "The queue")."""
    body = json_body(arguments, region)
    key = '--header "Authorization: Key $FAL_KEY"'
    # A quoted heredoc passes the JSON through untouched: quotes and $ in prompts need no escaping, and no
    # line of indented JSON can be the bare terminator.
    return (
        "# Set FAL_KEY in your shell first (export FAL_KEY=...). 1. Submit: fal answers with a request id.\n"
        f"SUBMITTED=$(curl --silent --show-error --request POST --url {QUEUE_URL} \\\n"
        f"  {key} --header \"Content-Type: application/json\" --data @- <<'JSON'\n"
        f"{body}\n"
        "JSON\n"
        ")\n"
        "REQUEST_ID=$(printf '%s' \"$SUBMITTED\" | sed -n 's/.*\"request_id\": *\"\\([^\"]*\\)\".*/\\1/p')\n"
        "echo \"request ${REQUEST_ID:-refused: $SUBMITTED}\"\n"
        "# 2. Poll its status, with logs, until it is COMPLETED (queue position, then IN_PROGRESS); any other\n"
        "#    answer (a refused submit, a wrong key, an unknown request id) is printed and ends the loop.\n"
        "while STATUS=$(curl --silent --show-error "
        f"{key} \"{QUEUE_URL}/requests/$REQUEST_ID/status?logs=1\"); do\n"
        "  case \"$STATUS\" in\n"
        "    *'\"COMPLETED\"'*) break ;;\n"
        "    *'\"IN_QUEUE\"'*|*'\"IN_PROGRESS\"'*) sleep 1 ;;\n"
        "    *) echo \"fal answered: $STATUS\" >&2; break ;;\n"
        "  esac\n"
        "done\n"
        "# 3. Fetch the result: the image URL, the seed and the timings.\n"
        f"curl --silent {key} \"{QUEUE_URL}/requests/$REQUEST_ID\""
    )
