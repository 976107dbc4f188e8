"""The Upscale tab: the image, the parameters (generated from core/schema.py), presets and links, PNG info, the Upscale
action and its console, result, cancel and fetch by request id."""
