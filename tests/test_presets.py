"""Presets: the shipped ones are valid and sensible; bad files are refused by name; saved ones stay in the data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import presets, schema
from core.errors import InputError

REPO_PRESETS = Path(__file__).resolve().parent.parent / "presets"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("CLARITY_DATA_DIR", str(path))
    return path


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


# --- shipped presets -------------------------------------------------------------------------------------------

def test_every_shipped_preset_loads_and_validates() -> None:
    shipped = presets.shipped()
    assert len(shipped) >= 6
    assert sorted(p.id for p in shipped) == sorted(path.stem for path in REPO_PRESETS.glob("*.json"))
    for preset in shipped:
        assert preset.source == "shipped"
        assert preset.label and len(preset.description) > 60, preset.id
        assert "image_url" not in preset.arguments
        clean = schema.validate({**presets.merged(preset), "image_url": "https://example.com/a.png"})
        assert clean["image_url"] == "https://example.com/a.png"


def test_shipped_presets_are_distinct() -> None:
    shipped = presets.shipped()
    assert len({p.label for p in shipped}) == len(shipped)
    merged = [tuple(sorted(presets.merged(p).items())) for p in shipped]
    assert len(set(merged)) == len(merged), "two presets send the same parameters"


def test_shipped_presets_do_what_their_names_say() -> None:
    by_id = {p.id: presets.merged(p) for p in presets.shipped()}
    d = schema.defaults()
    assert by_id["fal-defaults"] == d
    gentle, creative = by_id["gentle-restore"], by_id["creative-detail"]
    assert gentle["creativity"] < d["creativity"] < creative["creativity"]
    assert gentle["resemblance"] > d["resemblance"] > creative["resemblance"]
    product = by_id["product-fidelity"]
    assert product["creativity"] <= min(p["creativity"] for p in by_id.values())
    assert product["resemblance"] == schema.FIELD_BY_NAME["resemblance"].maximum
    assert by_id["fast-draft"]["num_inference_steps"] < d["num_inference_steps"]
    assert by_id["large-print-4x"]["upscale_factor"] == 4


def test_shipped_order_is_stable_and_independent_of_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = [p.id for p in presets.shipped()]
    monkeypatch.chdir(tmp_path)
    assert [p.id for p in presets.shipped()] == first
    assert first[0] == "fal-defaults"
    orders = [p.order for p in presets.shipped()]
    assert orders == sorted(orders)


def test_merged_puts_preset_values_over_defaults() -> None:
    preset = presets.Preset("x", "X", "", {"creativity": 0.9})
    merged = presets.merged(preset)
    assert merged["creativity"] == 0.9
    assert merged["prompt"] == schema.defaults()["prompt"]
    assert set(merged) == set(schema.defaults())


# --- bad files -------------------------------------------------------------------------------------------------

GOOD = {"label": "Mine", "description": "Mine.", "arguments": {"creativity": 0.5}}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**GOOD, "colour": "red"}, ["colour"]),
        ({**GOOD, "arguments": {"creativty": 0.5}}, ["creativty"]),
        ({**GOOD, "arguments": {"creativity": 1.5}}, ["creativity", "from 0 to 1"]),
        ({**GOOD, "arguments": {"num_inference_steps": 2}}, ["num_inference_steps", "from 4 to 50"]),
        ({**GOOD, "arguments": {"num_inference_steps": 18.5}}, ["num_inference_steps", "whole"]),
        ({**GOOD, "arguments": {"creativity": "0.5"}}, ["creativity", "number"]),
        ({**GOOD, "arguments": {"upscale_factor": True}}, ["upscale_factor"]),
        ({**GOOD, "arguments": {"enable_safety_checker": "no"}}, ["enable_safety_checker"]),
        ({**GOOD, "arguments": {"prompt": 5}}, ["prompt", "text"]),
        ({**GOOD, "arguments": {"image_url": "https://example.com/a.png"}}, ["image_url"]),
        ({**GOOD, "arguments": ["creativity"]}, ["arguments"]),
        ({"description": "no label", "arguments": {}}, ["label"]),
        ({**GOOD, "order": "first"}, ["order"]),
        ([1, 2], ["object"]),
    ],
)
def test_bad_preset_file_is_refused_with_file_and_key(tmp_path: Path, data: object, words: list[str]) -> None:
    path = _write(tmp_path, "my-preset.json", data)
    with pytest.raises(InputError) as caught:
        presets.load_file(path)
    assert "my-preset.json" in str(caught.value)
    for word in words:
        assert word in str(caught.value)


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.json", '{\n  "label": "Broken",\n  "arguments": {"creativity": 0.5,}\n}\n')
    with pytest.raises(InputError, match=r"broken\.json.*line 3"):
        presets.load_file(path)


def test_good_file_keeps_only_its_own_keys(tmp_path: Path) -> None:
    preset = presets.load_file(_write(tmp_path, "mine.json", {**GOOD, "arguments": {"seed": 7, "creativity": 1}}))
    assert preset.arguments == {"creativity": 1.0, "seed": 7}
    assert preset.id == "mine" and preset.path == tmp_path / "mine.json"


# --- saved presets ---------------------------------------------------------------------------------------------

def test_saved_presets_live_under_the_data_dir(data_dir: Path) -> None:
    before = sorted(REPO_PRESETS.iterdir())
    preset = presets.save("My Portraits", "soft", {"creativity": 0.25, "num_inference_steps": 20.0})
    assert preset.id == "my-portraits" and preset.source == "saved"
    assert preset.path is not None and preset.path.is_relative_to(data_dir / "presets")
    assert sorted(REPO_PRESETS.iterdir()) == before
    assert preset.arguments == {"creativity": 0.25, "num_inference_steps": 20}
    assert isinstance(preset.arguments["num_inference_steps"], int)
    assert [p.id for p in presets.saved()] == ["my-portraits"]
    assert presets.find("my-portraits") == presets.saved()[0]
    assert presets.merged(presets.find("my-portraits"))["creativity"] == 0.25
    everything = presets.all_presets()
    assert everything[-1].id == "my-portraits" and everything[0].source == "shipped"


def test_save_drops_the_image_and_a_random_seed() -> None:
    preset = presets.save("Scan", "", {"image_url": "data:image/png;base64,AAAA", "seed": None, "prompt": "scan"})
    assert preset.arguments == {"prompt": "scan"}
    assert "AAAA" not in preset.path.read_text()


def test_save_validates_values() -> None:
    with pytest.raises(InputError) as caught:
        presets.save("Too much", "", {"creativity": 3})
    assert caught.value.field == "creativity"
    with pytest.raises(InputError, match="api_key"):
        presets.save("Sneaky", "", {"api_key": "secret"})
    assert presets.saved() == []


def test_save_refuses_shipped_ids_and_empty_slugs() -> None:
    with pytest.raises(InputError, match="built-in"):
        presets.save("Gentle Restore!", "", {})
    for label in ("!!!", "日本語", "   "):
        with pytest.raises(InputError):
            presets.save(label, "", {})
    assert presets.saved() == []
    assert presets.find("gentle-restore").source == "shipped"


def test_saving_the_same_label_again_replaces_it() -> None:
    presets.save("Night", "", {"creativity": 0.3})
    presets.save("night", "", {"creativity": 0.4})
    assert [p.arguments for p in presets.saved()] == [{"creativity": 0.4}]


def test_no_path_traversal_from_label_or_owner(data_dir: Path) -> None:
    preset = presets.save("../../../etc/passwd", "", {}, owner="../../../tmp")
    assert preset.id == "etc-passwd"
    assert preset.path.resolve().is_relative_to((data_dir / "presets").resolve())
    assert presets.owner_dir("../..").resolve().parent == (data_dir / "presets").resolve()
    assert presets.delete("../../x") is False
    assert presets.find("../gentle-restore") is None


def test_owners_see_only_their_own_presets() -> None:
    presets.save("Alice only", "", {"creativity": 0.1}, owner="alice")
    assert [p.id for p in presets.saved("alice")] == ["alice-only"]
    assert presets.saved("bob") == [] and presets.saved() == []
    assert presets.find("alice-only", "bob") is None
    assert presets.delete("alice-only", "bob") is False
    assert presets.delete("alice-only", "alice") is True
    assert presets.delete("alice-only", "alice") is False
    assert presets.saved("alice") == []


def test_shipped_presets_cannot_be_deleted() -> None:
    assert presets.delete("gentle-restore") is False
    assert (REPO_PRESETS / "gentle-restore.json").exists()


def test_a_damaged_saved_file_is_skipped_not_fatal(data_dir: Path) -> None:
    presets.save("Good one", "", {})
    _write(presets.owner_dir(), "bad-one.json", "{not json")
    assert [p.id for p in presets.saved()] == ["good-one"]
