"""Clarity Studio's domain: schema, images, engines, runs, history, sweeps. Imports no gradio."""
