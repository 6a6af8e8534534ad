"""The Runnable contract beyond what the LangChain parity tests pin: batch, cancellation,
the single-chunk fallback, timelines and errors."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from typing import Any

import pytest

from llmstream_tui import LanguageModel, StreamTimeline, build_llm
from llmstream_tui.core.messages import AIMessage, AIMessageChunk
from llmstream_tui.errors import ProviderError, ScriptedFailure
from tests.support.narrowing import llm_generation


def scripted(**kw: Any) -> Any:
    return build_llm({"kind": "scripted", **kw}, name="s")


async def test_abatch_keeps_input_order_when_runs_finish_out_of_order() -> None:
    slow = scripted(chunks=["slow"], ttft_ms=80)
    outs = await slow.abatch(["a", "b", "c"])
    assert [o.content for o in outs] == ["slow"] * 3
    llm = scripted(chunks=["x"], flavor="llm")
    assert await llm.abatch(["1", "2"]) == ["x", "x"]


async def test_max_concurrency_bounds_parallel_runs() -> None:
    llm = scripted(chunks=["a"], ttft_ms=50, flavor="llm")
    running = peak = 0
    original = llm._astream

    async def counting(request: Any, ctx: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            async for part in original(request, ctx):
                yield part
        finally:
            running -= 1

    llm._astream = counting
    await llm.abatch(["p"] * 6, {"max_concurrency": 2})
    assert peak == 2


async def test_return_exceptions_puts_errors_in_place() -> None:
    llm = scripted(chunks=["a", "b"], fail_at=1, flavor="llm")
    outs = await llm.abatch(["x", "y"], return_exceptions=True)
    assert all(isinstance(o, ScriptedFailure) for o in outs)
    with pytest.raises(ScriptedFailure):
        await llm.abatch(["x"])


async def test_abatch_as_completed_yields_index_output_pairs() -> None:
    llm = scripted(chunks=["z"], flavor="llm")
    pairs = [p async for p in llm.abatch_as_completed(["a", "b", "c"])]
    assert sorted(pairs) == [(0, "z"), (1, "z"), (2, "z")]


def test_sync_batch_and_batch_as_completed() -> None:
    llm = scripted(chunks=["q"], flavor="llm")
    assert llm.batch(["a", "b"]) == ["q", "q"]
    assert sorted(llm.batch_as_completed(["a", "b"])) == [(0, "q"), (1, "q")]
    with pytest.raises(ValueError, match="2 inputs but 1 configs"):
        llm.batch(["a", "b"], [{}])


async def test_closing_the_iterator_stops_the_work_at_once() -> None:
    llm = scripted(chunks=["a"], repeat=1000, delay_ms=20, flavor="llm")
    produced = 0
    original = llm._astream
    finished = asyncio.Event()

    async def counting(request: Any, ctx: Any) -> Any:
        nonlocal produced
        try:
            async for part in original(request, ctx):
                produced += 1
                yield part
        finally:
            finished.set()

    llm._astream = counting
    async with aclosing(llm.astream("x")) as stream:
        async for _ in stream:
            break
    assert finished.is_set()
    await asyncio.sleep(0.1)
    assert produced == 1


async def test_cancelling_the_consumer_task_stops_the_producer() -> None:
    llm = scripted(chunks=["a"], repeat=1000, delay_ms=10, flavor="llm")
    seen: list[str] = []

    async def consume() -> None:
        async for chunk in llm.astream("x"):
            seen.append(chunk)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    count = len(seen)
    await asyncio.sleep(0.05)
    assert len(seen) == count < 1000


def test_sync_stream_close_stops_the_work() -> None:
    llm = scripted(chunks=["a"], repeat=1000, delay_ms=5, flavor="llm")
    it = llm.stream("x")
    assert next(it) == "a"
    started = time.perf_counter()
    it.close()
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("flavor", ["chat", "llm"])
async def test_stream_false_yields_exactly_one_final_item(flavor: str) -> None:
    llm = scripted(chunks=["a", "b", "c"], stream=False, flavor=flavor)
    items = [c async for c in llm.astream("x")]
    assert len(items) == 1
    if flavor == "chat":
        assert isinstance(items[0], AIMessage) and not isinstance(items[0], AIMessageChunk)
        assert items[0].content == "abc"
    else:
        assert items == ["abc"]


async def test_chat_chunks_sum_and_end_with_last_marker() -> None:
    llm = scripted(chunks=["Spark", "ling"])
    chunks = [c async for c in llm.astream("x")]
    assert chunks[-1].chunk_position == "last" and chunks[-1].content == ""
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total.content == "Sparkling"
    assert total.response_metadata == {"finish_reason": "stop"}
    assert total.chunk_position == "last"


async def test_timeline_records_ttft_chunks_and_gaps() -> None:
    llm = scripted(chunks=["", "a", "b", "c"], ttft_ms=30, delay_ms=10, flavor="llm")
    timeline = StreamTimeline()
    out = [c async for c in llm.astream("x", {"timeline": timeline})]
    assert out == ["", "a", "b", "c"]
    snap = timeline.snapshot()
    assert snap.chunks == 3  # the empty first chunk is not counted
    assert snap.ttfb_s is not None and snap.ttfb_s >= 0.03
    assert snap.ttft_s is not None and snap.ttft_s >= snap.ttfb_s + 0.01  # first *non-empty*
    assert snap.itl_p50_s is not None and 0.008 <= snap.itl_p50_s <= 0.2
    assert snap.total_s is not None and snap.total_s >= snap.ttft_s
    assert snap.token_source == "chunks" and snap.tokens == 3


async def test_provider_error_carries_partial_text_and_provider_name() -> None:
    llm = scripted(chunks=["one ", "two ", "three"], fail_at=2, fail_with="boom")
    received = []
    with pytest.raises(ProviderError) as info:
        async for c in llm.astream("x"):
            received.append(c.content)
    assert received == ["one ", "two "]
    assert info.value.partial_text == "one two "
    assert str(info.value) == "s: boom"


async def test_chat_accepts_messages_dicts_tuples() -> None:
    llm = scripted(chunks=["ok"])
    for value in ("hi", [{"role": "user", "content": "hi"}], [("system", "x"), ("human", "hi")]):
        assert (await llm.ainvoke(value)).content == "ok"
    with pytest.raises(TypeError):
        await llm.ainvoke([{"role": "robot", "content": "hi"}])


async def test_text_llm_takes_message_list_as_buffer_string() -> None:
    from llmstream_tui.core.message_io import to_prompt

    assert to_prompt([("system", "s"), ("human", "h"), ("ai", "a")]) == "System: s\nHuman: h\nAI: a"


async def test_unknown_events_version_is_refused() -> None:
    with pytest.raises(NotImplementedError):
        async for _ in scripted().astream_events("x", version="v3"):
            pass


class UsageLLM(LanguageModel):
    """A text LLM whose provider reports usage in two deltas, as OpenAI completions does."""

    async def _astream(self, request: Any, ctx: Any) -> Any:
        from llmstream_tui.core.parts import META, StreamPart

        yield StreamPart("Hel", usage={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4})
        yield StreamPart("lo", finish_reason="stop")
        yield StreamPart("", META, usage={"input_tokens": 0, "output_tokens": 1, "total_tokens": 1})


async def test_text_llm_usage_deltas_add_up_in_generation_info() -> None:
    llm = UsageLLM(name="u", flavor="llm")
    events = [e async for e in llm.astream_events("x", version="v2")]
    gen = llm_generation(events[-1]["data"]["output"])
    assert gen["text"] == "Hello"
    assert gen["generation_info"] == {
        "finish_reason": "stop",
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }
    assert [e["data"]["chunk"] for e in events[1:-1]] == ["Hel", "lo"]


async def test_plain_text_chunks_equal_fully_built_ones() -> None:
    fast = AIMessageChunk.plain("x", "id1")
    assert fast == AIMessageChunk("x", id="id1")
    assert (fast + AIMessageChunk("y")).content == "xy"


CHANNELS: list[Any] = [
    {"channel": "reasoning", "text": "Think "},
    {"channel": "reasoning", "text": "first."},
    {"channel": "tool_call", "name": "f", "id": "c1", "args": '{"a": '},
    {"channel": "tool_call", "args": "1}"},
    "Hi",
    " there",
]


async def test_only_answer_text_is_content_ttft_and_chunks() -> None:
    llm = scripted(chunks=CHANNELS, ttft_ms=0, delay_ms=20)
    timeline = StreamTimeline()
    message = await llm.ainvoke("x", {"timeline": timeline})
    assert message.content == "Hi there"
    assert message.additional_kwargs == {"reasoning_content": "Think first."}
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    snap = timeline.snapshot()
    assert snap.chunks == 2 and snap.reasoning_chunks == 2 and snap.tool_call_chunks == 2
    assert snap.ttfr_s is not None and snap.ttft_s is not None
    assert snap.ttft_s >= snap.ttfr_s + 0.06  # four side chunks 20 ms apart come first
    assert snap.reasoning_s is not None and snap.reasoning_s >= 0.015


async def test_a_refusal_is_kept_apart_from_the_answer_in_both_flavours() -> None:
    chunks = [
        "Well",
        {"channel": "refusal", "text": "I can't"},
        {"channel": "refusal", "text": "."},
    ]
    chat = await scripted(chunks=chunks).ainvoke("x")
    assert chat.content == "Well"
    assert chat.additional_kwargs == {"refusal": "I can't."}
    llm = scripted(chunks=chunks, flavor="llm")
    assert [c async for c in llm.astream("x")] == ["Well"]
    events = [e async for e in llm.astream_events("x", version="v2")]
    gen = events[-1]["data"]["output"]["generations"][0][0]
    assert gen["text"] == "Well"
    assert gen["generation_info"]["refusal"] == "I can't."


async def test_a_failure_after_a_refusal_keeps_what_arrived() -> None:
    chunks = ["Hm. ", {"channel": "refusal", "text": "No."}, "never"]
    llm = scripted(chunks=chunks, fail_at=2)
    with pytest.raises(ProviderError) as info:
        async for _ in llm.astream("x"):
            pass
    assert info.value.partial_text == "Hm. No."


async def test_reasoning_tokens_reach_the_timeline_from_usage_details() -> None:
    usage = {
        "input_tokens": 2,
        "output_tokens": 9,
        "total_tokens": 11,
        "output_token_details": {"reasoning": 7},
    }
    timeline = StreamTimeline()
    message = await scripted(chunks=["a", "b"], usage=usage).ainvoke("x", {"timeline": timeline})
    assert message.usage_metadata == usage
    assert timeline.snapshot().reasoning_tokens == 7
