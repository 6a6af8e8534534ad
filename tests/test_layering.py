"""The core never imports textual; the UI never speaks HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "llmstream_tui"


def test_importing_the_core_and_providers_does_not_import_textual() -> None:
    code = (
        "import sys, llmstream_tui, llmstream_tui.cli, llmstream_tui.core.runnable\n"
        "from llmstream_tui import build_llm\n"
        "import llmstream_tui.providers.scripted, llmstream_tui.providers.simulated\n"
        "build_llm('swift').invoke('hi')\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_no_core_module_mentions_textual_and_no_ui_module_mentions_httpx() -> None:
    for folder in ("core", "providers", "wire", "sessions"):
        for path in (SRC / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "import textual" not in text and "from textual" not in text, path
    for path in (SRC / "ui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import httpx" not in text, path
