"""Every sessions test gets its own data dir, so none touches the user's history."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``$LLMSTREAM_DATA_DIR`` pointed at a fresh temp dir (the history lives there)."""
    path = tmp_path / "data"
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(path))
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return path
