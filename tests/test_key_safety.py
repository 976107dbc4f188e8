"""The fal key reaches fal's Authorization header and nothing else: no page, response, log, row, export."""

from __future__ import annotations

import logging
from pathlib import Path

from gradio_client import handle_file
from PIL import Image

from components.common import engine_panel
from components.common.session import Session
from components.history import history_panel

TYPED = "typed-key-id:typed-secret-0123456789"


def test_a_typed_key_is_kept_server_side_and_never_shown() -> None:
    box, session, status, engine = engine_panel.set_key(TYPED, Session())
    assert box == "" and session.typed_key == TYPED and engine == "fal"
    assert TYPED not in status and "typed-secret" not in repr(session)
    kept, *_ = engine_panel.set_key("", session)[1:]  # the box emptied on blur keeps the key
    assert kept.typed_key == TYPED
    forgotten, status, engine = engine_panel.forget_key(kept)
    assert forgotten.typed_key is None and engine == "local"


def test_the_key_appears_only_in_requests_to_fal(client, fal_server, fal_key, monkeypatch, tmp_path: Path,
                                                  caplog) -> None:
    monkeypatch.setenv("FAL_KEY", fal_key)
    caplog.set_level(logging.DEBUG)
    photo = tmp_path / "p.png"
    Image.linear_gradient("L").resize((24, 16)).convert("RGB").save(photo)
    fal_server.set_default(logs=["a log line"])
    png, result = client.predict(handle_file(str(photo)), "", seed=3, engine="fal", api_name="/upscale")
    secret = fal_key.split(":", 1)[1]
    history = history_panel.history(session=Session())
    csv = Path(history_panel.export_csv("", "any", "any", Session())).read_text()
    page = client.view_api(return_format="dict", print_info=False)
    for where, text in {"result": str(result), "history": history.to_csv(), "csv": csv, "api page": str(page),
                        "logs": caplog.text, "output png": Path(png).read_bytes().decode("latin-1")}.items():
        assert secret not in text, f"the key leaked into the {where}"
    carrying = [r for r in fal_server.requests if secret in str(r.headers) or secret in str(r.json)]
    assert carrying and all(r.headers.get("authorization") == f"Key {fal_key}" for r in carrying)
