"""The Ultralytics backend against real Ultralytics and CPU PyTorch.

Run by ``script/test_ultralytics`` (and ``script/test --all``); skipped in the
normal test run, which has no PyTorch.
"""
