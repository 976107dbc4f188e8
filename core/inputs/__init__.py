"""Input images: decoding by content, transparency, metadata that may be ignored, size limits."""
