"""Property: any chunk texts, encoded in a provider's wire format with random framing and
split at random read boundaries, come out of our backend exactly, in order.

Texts cover any Unicode (CR, LF, U+2028, emoji, NUL, lone surrogates, which providers send
JSON-escaped), framing covers LF / CR / CRLF line ends, comments, pings, extra blank lines and
usage chunks, and reads split anywhere, including inside multi-byte characters. Each provider
runs its real adapter over ``httpx.MockTransport`` with a byte stream cut where hypothesis
says.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstream_tui import build_llm
from tests.support.wire_encoders import (
    SSE,
    anthropic,
    gemini,
    ollama,
    openai_chat,
    openai_completions,
    openai_responses,
)

EXAMPLES = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

texts = st.lists(
    st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=12)
    | st.sampled_from(["\r", "\n", "\r\n", "\u2028", "\x00", "🧪", "\ud800", "a\udfffb", " "]),
    min_size=1,
    max_size=12,
)


@st.composite
def framing(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "eol": draw(st.lists(st.sampled_from(["\n", "\r", "\r\n"]), min_size=1, max_size=4)),
        "comments": draw(st.booleans()),
        "blank_lines": draw(st.booleans()),
        "ascii": draw(st.booleans()),
        "cuts": draw(st.lists(st.integers(0, 10_000), max_size=30)),
    }


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


class Pieces(httpx.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


async def stream_texts(
    table: dict[str, Any], body: bytes, cuts: list[int], ctype: str
) -> list[str]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": ctype}, stream=Pieces(split(body, cuts))
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    llm = build_llm(
        {**table, "api_key_env": "PROPERTY_TEST_KEY", "max_retries": 0}, name="p", client=client
    )
    out: list[str] = []
    try:
        async for chunk in llm.astream("hi"):
            text = chunk if isinstance(chunk, str) else chunk.content
            if text:
                out.append(text)
    finally:
        await client.aclose()
    return out


Encoder = Callable[[list[str], dict[str, Any]], bytes]
SSE_KINDS: list[tuple[str, str, Encoder]] = [
    ("openai-chat", "http://t/v1", openai_chat),
    ("openai-completions", "http://t/v1", openai_completions),
    ("openai-responses", "http://t/v1", openai_responses),
    ("anthropic", "http://t", anthropic),
    ("gemini", "http://t/v1beta", gemini),
]


@pytest.mark.parametrize(
    ("kind", "base_url", "encode"), SSE_KINDS, ids=[k for k, _, _ in SSE_KINDS]
)
@EXAMPLES
@given(chunks=texts, frame=framing())
async def test_sse_providers_yield_exactly_the_chunks(
    kind: str, base_url: str, encode: Encoder, chunks: list[str], frame: dict[str, Any]
) -> None:
    got = await stream_texts(
        {"kind": kind, "model": "m", "base_url": base_url},
        encode(chunks, frame),
        frame["cuts"],
        SSE,
    )
    assert got == chunks


@EXAMPLES
@given(chunks=texts, frame=framing(), chat=st.booleans())
async def test_ollama_yields_exactly_the_chunks(
    chunks: list[str], frame: dict[str, Any], chat: bool
) -> None:
    kind = "ollama-chat" if chat else "ollama-generate"
    got = await stream_texts(
        {"kind": kind, "model": "m", "base_url": "http://t"},
        ollama(chunks, frame, chat),
        frame["cuts"],
        "application/x-ndjson",
    )
    assert got == chunks
