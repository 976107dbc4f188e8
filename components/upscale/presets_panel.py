"""Presets panel: choose a preset to fill the form, save the current settings as one, delete your own.

Shipped presets come from ``presets/``, saved ones from the data directory (per owner); the menu lists the
shipped ones first and marks the saved ones. Share links and deep links live in ``deeplink_panel``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.common.refusal import refused
from components.common.session import Session
from components.common.text import plain, toast
from core import presets
from core.errors import InputError
from core.presets import Preset
from core.schema import PARAMETER_FIELDS, defaults

if TYPE_CHECKING:
    from components.upscale.parameters import Widget

SAVED_MARK = " (saved)"
NO_PRESET = "Choose a preset to fill the form; every value can still be changed afterwards."


@dataclass
class PresetsPanel:
    notice: gr.Markdown  # what a deep link asked for and could not get
    preset: gr.Dropdown
    description: gr.Markdown
    label: gr.Textbox
    about: gr.Textbox
    save: gr.Button
    delete: gr.Button
    share: gr.Button
    link: gr.Textbox


CUSTOM = "custom"  # the menu's value when the form matches no preset


def choices(owner: str = "", *, include_saved: bool = True) -> list[tuple[str, str]]:
    """(label, id) pairs for the menu: shipped presets, then the owner's saved ones marked as such, then "custom"
    (what the menu says when the form matches none of them)."""
    listed = presets.all_presets(owner) if include_saved else presets.shipped()
    return [*((p.label + (SAVED_MARK if p.source == "saved" else ""), p.id) for p in listed),
            ("custom (matches no preset)", CUSTOM)]


def matching(values: Sequence[Any], owner: str = "", chosen: str | None = None) -> str:
    """The preset the form's parameters (all but the seed, unless the preset sets one) match, else ``CUSTOM``;
    the ``chosen`` one first, so two presets with the same values keep the one the person picked."""
    form = form_arguments(values)

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return abs(float(a) - float(b)) < 1e-9
        return a == b or (a in (None, "") and b in (None, ""))

    listed = presets.all_presets(owner)
    for preset in sorted(listed, key=lambda preset: preset.id != chosen):
        wanted = presets.merged(preset)
        names = [f.name for f in PARAMETER_FIELDS if f.name != "seed" or "seed" in preset.arguments]
        if all(same(form[name], wanted[name]) for name in names):
            return preset.id
    return CUSTOM


def follow_form(*values: Any) -> Any:
    """The menu's value as the form changes (``values``: the parameters in schema order, the menu's value, then
    the session)."""
    *parameters, chosen, session = values
    return gr.update(value=matching(parameters, session.files_owner() if session else "", chosen))


def describe(preset: Preset | None) -> str:
    """The preset's description, saying whether it is built in or one of yours."""
    if preset is None:
        return NO_PRESET
    kind = "Built-in preset" if preset.source == "shipped" else "Your saved preset"
    about = preset.description if preset.source == "shipped" else plain(preset.description)  # a visitor's: text
    return f"**{kind}** `{preset.id}` — {about or 'no description.'}"


def form_arguments(values: Sequence[Any]) -> dict[str, Any]:
    """Parameter widget values (in schema order) as a name → value dict."""
    return {field.name: value for field, value in zip(PARAMETER_FIELDS, values, strict=True)}


def preset_values(preset: Preset, seed: int | None = None) -> list[Any]:
    """Every parameter in schema order: the preset merged over the defaults; the seed kept unless it sets one."""
    merged = presets.merged(preset)
    if "seed" not in preset.arguments:
        merged["seed"] = seed
    return [merged[field.name] for field in PARAMETER_FIELDS]


def menu(owner: str, value: str | None) -> Any:
    return gr.Dropdown(choices=choices(owner), value=value)


def render() -> PresetsPanel:
    # Only the shipped presets here: the visitor's own are added on page load, when the owner is known.
    notice = gr.Markdown("", elem_id="link-notice")
    with gr.Group(elem_id="presets-panel"):
        preset = gr.Dropdown(choices(include_saved=False), value=matching(list(defaults().values())),
                             label="Preset", elem_id="preset",
                             info="Fills every parameter below; the seed stays unless the preset sets one.")
        description = gr.Markdown(describe(presets.find(preset.value) if isinstance(preset.value, str) else None),
                                  elem_id="preset-description", padding=True)
    with gr.Accordion("Save a preset · share a link", open=False, elem_id="preset-tools"):
        with gr.Row():
            label = gr.Textbox(label="Preset name", max_lines=1, max_length=presets.MAX_LABEL_CHARS,
                               elem_id="preset-label", placeholder="e.g. Old family photos")
            about = gr.Textbox(label="What it is for", max_lines=3, max_length=presets.MAX_DESCRIPTION_CHARS,
                               elem_id="preset-about")
        with gr.Row():
            save = gr.Button("Save current settings as preset", size="sm", elem_id="preset-save")
            delete = gr.Button("Delete saved preset", size="sm", variant="stop", interactive=False,
                               elem_id="preset-delete")
        with gr.Row(equal_height=True):
            share = gr.Button("Link to these settings", size="sm", scale=1, elem_id="share-button")
            link = gr.Textbox(label="Share link", interactive=False, buttons=["copy"], scale=3,
                              elem_id="share-link", placeholder="Share link: press the button to make a link.")
    return PresetsPanel(notice, preset, description, label, about, save, delete, share, link)


