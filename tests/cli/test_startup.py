"""What ``stream`` imports on its way to a first chunk (issue 17: start-up within 1.5x of a
hand-written httpx script): a scripted answer needs no HTTP client, no TOML writer and no
Textual, so none of them is imported (each costs a noticeable part of start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("httpx", "tomlkit", "textual", "rich")

PROBE = (
    "import sys\n"
    "from llmstream_tui.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "import json\n"
    "print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def test_a_scripted_stream_imports_no_http_client_toml_writer_or_textual(tmp_path: Path) -> None:
    config = tmp_path / "one.toml"
    config.write_text('[providers.one]\nkind = "scripted"\nchunks = ["Hi!"]\n', encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.format(heavy=HEAVY),
            *("stream", "--config", str(config), "-p", "one", "hi"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hi!|\n"
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    assert (tmp_path / "data").is_dir()  # history on, as by default: it was saved
