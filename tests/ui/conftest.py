"""Fixtures for the app's tests: an isolated data dir, the ``timed`` kind, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.config import Settings, UISettings
from llmstream_tui.providers.registry import KINDS

SAMPLE_CONFIGS = Path(__file__).resolve().parents[1] / "sample-configs"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every UI test gets its own data dir: no prompt history or theme choice leaks in."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(folder))
    monkeypatch.setitem(KINDS, "timed", "tests.ui.timed:TimedModel")
    monkeypatch.setitem(KINDS, "channeled", "tests.ui.channeled:ChanneledModel")
    yield folder


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: no cursor blink (stable pictures), then ``overrides``."""
    ui = {"cursor_blink": False, "events_open": "no", **overrides.pop("ui", {})}
    return Settings(ui=UISettings.model_validate(ui), **overrides)


def scripted(chunks: list[str], **extra: Any) -> dict[str, Any]:
    return {"kind": "scripted", "chunks": chunks, **extra}


def timed(chunks: list[str], **extra: Any) -> dict[str, Any]:
    return {"kind": "timed", "chunks": chunks, **extra}
