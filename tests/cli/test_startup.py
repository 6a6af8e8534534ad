"""What ``stream`` imports on its way to a first chunk (issue 17: start-up within 1.5x of a
hand-written httpx script): a scripted answer needs no HTTP client, no TOML writer and no
Textual, so none of them is imported (each costs a noticeable part of start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


#: What an HTTP provider's client would import and a stream never runs: httpx's own command
#: line (click, rich, pygments) and trio (httpcore probes for it; ``stream`` runs on asyncio).
UNUSED_BY_HTTP = ("trio", "click", "rich", "pygments", "httpx._main")
#: What a stream that saves nothing (``--no-history``) never needs.
UNUSED_WITHOUT_HISTORY = ("llmstream_tui.sessions", "sqlite3")

HTTP_PROBE = (
    "import sys\n"
    "from llmstream_tui.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "import json\n"
    "loaded = [m for m in {unused!r} if sys.modules.get(m) is not None]\n"
    "left_blocked = [m for m in {unused!r} if m in sys.modules and sys.modules[m] is None]\n"
    "history = [m for m in {history!r} if m in sys.modules]\n"
    "print(json.dumps([loaded, left_blocked, history]), file=sys.stderr)\n"
    "sys.exit(code)\n"
)

SSE_BODY = (
    b'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class _SSEHandler(BaseHTTPRequestHandler):
    """Every POST gets the same short Chat Completions stream."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(SSE_BODY)))
        self.end_headers()
        self.wfile.write(SSE_BODY)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nothing on the test's stderr."""


def test_an_http_stream_imports_neither_httpx_command_line_nor_trio_nor_history_unasked(
    tmp_path: Path,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SSEHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = tmp_path / "loop.toml"
        config.write_text(
            '[providers.loop]\nkind = "openai-chat"\nmodel = "gpt-4o"\n'
            f'base_url = "http://127.0.0.1:{server.server_address[1]}"\n'
            'api_key_env = "TEST_KEY"\n',
            encoding="utf-8",
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
            "TEST_KEY": "sk-test",
        }
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                HTTP_PROBE.format(unused=UNUSED_BY_HTTP, history=UNUSED_WITHOUT_HISTORY),
                *("stream", "--config", str(config), "-p", "loop", "--no-history", "hi"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hi|\n"
    # nothing of them loaded, none left blocked for a later import in the process, and
    # with --no-history nothing of the sessions package (nor sqlite3)
    assert json.loads(done.stderr.strip().splitlines()[-1]) == [[], [], []]
