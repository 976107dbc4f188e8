"""Engine panel: the engine choice, the key (typed for this session only), each engine's model choice, a webhook
URL — drawn from the engines' descriptors (``core/engines``): a key box when an engine needs a key, a model
dropdown for each engine that offers models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from components.common.session import Session, default_engine
from core import config
from core.engines import ENGINES, EngineInfo, describe, forget, keyless_engine
from core.usecases import spent_today


@dataclass
class EnginePanel:
    engine: gr.Radio
    key_status: gr.Markdown
    key: gr.Textbox
    forget: gr.Button
    models: dict[str, gr.Dropdown]  # engine id → its model choice
    webhook_url: gr.Textbox
    session: gr.State
    browser_owner: gr.BrowserState


def _with_models() -> list[EngineInfo]:
    return [info for info in map(describe, ENGINES) if info.models]


def render() -> EnginePanel:
    session = Session(shared=config.shared_mode())
    session.models = {info.id: info.default_model or info.models[0] for info in _with_models()}
    blurbs = "; ".join(info.blurb for info in map(describe, ENGINES) if info.blurb)
    keyed = any(describe(engine).needs_key for engine in ENGINES)
    with gr.Group(elem_id="engine-panel"):
        with gr.Row(equal_height=True):
            engine = gr.Radio(list(ENGINES), value=default_engine(session), label="Engine", elem_id="engine",
                              info=f"{blurbs}.")
            key_status = gr.Markdown(session.key_status(), elem_id="key-status")
        with gr.Accordion("Key, local model, webhook", open=False):
            key = gr.Textbox(label="fal key", type="password", placeholder="key-id:secret", elem_id="fal-key",
                             info="Kept in server memory for this browser session only; never shown again.",
                             visible=keyed)
            forget_button = gr.Button("Forget the typed key", size="sm", visible=keyed)
            models = {info.id: gr.Dropdown(list(info.model_choices), value=session.models[info.id],
                                           label=info.model_label or f"{info.id} model", elem_id=f"{info.id}-model")
                      for info in _with_models()}
            webhook_url = gr.Textbox(label="Webhook URL (fal, optional)", placeholder="https://…",
                                     info="fal POSTs the result here too when the run ends.")
    browser_owner = gr.BrowserState("", storage_key="clarity-studio-owner", secret=config.browser_secret())
    return EnginePanel(engine, key_status, key, forget_button, models, webhook_url,
                       gr.State(session, delete_callback=end_session), browser_owner)


def status(session: Session, engine: str | None = None) -> str:
    """The key's status, and what this visitor has spent today of a budgeted Space key; with ``engine`` (the one
    chosen) needing a key that is not there, it says first that a run on it would be refused and what to do."""
    spent = spent_today(session)
    line = session.key_status() + (f" · {spent}" if spent else "")
    if engine in ENGINES and describe(engine).needs_key and not session.fal_key():
        line = (f"**No fal key: a run on {engine} would be refused.** Type a key under *Key, local model, "
                f"webhook*, or choose {keyless_engine()} (it runs here on the CPU, free).")
    return line


def set_key(typed: str, session: Session) -> tuple[str, Session, str, str]:
    """Keep a typed key in the session, clear the box, and switch to fal when a key is now available."""
    if (typed or "").strip():
        if session.typed_key and session.typed_key != typed.strip():
            forget(session.typed_key)  # the key it replaces leaves the process
        session = replace(session, typed_key=typed.strip())
    return "", session, status(session), default_engine(session)


def forget_key(session: Session) -> tuple[Session, str, str]:
    """Drop the typed key: from the session, and the engine made for it from the process."""
    forget(session.typed_key)
    session = replace(session, typed_key=None)
    return session, status(session), default_engine(session)


def end_session(session: Session | None) -> None:
    """When a browser session ends (Gradio deletes its state), the engine made for its typed key goes too."""
    if session is not None:
        forget(session.typed_key)


def model_setter(engine: str) -> Callable[[str, Session], Session]:
    """The handler keeping the model chosen for ``engine`` in the session."""

    def set_model(model: str, session: Session) -> Session:
        return replace(session, models={**session.models, engine: model})

    return set_model


def set_webhook(url: str, session: Session) -> Session:
    return replace(session, webhook_url=(url or "").strip())


def listen(panel: EnginePanel) -> None:
    """Wire the panel (the visitor is identified, and the key's status said, by the page's load event:
    ``components/upscale/page_open.py``)."""
    panel.key.submit(set_key, [panel.key, panel.session], [panel.key, panel.session, panel.key_status,
                                                           panel.engine], api_visibility="private")
    panel.key.blur(set_key, [panel.key, panel.session], [panel.key, panel.session, panel.key_status,
                                                         panel.engine], api_visibility="private")
    panel.forget.click(forget_key, panel.session, [panel.session, panel.key_status, panel.engine],
                       api_visibility="private")
    for engine, dropdown in panel.models.items():
        dropdown.change(model_setter(engine), [dropdown, panel.session], panel.session, api_visibility="private")
    panel.webhook_url.change(set_webhook, [panel.webhook_url, panel.session], panel.session,
                             api_visibility="private")
    panel.engine.change(status, [panel.session, panel.engine], panel.key_status, api_visibility="private",
                        show_progress="hidden")


def refresh_after(panel: EnginePanel, *events: Any) -> None:
    """Say what was spent today again after each of ``events`` (runs and sweeps)."""
    for event in events:
        event.then(status, [panel.session, panel.engine], panel.key_status, api_visibility="private",
                   show_progress="hidden")
