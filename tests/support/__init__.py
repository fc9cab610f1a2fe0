"""Shared test helpers (python-telegram-bot's `tests/auxil/`): settings, events, and a
harness that drives a real Twin through a recording fake channel."""
