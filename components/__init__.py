"""The UI: one module per panel, each with ``render()`` (build widgets) and ``listen()`` (wire events)."""
