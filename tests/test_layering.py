"""Imports point down the layers (cli > ui > sessions > config > providers > core | wire), the
core never imports textual or httpx, and the UI never speaks HTTP.

The contracts live in pyproject.toml (``[tool.importlinter]``); this test runs
``lint-imports`` on them, so ``make test`` fails on a wrong arrow, including one hidden behind
a chain of imports or a ``TYPE_CHECKING`` block.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # every contract was checked: an empty or misnamed table must not pass silently
    assert "5 kept, 0 broken" in out.stdout, out.stdout


def test_importing_the_core_and_providers_does_not_import_textual() -> None:
    """At run time too: the CLI's headless path and a model run load no textual module."""
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
