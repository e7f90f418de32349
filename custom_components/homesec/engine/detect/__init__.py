"""Object and motion detectors."""
