"""The page's theme: Gradio's Default theme with text and button colours that meet WCAG AA (4.5:1) in light and
dark (docs/accessibility.md lists what each setting fixes, measured with axe-core).

Only Gradio's own theme variables (``gr.themes.Default().set(...)``); the few colours the theme has no variable for
are in ``style.css``.
"""

from __future__ import annotations

import gradio as gr


def build() -> gr.themes.Base:
    """The theme passed to ``launch`` (Gradio 6 takes the theme there, not in ``gr.Blocks``)."""
    return gr.themes.Default().set(
        # Info texts under labels, the upload box's "- or -", line numbers, the footer: neutral-400 (#bbbbc2) on
        # white is 1.9:1; neutral-600 is 7.7:1. Dark keeps neutral-400 (7.8:1 on the dark blocks).
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        input_placeholder_color="*neutral_600",
        input_placeholder_color_dark="*neutral_400",
        # Primary buttons (Upscale, Run sweep, Restore): white on orange-500 is 2.8:1, on orange-600 3.6:1;
        # on orange-700 5.2:1, hovered orange-800 7.3:1.
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_border_color="*primary_700",
        button_primary_border_color_dark="*primary_700",
        button_primary_border_color_hover="*primary_800",
        button_primary_border_color_hover_dark="*primary_800",
        # Stop buttons (Delete, Cancel): white on red-500 is 3.8:1, on red-700 6.5:1 (the dark theme's own).
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
    )
