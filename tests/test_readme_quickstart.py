"""The README's install and real-provider quick start do what it says.

Each provider's ``toml`` table is loaded with the real settings code; each ``shell`` block
(the quick start's commands) runs line by line: ``export`` sets a variable, an
``llmstream-tui`` line runs the CLI, and the ``# ...`` lines after it are what it must print.
The tables' servers are replaced by a loopback server speaking that kind's protocol, which
streams the very chunks the README shows (``Hello|!|`` is the chunks ``Hello`` and ``!``), and
the key the README exports must reach it in the kind's header.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from llmstream_tui import load_settings
from llmstream_tui.cli import main
from llmstream_tui.providers.registry import validate_table
from tests.support.loopback import LoopbackServer, RecordedRequest, Reply
from tests.support.wire_encoders import FORMATS, PLAIN_FRAME

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK_START = README[README.index("## Quick start with real providers") :]
QUICK_START = QUICK_START[: QUICK_START.index("\n## ")]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", QUICK_START, re.DOTALL)


def readme_tables() -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for block in blocks("toml"):
        tables.update(tomllib.loads(block)["providers"])
    return tables


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for var in list(os.environ):
        if var.upper().startswith("LLMSTREAM_") and var != "LLMSTREAM_DATA_DIR":
            monkeypatch.delenv(var)
        if var.endswith(("_API_KEY", "OLLAMA_HOST")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_quick_start_covers_each_provider_family_with_its_key_variable() -> None:
    kinds = {name: table["kind"] for name, table in readme_tables().items()}
    assert {"openai-chat", "anthropic", "gemini", "ollama-chat"} <= set(kinds.values())
    for server in ("vLLM", "llama.cpp", "LM Studio", "OpenRouter"):
        assert server in QUICK_START
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY"):
        assert f"export {key}=" in QUICK_START, key


def test_every_quick_start_table_is_valid_and_the_examples_match_the_example_file(
    tmp_path: Path,
) -> None:
    """Each table loads as a config; those the README says the example already holds are
    the example's (same kind, model and server)."""
    example = load_settings(ROOT / "config.example.toml")
    for block in blocks("toml"):
        path = tmp_path / "c.toml"
        path.write_text(block, encoding="utf-8")
        for name, table in load_settings(path).providers.items():
            validate_table(table, where=name)
    for name in ("gpt", "claude", "gemini", "llama", "local-vllm"):
        mine, theirs = readme_tables()[name], example.providers[name]
        for key in ("kind", "model", "base_url"):
            assert mine.get(key) == theirs.get(key), (name, key)


def _reply(chunks: list[str]):
    def reply(request: RecordedRequest) -> Reply:
        path = request.path
        if path.startswith("/api/chat"):
            return Reply.ndjson(FORMATS["ollama-chat"](chunks, PLAIN_FRAME))
        kind = (
            "anthropic"
            if path.startswith("/v1/messages")
            else "gemini"
            if "streamGenerateContent" in path
            else "openai-chat"
        )
        return Reply.sse(FORMATS[kind](chunks, PLAIN_FRAME))

    return reply


def _suffix(kind: str) -> str:
    return {"openai-chat": "/v1", "gemini": "/v1beta"}.get(kind, "")


def _commands(block: str) -> list[tuple[list[str], list[str]]]:
    """(argv, expected lines) per command; ``export`` lines set variables (argv ``[]``)."""
    steps: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("# "):
            steps[-1][1].append(line[2:])
        elif line.startswith("export "):
            steps.append((["export", line[len("export ") :]], []))
        elif line.startswith("llmstream-tui "):
            steps.append((shlex.split(line.split("  #")[0]), []))
        else:
            raise AssertionError(f"a quick-start line this test cannot run: {line!r}")
    return steps


@pytest.mark.parametrize("index", range(len(blocks("shell"))))
async def test_quick_start_commands_print_what_the_readme_shows(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: dict[str, str] = {}
    for argv, expected in _commands(blocks("shell")[index]):
        if argv[0] == "export":
            name, _, value = argv[1].partition("=")
            monkeypatch.setenv(name, value)
            exported[name] = value
            continue
        assert argv[0] == "llmstream-tui" and expected, argv
        texts = {re.sub(r"^\[[^\]]+\] ", "", line) for line in expected}
        assert len(texts) == 1, "one command's providers answer the same here"
        chunks = next(iter(texts)).split("|")[:-1]
        async with LoopbackServer(_reply(chunks)) as server:
            config: dict[str, Any] = {"providers": {}}
            for name, table in readme_tables().items():
                table = dict(table, base_url=server.url + _suffix(table["kind"]))
                config["providers"][name] = table
            path = tmp_path / "config.toml"
            path.write_text(tomlkit.dumps(config), encoding="utf-8")
            monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", str(path))
            out = io.StringIO()

            def run(args: list[str] = argv[1:], sink: io.StringIO = out) -> int:
                with contextlib.redirect_stdout(sink):
                    return main(args)

            code = await asyncio.to_thread(run)
        assert code == 0, argv
        assert sorted(out.getvalue().splitlines()) == sorted(expected), argv
        # the key exported just before a command is the one its provider sends
        sent = [v for r in server.requests for v in r.headers.values()]
        for name, key in exported.items():
            assert any(key in value for value in sent), (name, "not sent to the server")
        exported.clear()
