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


@pytest.fixture(autouse=True)
def _private_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test writes the user's data dir: ``stream`` saves every run to the history
    database there by default. A test's own ``LLMSTREAM_DATA_DIR`` still wins (its fixture
    runs after this one); subprocesses inherit the variable."""
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path_factory.mktemp("data")))
