"""Start-up: `llmstream-tui stream` end to end for a one-chunk scripted answer, and the
app's first frame (headless), against `python -c "import textual"` / `"import httpx"`.
"""

from __future__ import annotations

import subprocess
import sys

from .common import Row, alternate, rows_from, timed

STREAM = [sys.executable, "-m", "llmstream_tui", "stream", "-p", "scripted:one", "--format",
          "jsonl", "hi"]
FIRST_FRAME = [sys.executable, "-c",
               "import asyncio\n"
               "from llmstream_tui import load_settings\n"
               "from llmstream_tui.ui.app import make_app\n"
               "async def main():\n"
               "    app = make_app(load_settings())\n"
               "    async with app.run_test(size=(120, 40)) as pilot:\n"
               "        await pilot.pause()\n"
               "asyncio.run(main())\n"]


def _run(cmd: list[str]) -> float:
    return timed(lambda: subprocess.run(cmd, check=True, capture_output=True,
                                        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp",
                                             "LLMSTREAM_DATA_DIR": "/tmp/llmstream-bench"}))


def run(smoke: bool = False) -> list[Row]:
    cases = {
        'python -c "import httpx"': lambda: _run([sys.executable, "-c", "import httpx"]),
        'python -c "import textual"': lambda: _run([sys.executable, "-c", "import textual"]),
        "llmstream-tui stream (one chunk)": lambda: _run(STREAM),
        "app first frame (headless)": lambda: _run(FIRST_FRAME),
    }
    samples = alternate(cases, 1 if smoke else 7)
    return rows_from("startup", samples, "s", 'python -c "import textual"',
                     higher_is_better=False)
