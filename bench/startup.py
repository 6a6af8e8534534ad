"""Start-up: what a user waits for before anything happens, against the imports we stand on.

- ``llmstream-tui stream`` end to end for a one-chunk scripted answer (a config file with
  one ``scripted`` provider answering ``"Hi!"``; history saved, as by default);
- the app's first frame, headless: ``make_app(settings)`` as the CLI builds it, run until
  the first screen has been drawn (Textual's ``run_test`` + one ``pause``);
- ``python -c "import textual"`` and ``python -c "import httpx"``: the floor under each.

Every case is a fresh interpreter (``subprocess.run``), with an empty HOME and a private
``LLMSTREAM_DATA_DIR``, so no user config or history is read; the ratio is to
``import textual``.

Run: ``python -m bench.startup`` (``--smoke``: one run each).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import Row, alternate, format_table, rows_from, timed, write_json

REPEATS = 7
CONFIG = '[providers.one]\nkind = "scripted"\nchunks = ["Hi!"]\n'
FIRST_FRAME = (
    "import asyncio\n"
    "from llmstream_tui import load_settings\n"
    "from llmstream_tui.ui.app import make_app\n"
    "async def main():\n"
    "    app = make_app(load_settings())\n"
    "    async with app.run_test(size=(120, 40)) as pilot:\n"
    "        await pilot.pause()\n"
    "asyncio.run(main())\n"
)


def _run(cmd: list[str], home: Path) -> float:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LLMSTREAM_DATA_DIR": str(home / "data")}
    return timed(lambda: subprocess.run(cmd, check=True, capture_output=True, env=env))


def run(smoke: bool = False, repeats: int = REPEATS) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="llmstream-bench-") as tmp:
        home = Path(tmp)
        config = home / "one.toml"
        config.write_text(CONFIG, encoding="utf-8")
        stream = [
            sys.executable,
            "-m",
            "llmstream_tui",
            "stream",
            "--config",
            str(config),
            "-p",
            "one",
            "--format",
            "jsonl",
            "hi",
        ]
        out = subprocess.run(
            stream,
            check=True,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": tmp, "LLMSTREAM_DATA_DIR": str(home / "data")},
        ).stdout
        assert '"Hi!"' in out, out  # the one chunk really streamed
        cases = {
            'python -c "import httpx"': lambda: _run([sys.executable, "-c", "import httpx"], home),
            'python -c "import textual"': lambda: _run(
                [sys.executable, "-c", "import textual"], home
            ),
            "llmstream-tui stream (one chunk)": lambda: _run(stream, home),
            "app first frame (headless)": lambda: _run([sys.executable, "-c", FIRST_FRAME], home),
        }
        samples = alternate(cases, 1 if smoke else repeats)
    return rows_from("startup", samples, "s", 'python -c "import textual"', higher_is_better=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="one run of each")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    rows = run(args.smoke, args.repeats)
    print(format_table(rows))
    if not args.smoke:
        print(f"results: {write_json(rows, 'startup.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
