"""``part_to_chunk``: each channel lands where langchain-openai puts it, and only answer text
is ``content`` (issue 12: a refusal is not content)."""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import AIMessageChunk as LCChunk

from llmstream_tui.core.accumulate import sum_chunks
from llmstream_tui.core.outputs import GenerationInfo, part_to_chunk
from llmstream_tui.core.parts import META, REASONING, REFUSAL, TOOL_CALL, StreamPart


def test_a_refusal_is_not_content_but_additional_kwargs() -> None:
    chunk = part_to_chunk(StreamPart("I can't help.", REFUSAL, id="m1"), "lc_run--x")
    assert chunk.content == ""
    assert chunk.additional_kwargs == {"refusal": "I can't help."}
    assert chunk.id == "m1"


def test_reasoning_goes_to_reasoning_content_and_tool_deltas_to_tool_call_chunks() -> None:
    reasoning = part_to_chunk(StreamPart("think", REASONING), "d")
    assert (reasoning.content, reasoning.additional_kwargs) == ("", {"reasoning_content": "think"})
    call = {"name": "f", "args": "{}", "id": "c1", "index": 0}
    tool = part_to_chunk(StreamPart("", TOOL_CALL, tool_call=call), "d")
    assert (tool.content, tool.tool_call_chunks) == ("", [call])


def test_summed_channels_equal_langchain_cores_sum_of_the_same_chunks() -> None:
    parts = [
        StreamPart("Let ", REASONING),
        StreamPart("me see.", REASONING),
        StreamPart("", TOOL_CALL, tool_call={"name": "f", "args": '{"a"', "id": "c", "index": 0}),
        StreamPart("", TOOL_CALL, tool_call={"name": None, "args": ": 1}", "id": None, "index": 0}),
        StreamPart("No", REFUSAL),
        StreamPart(" way.", REFUSAL, finish_reason="stop"),
        StreamPart("", META, usage={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    ]
    ours = sum_chunks(part_to_chunk(p, "lc_run--r") for p in parts)
    assert ours is not None
    theirs = None
    for c in (part_to_chunk(p, "lc_run--r") for p in parts):
        lc = LCChunk(
            content=c.content,
            additional_kwargs=c.additional_kwargs,
            response_metadata=c.response_metadata,
            tool_call_chunks=cast(Any, c.tool_call_chunks),  # LangChain's TypedDict, same keys
            usage_metadata=cast(Any, c.usage_metadata),
            id=c.id,
        )
        theirs = lc if theirs is None else theirs + lc
    assert theirs is not None
    assert ours.content == theirs.content == ""
    assert ours.additional_kwargs == theirs.additional_kwargs
    assert ours.additional_kwargs == {"reasoning_content": "Let me see.", "refusal": "No way."}
    assert [(c["name"], c["args"], c["id"]) for c in ours.tool_call_chunks] == [
        (c["name"], c["args"], c["id"]) for c in theirs.tool_call_chunks
    ]
    assert ours.to_message().tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "c", "type": "tool_call"}
    ]


def test_a_text_llm_gets_a_refusal_in_generation_info_not_in_its_text() -> None:
    info = GenerationInfo(StreamPart("no", REFUSAL, finish_reason="stop")).info
    assert info == {"finish_reason": "stop", "refusal": "no"}
