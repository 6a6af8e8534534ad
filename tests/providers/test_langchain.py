"""The ``langchain`` kind: a LangChain runnable driven through our interface."""

from __future__ import annotations

import subprocess
import sys
from contextlib import aclosing
from typing import Any

import pytest

from llmstream_tui.core.messages import AIMessage, AIMessageChunk
from llmstream_tui.errors import ConfigError, UpstreamError
from llmstream_tui.providers.registry import build_llm
from tests.providers import langchain_fakes
from tests.providers.langchain_fakes import POEM

FAKES = "tests.providers.langchain_fakes"


def llm(attribute: str, **table: Any) -> Any:
    return build_llm({"kind": "langchain", "target": f"{FAKES}:{attribute}", **table}, name="lc")


async def test_chat_model_factory_streams_its_chunks_unchanged() -> None:
    model = llm("poem_model()")
    chunks = [c async for c in model.astream("hi")]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(c.content for c in chunks) == POEM
    # GenericFakeChatModel splits on whitespace: our chunk boundaries are the wrapped ones.
    assert [c.content for c in chunks[:4]] == ["Sparkling", " ", "water,", " "]
    assert chunks[-1].chunk_position == "last"
    assert chunks[0].id == "run-poem"


async def test_astream_adds_no_chunk_to_what_the_wrapped_model_yields() -> None:
    """LangChain 1.x marks a model's own last chunk ``chunk_position="last"``; we keep that
    mark where it is and add no closing chunk of ours (the stream had one chunk too many)."""
    model = llm("poem_model()")
    ours = [c async for c in model.astream("hi")]
    own = [c async for c in langchain_fakes.poem_model().astream("hi")]
    assert [(c.content, c.chunk_position) for c in ours] == [
        (c.content, c.chunk_position) for c in own
    ]
    assert (await model.ainvoke("hi")).content == POEM  # the marked chunk is in the sum


async def test_runnable_instance_attribute_is_used_as_is() -> None:
    model = llm("poem_instance")
    assert model.runnable is langchain_fakes.poem_instance
    assert (await model.ainvoke("hi")).content == POEM


async def test_reasoning_and_tool_deltas_stay_out_of_the_answer() -> None:
    model = llm("rich_model()")
    message = await model.ainvoke("weather?")
    assert isinstance(message, AIMessage)
    assert message.content == "Hello world"
    assert message.additional_kwargs["reasoning_content"] == "Think first. Blocks too."
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.usage_metadata == {"input_tokens": 7, "output_tokens": 12, "total_tokens": 19}
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.id == "msg-rich"


async def test_astream_events_are_the_wrapped_models_own() -> None:
    """No chunk added or changed: a wrapped chat model's events are its own (LangChain's
    ``AIMessageChunk``s, the closing ``chunk_position="last"`` one included, no second one)."""
    model = llm("rich_model()")
    events = [e async for e in model.astream_events("weather?", version="v2")]
    own = [e async for e in langchain_fakes.rich_model().astream_events("weather?")]
    assert [(e["event"], e["name"]) for e in events] == [(e["event"], e["name"]) for e in own]
    streamed = [e["data"]["chunk"] for e in events if e["event"] == "on_chat_model_stream"]
    expected = [e["data"]["chunk"] for e in own if e["event"] == "on_chat_model_stream"]
    assert [c.content for c in streamed] == [c.content for c in expected]
    assert [c.tool_call_chunks for c in streamed] == [c.tool_call_chunks for c in expected]
    assert sum(1 for c in streamed if c.chunk_position == "last") == 1
    assert events[0]["name"] == "ScriptedChunksChatModel"  # the runnable's own run


async def test_chain_of_strings_streams_text_llm_style() -> None:
    model = llm("poem_chain()", flavor="llm")
    chunks = [c async for c in model.astream("hi")]
    assert all(isinstance(c, str) for c in chunks) and "".join(chunks) == POEM
    assert len(chunks) > 5


async def test_text_llm_gets_the_prompt_string() -> None:
    model = llm("poem_llm()", flavor="llm")
    chunks = [c async for c in model.astream("hi")]
    assert chunks[:3] == ["S", "p", "a"] and "".join(chunks) == POEM


async def test_stream_false_calls_ainvoke_once_and_yields_one_chunk() -> None:
    model = llm("rich_model()", stream=False)
    chunks = [c async for c in model.astream("weather?")]
    assert len(chunks) == 1
    assert chunks[0].content == "Hello world"
    assert chunks[0].tool_calls[0]["args"] == {"city": "Paris"}
    assert chunks[0].usage_metadata["total_tokens"] == 19


def test_invoke_and_batch_work_synchronously() -> None:
    model = llm("poem_model()")
    assert model.invoke("hi").content == POEM
    assert [m.content for m in model.batch(["a", "b", "c"])] == [POEM] * 3


async def test_system_prompt_and_stop_reach_the_runnable() -> None:
    model = llm("rich_model()", params={"system": "Be brief.", "stop": ["\n"]})
    await model.ainvoke([("user", "hi"), ("assistant", "yo"), ("user", "again")])
    sent = model.runnable.requests[-1]
    assert [(m.type, m.content) for m in sent] == [
        ("system", "Be brief."),
        ("human", "hi"),
        ("ai", "yo"),
        ("human", "again"),
    ]
    assert model.runnable.stops[-1] == ["\n"]


async def test_failure_mid_stream_is_upstream_error_with_partial_text() -> None:
    model = llm("failing_model()")
    with pytest.raises(UpstreamError) as info:
        _ = [c async for c in model.astream("hi")]
    assert info.value.partial_text == "Hello there"
    assert str(info.value) == "lc: RuntimeError: model exploded"
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_closing_our_stream_closes_the_wrapped_one() -> None:
    model = llm("endless_instance")
    runnable = langchain_fakes.endless_instance
    before = len(runnable.closed)
    async with aclosing(model.astream("go")) as stream:
        async for chunk in stream:
            assert chunk.content == "word0 "
            break
    assert len(runnable.closed) == before + 1


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (f"{FAKES}_missing:poem_model()", "no module named"),
        (f"{FAKES}:nope", "no attribute 'nope'"),
        (f"{FAKES}:broken_factory()", "the factory failed: ValueError"),
        (f"{FAKES}:not_a_runnable", "is int, not a runnable"),
    ],
)
def test_bad_target_is_a_config_error_at_build_time(target: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        build_llm({"kind": "langchain", "target": target})


def test_target_must_be_module_colon_attribute() -> None:
    with pytest.raises(ConfigError, match="target"):
        build_llm({"kind": "langchain", "target": "no-colon-here"})


def test_module_does_not_import_langchain_until_a_target_is_loaded() -> None:
    code = (
        "import sys, llmstream_tui.providers.langchain as m\n"
        "from llmstream_tui.providers.registry import validate_table\n"
        "validate_table({'kind': 'langchain', 'target': 'x.y:z'})\n"
        "print(any(n.startswith('langchain_core') for n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
