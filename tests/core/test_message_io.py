"""core/message_io.py: langchain-core's message objects and prompt values as input, read by
their fields (the module never imports LangChain), and what our backends then send.

LangChain's own classes are the inputs here (a test dependency); the checks that the module
stays free of LangChain run it in a fresh interpreter with ``langchain_core`` made
unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from langchain_core.messages import (
    AIMessage as LCAIMessage,
)
from langchain_core.messages import (
    AIMessageChunk as LCAIMessageChunk,
)
from langchain_core.messages import (
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    get_buffer_string,
)
from langchain_core.prompt_values import ChatPromptValue, StringPromptValue
from langchain_core.prompts import ChatPromptTemplate

from llmstream_tui.core import messages as ours
from llmstream_tui.core.message_io import content_text, message_dicts, to_messages, to_prompt
from llmstream_tui.providers.registry import build_llm
from tests.support.narrowing import chat_message

CALL = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}


def conversation() -> list[object]:
    return [
        SystemMessage("Be brief."),
        HumanMessage("Weather in Paris?"),
        LCAIMessage("", tool_calls=[CALL]),
        ToolMessage("18 C, sunny", tool_call_id="call_1"),
    ]


def test_langchain_messages_become_ours_with_roles_calls_and_call_ids() -> None:
    system, human, ai, tool = to_messages(conversation())
    assert (type(system), system.content) == (ours.SystemMessage, "Be brief.")
    assert (type(human), human.content) == (ours.HumanMessage, "Weather in Paris?")
    assert isinstance(ai, ours.AIMessage) and ai.tool_calls == [CALL]
    assert isinstance(tool, ours.ToolMessage) and tool.tool_call_id == "call_1"
    assert tool.content == "18 C, sunny"


def test_openai_follow_up_body_from_langchain_messages() -> None:
    dicts = message_dicts(to_messages(conversation()), tool_calls="openai")
    assert dicts == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "18 C, sunny", "tool_call_id": "call_1"},
    ]


def test_content_blocks_are_their_text_joined() -> None:
    blocks = [{"type": "text", "text": "Hello, "}, "wide ", {"type": "text", "text": "world"}]
    (message,) = to_messages([HumanMessage(content=blocks)])  # type: ignore[arg-type]
    assert message.content == "Hello, wide world"
    assert message.content == HumanMessage(content=blocks).text  # type: ignore[arg-type]


def test_reasoning_and_tool_use_blocks_are_not_content() -> None:
    answer = LCAIMessage(
        content=[
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}},
        ],
        tool_calls=[{**CALL, "id": "toolu_1"}],
    )
    (message,) = to_messages([answer])
    assert isinstance(message, ours.AIMessage)
    assert message.content == "Let me look."
    assert [c["id"] for c in message.tool_calls] == ["toolu_1"]


def test_a_media_block_is_refused_rather_than_dropped() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}
    with pytest.raises(TypeError, match="'image_url' is not supported"):
        to_messages([HumanMessage(content=[{"type": "text", "text": "What is it?"}, image])])


def test_a_dict_message_may_carry_content_blocks_too() -> None:
    (message,) = to_messages([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert (type(message), message.content) == (ours.HumanMessage, "hi")


def test_chat_message_names_its_role_and_chunks_read_as_messages() -> None:
    chat, chunk = to_messages(
        [ChatMessage(content="rules", role="system"), LCAIMessageChunk(content="ok")]
    )
    assert (type(chat), chat.content) == (ours.SystemMessage, "rules")
    assert (type(chunk), chunk.content) == (ours.AIMessage, "ok")


def test_an_unknown_message_type_is_a_type_error_naming_it() -> None:
    class Odd:
        type = "remove"
        content = ""

    with pytest.raises(TypeError, match="'remove'"):
        to_messages([Odd()])


def test_ids_and_response_metadata_travel_with_an_answer() -> None:
    thinking = [{"type": "thinking", "thinking": "t", "signature": "sig"}]
    answer = LCAIMessage("Done.", id="msg_1", response_metadata={"thinking_blocks": thinking})
    (message,) = to_messages([answer])
    assert message.id == "msg_1"
    assert message.response_metadata == {"thinking_blocks": thinking}


def test_prompt_values_as_chat_input() -> None:
    value = ChatPromptTemplate.from_messages([("system", "Be {tone}."), ("human", "{q}")])
    prompt = value.invoke({"tone": "brief", "q": "Why?"})
    assert isinstance(prompt, ChatPromptValue)
    assert [(m.role, m.content) for m in to_messages(prompt)] == [
        ("system", "Be brief."),
        ("user", "Why?"),
    ]
    (only,) = to_messages(StringPromptValue(text="plain"))
    assert (type(only), only.content) == (ours.HumanMessage, "plain")


def test_a_text_llm_prompt_is_langchains_buffer_string() -> None:
    messages = conversation()
    assert to_prompt(messages) == get_buffer_string(messages)  # type: ignore[arg-type]
    assert to_prompt(ChatPromptValue(messages=messages)) == get_buffer_string(messages)  # type: ignore[arg-type]
    assert to_prompt(StringPromptValue(text="Once upon")) == "Once upon"
    with pytest.raises(TypeError, match="takes a string, not int"):
        to_prompt(3)  # type: ignore[arg-type]


def test_content_text_refuses_what_is_not_content() -> None:
    assert content_text("as is") == "as is"
    with pytest.raises(TypeError, match="string or content blocks"):
        content_text(7)


async def test_our_backends_answer_langchain_messages_and_prompt_values() -> None:
    chat = build_llm("swift")
    answer = chat_message(await chat.ainvoke([SystemMessage("Be brief."), HumanMessage("hi")]))
    assert answer.content
    text = build_llm({"kind": "scripted", "chunks": ["Once", " more"], "flavor": "llm"})
    assert await text.ainvoke(StringPromptValue(text="Once upon")) == "Once more"


def test_the_sync_path_reads_a_langchain_message_too() -> None:
    assert build_llm("swift", flavor="chat").invoke([HumanMessage("hi")]).content


def test_reading_langchain_messages_never_imports_langchain() -> None:
    script = textwrap.dedent(
        """
        import sys

        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("langchain_core", "langchain"):
                    raise ImportError("langchain is not installed here")
                return None

        sys.meta_path.insert(0, Blocker())

        class HumanMessage:  # a stand-in with LangChain's fields
            type = "human"
            def __init__(self, content):
                self.content = content

        from llmstream_tui.core.message_io import to_messages
        from llmstream_tui.providers.registry import build_llm

        (m,) = to_messages([HumanMessage([{"type": "text", "text": "hi"}])])
        assert (m.role, m.content) == ("user", "hi"), m
        build_llm("swift").invoke([HumanMessage("hi")])
        assert not any(n.startswith("langchain") for n in sys.modules)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
