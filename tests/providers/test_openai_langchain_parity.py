"""Our ``openai-chat`` chunks against langchain-openai's ``ChatOpenAI`` on the same recorded
bytes: chunk for chunk the same ``content`` and ``tool_call_chunks``, and the same summed
usage. Where they part, the test says so:

- a refusal: ``ChatOpenAI`` drops ``delta.refusal`` from streamed chunks (content stays
  empty, nothing in ``additional_kwargs``); we keep it in ``additional_kwargs["refusal"]``,
  where langchain-openai itself puts a non-streamed message's refusal;
- ``n > 1`` streams (``content-medium.sse``): ``ChatOpenAI`` merges every choice's deltas into
  one chunk; we take choice 0 (we never ask for more), so that recording is left out;
- ``tool_call_chunks`` entries: theirs also carry ``"type": "tool_call_chunk"``; usage: theirs
  carries an empty ``input_token_details`` when the wire has none. Both are normalised away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessageChunk as LCChunk
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import _convert_dict_to_message
from pydantic import SecretStr

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.narrowing import stream_chunks
from tests.support.paths import WIRE

FILES = sorted(p for p in (WIRE / "openai-chat").glob("*.sse") if p.name != "content-medium.sse")


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def tool_chunks(chunks: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "type"} for c in chunks]


def usage(value: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(value or {}).items() if v != {}}


async def both(path: Path, client: httpx.AsyncClient) -> tuple[list[LCChunk], list[AIMessageChunk]]:
    async with LoopbackServer(Reply.sse_file(path, pattern="random", seed=7)) as server:
        lc = ChatOpenAI(
            model="gpt-4o",
            base_url=server.url + "/v1",
            api_key=SecretStr("test"),
            stream_usage=True,
            max_retries=0,
        )
        theirs = [c async for c in lc.astream("hi")]
        spec = {"kind": "openai-chat", "model": "gpt-4o", "base_url": server.url + "/v1"}
        ours = await stream_chunks(build_llm(spec, name="gpt", client=client))
    return theirs, ours


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
async def test_chunks_match_langchain_openai_on_the_same_bytes(
    client: httpx.AsyncClient, path: Path
) -> None:
    theirs, ours = await both(path, client)
    assert [c.content for c in ours] == [c.content for c in theirs]
    assert [c.tool_call_chunks for c in ours] == [tool_chunks(c.tool_call_chunks) for c in theirs]
    lc_total = theirs[0]
    for chunk in theirs[1:]:
        lc_total = lc_total + chunk
    total = sum_chunks(ours)
    assert total is not None
    assert total.content == lc_total.content
    assert total.tool_call_chunks == tool_chunks(lc_total.tool_call_chunks)
    assert usage(total.usage_metadata) == usage(lc_total.usage_metadata)
    finish = lc_total.response_metadata.get("finish_reason")
    assert total.response_metadata.get("finish_reason") == finish


@pytest.mark.parametrize("name", ["refusal.sse", "refusal-logprobs.sse"])
async def test_a_refusal_is_never_content_and_sits_where_langchain_openai_puts_one(
    client: httpx.AsyncClient, name: str
) -> None:
    theirs, ours = await both(WIRE / "openai-chat" / name, client)
    total = sum_chunks(ours)
    assert total is not None
    assert total.content == "" == "".join(str(c.content) for c in theirs)
    refusal = total.additional_kwargs["refusal"]
    assert refusal.startswith("I'm") and "assist" in refusal
    whole = _convert_dict_to_message({"role": "assistant", "content": None, "refusal": refusal})
    assert (whole.content, whole.additional_kwargs) == ("", {"refusal": refusal})