def show_preset(preset_id: str | None, session: Session) -> tuple[str, Any]:
    """The chosen preset's description, and the Delete button enabled only for a saved preset."""
    preset = presets.find(preset_id, session.files_owner()) if preset_id else None
    return describe(preset), gr.Button(interactive=preset is not None and preset.source == "saved")


def apply_preset(preset_id: str | None, seed: int | None, session: Session, *form: Any) -> list[Any]:
    """Every parameter widget's new value, in schema order ("custom" changes nothing: it names no preset). With
    ``form`` (the parameters as they were when the menu was left), a preset the form already holds changes
    nothing either: the menu closed on its own value (Escape) re-applied it, and a value typed meanwhile was
    put back."""
    if preset_id == CUSTOM:
        return [gr.skip() for _ in PARAMETER_FIELDS]
    preset = presets.find(preset_id, session.files_owner()) if preset_id else None
    if preset is None:
        raise refused(f"There is no preset {preset_id!r} any more; choose another." if preset_id
                       else "Choose a preset first.")
    if form and matching(form, session.files_owner(), preset.id) == preset.id:
        return [gr.skip() for _ in PARAMETER_FIELDS]
    return preset_values(preset, seed)


def save_preset(label: str, about: str, session: Session, *values: Any) -> tuple[Any, str, str, str]:
    """Save the form's parameters (not the image) as the owner's preset; select it in the menu."""
    if not session.known:
        raise refused("The page is still loading; save the preset again in a moment.")
    try:
        preset = presets.save(label or "", about or "", form_arguments(values), session.files_owner())
    except InputError as exc:
        raise refused(exc.message) from None
    gr.Info(toast(f"Saved the preset “{preset.label}”."))
    return menu(session.files_owner(), preset.id), describe(preset), "", ""


def delete_preset(preset_id: str | None, session: Session) -> Any:
    """Delete the chosen saved preset; a built-in one is refused with a message."""
    preset = presets.find(preset_id, session.files_owner()) if preset_id else None
    if preset is None:
        raise refused("Choose one of your saved presets first.")
    if preset.source == "shipped":
        raise refused(f"“{preset.label}” is a built-in preset and cannot be deleted; only presets you saved "
                       f"can be.")
    if not presets.delete(preset.id, session.files_owner()):
        raise refused(f"“{preset.label}” was already deleted.")
    gr.Info(toast(f"Deleted the preset “{preset.label}”."))
    return menu(session.files_owner(), None)


def listen(panel: PresetsPanel, session: gr.State, params: dict[str, Widget]) -> None:
    """Wire the menu, its description, save and delete (the share link and deep links: ``deeplink_panel``)."""
    widgets = list(params.values())
    # .input, not .change: a menu value set by a deep link or a save must not overwrite the form.
    applied = panel.preset.input(apply_preset, [panel.preset, params["seed"], session, *widgets], widgets,
                                 api_visibility="private")
    panel.preset.change(show_preset, [panel.preset, session], [panel.description, panel.delete],
                        api_visibility="private", show_progress="hidden")
    panel.save.click(save_preset, [panel.label, panel.about, session, *widgets],
                     [panel.preset, panel.description, panel.label, panel.about], api_visibility="private")
    panel.delete.click(delete_preset, [panel.preset, session], panel.preset, api_visibility="private")
    # The menu follows the form: after a person's own edit, and after a preset fills it (a deep link and a restore
    # chain follow_form themselves). Not on every .change: ten widgets changing at once stalled the page's queue.
    gr.on([widget.input for widget in widgets], follow_form, following(panel, session, params), panel.preset,
          api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    follow_after(applied, panel, session, params)


def following(panel: PresetsPanel, session: gr.State, params: Mapping[str, gr.components.Component]) -> list[Any]:
    return [*params.values(), panel.preset, session]


def follow_after(event: Any, panel: PresetsPanel, session: gr.State,
                 params: Mapping[str, gr.components.Component]) -> None:
    """After ``event`` fills the form (a preset, a restore from the History), the menu names what it now matches."""
    event.then(follow_form, following(panel, session, params), panel.preset, api_visibility="private",
               show_progress="hidden")
