"""Sweeps: the X/Y/Z axis syntax, the grid plan, running it, its stored record, contact sheets, metrics and time
estimates."""
