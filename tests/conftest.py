"""Fixtures shared by the whole suite. Keep each one small; append yours below."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from itertools import count

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


@pytest.fixture
def counted_run_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run ids (shown in the events log) from a counter instead of uuid4."""
    numbers = count(1)
    monkeypatch.setattr(
        uuid,
        "uuid4",
        lambda: uuid.UUID(int=(next(numbers) * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)),
    )
    yield
