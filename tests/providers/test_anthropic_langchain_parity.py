"""Our ``anthropic`` chunks against langchain-anthropic's ``ChatAnthropic`` on the same bytes:
the recorded streams of the official SDK, and streams built from the SDK's own types with
thinking, redacted thinking, tool use and a server tool.

Where the two shapes differ by design, the comparison says how each is read:

- ``content``: ours is the answer's text (a string, as langchain-openai's); theirs is a list of
  content blocks once a stream has anything but text. Their ``text`` blocks joined must equal
  ours.
- reasoning: their ``thinking`` blocks' text joined equals our
  ``additional_kwargs["reasoning_content"]``; their signatures and redacted data equal our
  ``response_metadata["thinking_blocks"]`` (what we send back).
- tool calls: the merged calls (name, id, arguments) are the same, their ``index`` is the
  content block's index as ours is.
- server tool calls (``srvtoolu_`` ids): ours stream as tool-call chunks, shown as cards (a
  user wants to see the model search); theirs keep them in content blocks only. They are
  compared with our calls of that prefix taken out.
- usage: output tokens are the same. Input tokens differ on purpose: langchain-anthropic
  reads usage from ``message_delta`` only, which in these recordings (and in the SDK's own)
  has no ``input_tokens``, so it reports 0; we take them from ``message_start`` as the
  official SDK does (``test_anthropic.py`` pins that against the SDK). Their input count is
  0 here and ours the ``message_start`` figure.
- stop reason: their ``stop_reason`` is our ``finish_reason``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessageChunk as LCChunk
from pydantic import SecretStr

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk, parse_tool_args
from llmstream_tui.providers.registry import build_llm
from tests.providers.test_anthropic_thinking import SERVER_TOOL, THINKING_TOOL_USE
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import stream_chunks
from tests.support.paths import WIRE

#: langchain-anthropic 1.7 warns on the ``caller`` field newer tool_use blocks carry; the
#: blocks are still read (the comparison below checks them)
pytestmark = pytest.mark.filterwarnings("ignore:Received unexpected tool content block:UserWarning")

RECORDED = {p.stem: p.read_bytes() for p in sorted((WIRE / "anthropic").glob("*.sse"))}
STREAMS = {**RECORDED, "thinking-tool-use": THINKING_TOOL_USE, "server-tool": SERVER_TOOL}


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


async def both(body: bytes, client: httpx.AsyncClient) -> tuple[LCChunk, AIMessageChunk]:
    async with LoopbackServer(Reply.sse(body, pattern="random", seed=11)) as server:
        lc = ChatAnthropic(
            model_name="claude-test",
            base_url=server.url,
            api_key=SecretStr("test"),
            max_retries=0,
            timeout=10,
            stop=None,
        )
        theirs = [c async for c in lc.astream("hi")]
        spec = {"kind": "anthropic", "model": "claude-test", "base_url": server.url}
        ours = sum_chunks(await stream_chunks(build_llm(spec, name="claude", client=client)))
    assert theirs and ours is not None
    total = theirs[0]
    for chunk in theirs[1:]:
        total = total + chunk
    assert isinstance(total, LCChunk)
    return total, ours


def blocks(chunk: LCChunk, kind: str) -> list[dict[str, Any]]:
    """Their content blocks of ``kind``; merged text chunks stay plain strings in the list."""
    content = [chunk.content] if isinstance(chunk.content, str) else chunk.content
    out: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            if kind == "text" and block:
                out.append({"type": "text", "text": block})
        elif isinstance(block, dict) and block.get("type") == kind:
            out.append(block)
    return out


def calls(chunks: list[Any]) -> list[tuple[Any, Any, Any, Any]]:
    """(name, id, parsed arguments or the raw string, index) of our own kind of calls."""
    return [
        (c.get("name"), c.get("id"), parse_tool_args(c.get("args"))[0], c.get("index"))
        for c in chunks
        if not str(c.get("id") or "").startswith("srvtoolu_")
    ]


def message_start_input(body: bytes) -> int:
    for line in body.decode().splitlines():
        if line.startswith("data:") and '"message_start"' in line:
            return int(json.loads(line[5:])["message"]["usage"]["input_tokens"])
    raise AssertionError("no message_start")


@pytest.mark.parametrize("name", sorted(STREAMS))
async def test_summed_chunks_match_langchain_anthropic_on_the_same_bytes(
    client: httpx.AsyncClient, name: str
) -> None:
    theirs, ours = await both(STREAMS[name], client)
    assert ours.content == "".join(b["text"] for b in blocks(theirs, "text"))
    thinking = blocks(theirs, "thinking")
    assert ours.additional_kwargs.get("reasoning_content", "") == "".join(
        b["thinking"] for b in thinking
    )
    kept = ours.response_metadata.get("thinking_blocks") or []
    assert [b.get("signature") for b in kept if b["type"] == "thinking"] == [
        b.get("signature") for b in thinking
    ]
    assert [b["data"] for b in kept if b["type"] == "redacted_thinking"] == [
        b["data"] for b in blocks(theirs, "redacted_thinking")
    ]
    assert calls(ours.tool_call_chunks) == calls(theirs.tool_call_chunks)
    usage: dict[str, Any] = dict(ours.usage_metadata or {})
    lc_usage: dict[str, Any] = dict(theirs.usage_metadata or {})
    assert usage.get("output_tokens") == lc_usage.get("output_tokens")
    assert lc_usage.get("input_tokens") == 0
    assert usage.get("input_tokens") == message_start_input(STREAMS[name])
    assert ours.response_metadata.get("finish_reason") == theirs.response_metadata.get(
        "stop_reason"
    )


def test_the_comparison_covers_every_channel() -> None:
    """The streams above hold text, thinking, redacted thinking, tool use, a server tool and
    a refusal: a parity test over text alone would prove little."""
    joined = b"".join(STREAMS.values())
    for needle in (
        b"text_delta",
        b"thinking_delta",
        b"redacted_thinking",
        b"input_json_delta",
        b"server_tool_use",
        b'"refusal"',
    ):
        assert needle in joined, needle
