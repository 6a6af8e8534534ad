"""Message chunks summed linearly, tool calls kept in a conversation, and the dicts a chat
API is sent for a follow-up turn."""

from __future__ import annotations

import json
import time

from llmstream_tui.core.accumulate import ChunkAccumulator
from llmstream_tui.core.message_io import message_dicts, to_messages
from llmstream_tui.core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    ToolMessage,
    parse_tool_args,
)


def _deltas() -> list[AIMessageChunk]:
    return [
        AIMessageChunk("", additional_kwargs={"reasoning_content": "a"}),
        AIMessageChunk("", tool_call_chunks=[{"name": "f", "args": '{"x"', "id": "c", "index": 0}]),
        AIMessageChunk("", tool_call_chunks=[{"name": "g", "args": "", "id": "d", "index": 1}]),
        AIMessageChunk(
            "", tool_call_chunks=[{"name": None, "args": ": 2}", "id": None, "index": 0}]
        ),
        AIMessageChunk("", additional_kwargs={"reasoning_content": "b", "other": 1}),
        AIMessageChunk("Hi", additional_kwargs={"refusal": "no"}),
        AIMessageChunk("", tool_call_chunks=[{"args": "{}", "index": 1}]),
    ]


def test_the_accumulator_equals_adding_chunks_pairwise() -> None:
    chunks = _deltas()
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    acc = ChunkAccumulator()
    for c in chunks:
        acc.add(c)
    assert acc.result() == total
    assert total.additional_kwargs == {"reasoning_content": "ab", "other": 1, "refusal": "no"}
    assert [c["args"] for c in total.tool_call_chunks] == ['{"x": 2}', "{}"]
    assert acc.result() == acc.result()  # reading the sum does not consume it


def test_summing_reasoning_and_tool_arguments_is_linear() -> None:
    def seconds(n: int) -> float:
        acc = ChunkAccumulator()
        reasoning = AIMessageChunk("", additional_kwargs={"reasoning_content": "x" * 8})
        args = AIMessageChunk("", tool_call_chunks=[{"args": "y" * 8, "index": 0}])
        started = time.perf_counter()
        for _ in range(n):
            acc.add(reasoning)
            acc.add(args)
        result = acc.result()
        assert result is not None
        assert len(result.additional_kwargs["reasoning_content"]) == 8 * n
        return time.perf_counter() - started

    seconds(1000)
    # quadratic summing (the concatenation of the text so far per chunk) takes ~100x for 10x
    # the chunks at this size; linear about 10x. Generous for a loaded machine.
    assert seconds(100_000) < 40 * seconds(10_000)


def test_parse_tool_args_keeps_what_is_not_json() -> None:
    assert parse_tool_args('{"a": 1}') == ({"a": 1}, True)
    assert parse_tool_args("") == ({}, True)
    assert parse_tool_args('{"a": ') == ({"__raw__": '{"a": '}, False)


def test_an_assistant_message_keeps_its_tool_calls_for_openai_follow_ups() -> None:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    broken = {"name": "f", "args": {"__raw__": '{"a": '}, "id": "call_2", "type": "tool_call"}
    conversation = [
        HumanMessage("Weather?"),
        AIMessage("Checking.", tool_calls=[call, broken]),
        ToolMessage('{"temp": 20}', tool_call_id="call_1"),
    ]
    dicts = message_dicts(conversation, tool_calls="openai")
    assert dicts[1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "f", "arguments": '{"a": '}},
        ],
    }
    assert dicts[2] == {"role": "tool", "content": '{"temp": 20}', "tool_call_id": "call_1"}
    ollama = message_dicts(conversation[:2], tool_calls="ollama")
    assert ollama[1]["tool_calls"][0] == {
        "function": {"name": "get_weather", "arguments": {"city": "Paris"}}
    }
    # without the option, as before: role and content only
    assert message_dicts(conversation[:2], "sys") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Checking."},
    ]


def test_the_summed_stream_is_a_message_whose_tool_calls_go_back() -> None:
    acc = ChunkAccumulator()
    for c in _deltas():
        acc.add(c)
    result = acc.result()
    assert result is not None
    message = result.to_message()
    sent = message_dicts([message], tool_calls="openai")[0]["tool_calls"]
    assert [(c["id"], json.loads(c["function"]["arguments"])) for c in sent] == [
        ("c", {"x": 2}),
        ("d", {}),
    ]


def test_message_dicts_with_tool_calls_read_back_in_either_shape() -> None:
    openai = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
        ],
    }
    lc = {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"name": "f", "args": {"a": 1}, "id": "c1"}],
    }
    tool = {"role": "tool", "content": "42", "tool_call_id": "c1"}
    for given in (openai, lc):
        ai, result = to_messages([given, tool])
        assert isinstance(ai, AIMessage) and ai.content == ""
        assert ai.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
        assert isinstance(result, ToolMessage) and result.tool_call_id == "c1"
        assert message_dicts([ai, result], tool_calls="openai")[1]["tool_call_id"] == "c1"
