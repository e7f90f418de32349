"""Engine interfaces implemented with Home Assistant services."""
