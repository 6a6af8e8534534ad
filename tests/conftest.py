"""Fixtures shared by the whole suite. Keep each one small; append yours below."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.loopback import LoopbackServer


@pytest.fixture
async def loopback() -> AsyncIterator[LoopbackServer]:
    """A started loopback HTTP server (tests/support/loopback.py); replies default to an
    empty 200 until the test sets them with ``loopback.set_replies(...)``."""
    async with LoopbackServer() as server:
        yield server
