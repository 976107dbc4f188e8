"""The public API: its endpoints as API-only events (public_api.py)."""
