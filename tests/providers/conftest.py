"""Fixtures for the provider tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """One httpx client per test, injected into backends (as the app does per provider)."""
    async with httpx.AsyncClient() as c:
        yield c
