"""The schema writes every signature: a field added to ``core/schema.py`` — in the middle, where a hand-written
signature would shift the others — appears as a widget, an API parameter of /upscale and /sweep in its place, a
history column, a snippet argument and a PNG-info value, with no other edit.

The app is built in a fresh interpreter whose schema has one more field, as a developer's edit would make it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import json, sys, tempfile
sys.path.insert(0, sys.argv[1])
import core.schema as schema

extra = schema.Field("sharpness_boost", "float", "Sharpness boost", "How much to sharpen the result.",
                     default=0.25, minimum=0.0, maximum=1.0, step=0.05)
at = [f.name for f in schema.FIELDS].index("upscale_factor") + 1  # mid-schema
schema.FIELDS = schema.FIELDS[:at] + (extra,) + schema.FIELDS[at:]
schema.FIELD_BY_NAME = {f.name: f for f in schema.FIELDS}
schema.PARAMETER_FIELDS = tuple(f for f in schema.FIELDS if f.name != "image_url")
schema.NUMERIC_FIELDS = tuple(f.name for f in schema.FIELDS if f.numeric)

import inspect
import app
from components.code.code_panel import code_for
from components.sweep.sweep_actions import sweep
from components.upscale.action import upscale
from core import snippets
from core import pnginfo
from core.runs.history import History
from core.runs.runs import Run

demo = app.build()
widgets = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "param-sharpness_boost"]
found = {"widget": [type(w).__name__ for w in widgets],
         "widget_default": widgets[0].value if widgets else None,
         "upscale": list(inspect.signature(upscale).parameters),
         "sweep": list(inspect.signature(sweep).parameters),
         "code_for": list(inspect.signature(code_for).parameters)}
arguments = {**schema.defaults(), "sharpness_boost": 0.75}
with tempfile.TemporaryDirectory() as folder:
    history = History(folder + "/history.sqlite3")
    run = Run(engine="local", arguments=arguments)
    history.save(run)
    found["history_column"] = history.frame(None)["sharpness_boost"].tolist()
    found["history_run"] = history.get(run.id).arguments.get("sharpness_boost")
found["snippet"] = "sharpness_boost" in snippets.subscribe_code({**arguments, "image_url": "https://x.invalid/a.png"})
found["pnginfo"] = pnginfo.payload({"arguments": arguments})["arguments"].get("sharpness_boost")
found["sweep_values"] = code_for(None, "https://x.invalid/a.png", "p", 2.0, 0.6)[2]
print(json.dumps(found))
'''


def test_a_field_added_to_the_schema_appears_everywhere_it_belongs() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["widget"] and found["widget_default"] == 0.25
    for handler in ("upscale", "sweep", "code_for"):
        names = found[handler]
        assert names.index("sharpness_boost") == names.index("upscale_factor") + 1, (handler, names)
    assert found["history_column"] == [0.75] and found["history_run"] == 0.75
    assert found["snippet"] is True and found["pnginfo"] == 0.75
    assert '"sharpness_boost": 0.6' in found["sweep_values"]  # the value given in its place, positionally
