"""Ordinary mistakes are not crashes: a refused input is one line in the server's log, never a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from gradio_client import handle_file


def test_refused_inputs_are_one_log_line_each_not_a_traceback(client, tmp_path: Path, capfd, caplog,
                                                              monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is not a picture")
    capfd.readouterr()
    caplog.set_level(logging.INFO)
    caplog.clear()
    calls = [
        ((handle_file(str(not_an_image)), ""), {"engine": "local"}, "not an image"),
        ((None, "http://example.com/a.png"), {"engine": "local"}, "https://"),
        ((None, "https://example.com/a.png"), {"engine": "fal"}, "No fal key"),
        ((handle_file(str(not_an_image)), ""), {"seed": 2**40, "engine": "local"}, "seed must be"),
    ]
    for args, options, message in calls:
        with pytest.raises(Exception, match=message):
            client.predict(*args, **options, api_name="/upscale")
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    lines = [record.getMessage() for record in caplog.records if record.name == "clarity.refused"]
    assert len(lines) == len(calls), lines
    assert all("\n" not in line for line in lines)
    for (_, _, message), line in zip(calls, lines, strict=True):
        assert message in line
