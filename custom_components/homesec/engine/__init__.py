"""HomeSec engine: the clip pipeline in pure asyncio and pydantic.

Nothing in this package imports Home Assistant (tests/test_layers.py enforces it);
Home Assistant services reach it only through the interfaces in ``interfaces.py``.
"""
