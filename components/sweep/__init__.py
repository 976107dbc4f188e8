"""The Sweep tab: axes and the pre-flight line, the public sweep action, the live grid and its views, re-opening past
sweeps."""
