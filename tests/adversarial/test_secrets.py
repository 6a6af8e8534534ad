"""Secrets: full headless sessions with a canary key. The key must appear in no file
written (recording, history database and its WAL, exports), in no output line, in no error
text, and in no repr, even when the provider echoes it back in an error body."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from llmstream_tui import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire_encoders import FORMATS, PLAIN_FRAME

CANARY = "sk-canary-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e"


def scan(root: Path) -> list[str]:
    """Every file under ``root`` that holds the canary (as text or bytes)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and CANARY.encode() in path.read_bytes():
            found.append(str(path))
    return found


async def cli(args: list[str], home: Path) -> tuple[int, str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "LLMSTREAM_DATA_DIR": str(home / "data"),
        "OPENAI_API_KEY": CANARY,
        "ANTHROPIC_API_KEY": CANARY,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llmstream_tui",
        *args,
        cwd=home,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
async def test_stream_record_history_export_never_hold_the_key(tmp_path: Path) -> None:
    body = FORMATS["openai-chat"](["Hello", " there"], PLAIN_FRAME)
    ok = Reply(body=body, headers=[("content-type", "text/event-stream")])
    echo = Reply.json(
        {
            "error": {
                "message": f"Incorrect API key provided: {CANARY}. Find yours"
                " at https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
        status=401,
    )
    async with LoopbackServer(ok, echo) as server:
        ref = f"openai-chat:gpt-4o-mini@{server.url}/v1"
        outputs = []
        outputs.append(await cli(["stream", "-p", ref, "--record", "run.jsonl", "hi"], tmp_path))
        outputs.append(await cli(["stream", "-p", ref, "--events", "v2", "hi"], tmp_path))
        outputs.append(await cli(["stream", "-p", ref, "--format", "jsonl", "hi"], tmp_path))
        outputs.append(await cli(["stream", "-p", ref, "hi"], tmp_path))
        assert server.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    assert outputs[0][0] == 0 and "Hello| there|" in outputs[0][1]
    assert outputs[2][0] == 1 and '"type": "error"' in outputs[2][1]
    assert "401" in outputs[3][2] and "[redacted]" in outputs[3][2]
    history = await cli(["history"], tmp_path)
    session_id = history[1].split()[0]
    outputs.append(history)
    outputs.append(await cli(["export", session_id, "--format", "md"], tmp_path))
    outputs.append(await cli(["export", session_id, "--format", "jsonl"], tmp_path))
    outputs.append(await cli(["providers"], tmp_path))
    for _code, out, err in outputs:
        assert CANARY not in out and CANARY not in err
    assert (tmp_path / "run.jsonl").exists() and list((tmp_path / "data").iterdir())
    assert scan(tmp_path) == []


@pytest.mark.parametrize("kind", ["openai-chat", "anthropic", "gemini", "openai-responses"])
def test_backend_and_config_reprs_never_show_the_key(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_KEY", CANARY)
    llm = build_llm({"kind": kind, "model": "m", "api_key_env": "CANARY_KEY"}, name="p")
    texts = [repr(llm), str(llm), repr(vars(llm)) if hasattr(llm, "__dict__") else ""]
    spec = getattr(llm, "spec", None)
    texts += [repr(spec), str(spec)]
    if spec is not None:
        texts.append(spec.model_dump_json())
    assert all(CANARY not in t for t in texts)
    assert os.environ["CANARY_KEY"] == CANARY
