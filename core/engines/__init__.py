"""The engine seam: ``fal`` (the hosted endpoint) and ``local`` (Real-ESRGAN on the CPU)."""
