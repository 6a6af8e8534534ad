"""llmstream_tui/langchain.py: our backends as langchain-core models, checked against
LangChain's own integrations on the same recorded bytes.

The oracles are langchain-openai's ``ChatOpenAI``/``OpenAI`` and langchain-anthropic's
``ChatAnthropic``, each pointed at a loopback server replaying the same recording as ours.
Where they and we part, the test says so:

- ids: ``ChatOpenAI``'s summed message keeps LangChain's ``lc_run-`` id; ours keeps the
  provider's (``chatcmpl-...``), which LangChain's own chunk sum prefers. Ids are compared
  by shape only.
- ``ChatAnthropic`` marks its last wire event's chunk ``chunk_position="last"`` itself; we
  yield every event as it arrives (we cannot know it is the last without waiting for the
  next), so LangChain appends its empty last chunk after ours: one more empty stream event.
- ``ChatAnthropic`` reports ``input_tokens`` 0 for these recordings (it reads them from
  ``message_delta``, which here carries only ``output_tokens``); ours are the
  ``message_start`` counts. Input tokens are checked against the recording itself.
- There is no LangChain oracle for Ollama installed: ``ollama-chat`` is checked against the
  recording itself, and its tools against the ``ollama`` client's own ``Tool`` model.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import ollama
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI, OpenAI
from pydantic import BaseModel, Field, SecretStr

from llmstream_tui.core import messages as core
from llmstream_tui.core.runnable import LanguageModel
from llmstream_tui.langchain import BackendChatModel, BackendLLM, as_langchain, lc_message
from llmstream_tui.providers.registry import build_llm
from tests.support.loopback import LoopbackServer, Reply
from tests.support.paths import WIRE

OPENAI_FILES = [
    "content-short.sse",
    "content-long.sse",
    "tool-calls-a.sse",
    "tool-calls-parallel.sse",
]
ANTHROPIC_FILES = ["basic-response.sse", "tool-use-response.sse"]
ANTHROPIC_MODEL = "claude-sonnet-4-20250514"
SECRET = "sk-test-do-not-show-9f8e7d"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key is configured for our backends, so a test can check it never shows."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str = Field(description="the city")


def prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", "Be {tone}."), ("human", "{q}")])


QUESTION = {"tone": "brief", "q": "Weather in Paris?"}


def chain(model: Runnable[Any, Any]) -> Runnable[dict[str, str], str]:
    return prompt() | model | StrOutputParser()


@asynccontextmanager
async def served(path: Path) -> AsyncIterator[LoopbackServer]:
    """A keep-alive loopback server replaying ``path`` to every request, in random pieces."""
    reply = (
        Reply.ndjson(path.read_bytes(), pattern="random", seed=3)
        if path.suffix == ".ndjson"
        else Reply.sse_file(path, pattern="random", seed=3)
    )
    async with LoopbackServer(reply) as server:
        yield server


@asynccontextmanager
async def ours(ref: str) -> AsyncIterator[LanguageModel[Any, Any]]:
    """Our backend for ``ref``, closed at the end (its clients, on whichever loop)."""
    async with build_llm(ref) as llm:
        yield llm


def openai_oracle(server: LoopbackServer, **kw: Any) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4o",
        base_url=server.url + "/v1",
        api_key=SecretStr("test"),
        stream_usage=True,
        streaming=True,
        max_retries=0,
        **kw,
    )


def anthropic_oracle(server: LoopbackServer) -> ChatAnthropic:
    return ChatAnthropic(  # type: ignore[call-arg]  # pydantic aliases mypy does not see
        model=ANTHROPIC_MODEL,
        base_url=server.url,
        api_key=SecretStr("test"),
        streaming=True,
        max_retries=0,
    )


def chat(llm: LanguageModel[Any, Any]) -> BackendChatModel:
    model = as_langchain(llm)
    assert isinstance(model, BackendChatModel)
    return model


def text_of(chunk: object) -> object:
    return chunk.text if isinstance(chunk, AIMessageChunk) else chunk


def shape(events: Sequence[Any], model_name: str) -> list[tuple[Any, ...]]:
    """An event trace with what differs by design taken out: run ids become their order of
    appearance, the model's class name becomes MODEL; streamed chunks keep their text."""
    order: dict[str, int] = {}
    out = []
    for e in events:
        order.setdefault(e["run_id"], len(order))
        data = e["data"]
        out.append(
            (
                e["event"],
                e["name"].replace(model_name, "MODEL"),
                order[e["run_id"]],
                [order.get(p) for p in e.get("parent_ids", [])],
                e["tags"],
                sorted(data),
                text_of(data["chunk"]) if "chunk" in data else None,
            )
        )
    return out


def tool_calls(message: AIMessage) -> list[tuple[str, dict[str, Any], str | None]]:
    return [(c["name"], c["args"], c["id"]) for c in message.tool_calls]


def usage(message: AIMessage) -> tuple[int, int, int]:
    u = message.usage_metadata
    assert u is not None
    return u["input_tokens"], u["output_tokens"], u["total_tokens"]


def summed(chunks: Sequence[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return total


# -- openai-chat against ChatOpenAI ----------------------------------------------------------


@pytest.mark.parametrize("name", OPENAI_FILES)
async def test_openai_chat_streams_what_chat_openai_streams(name: str) -> None:
    async with served(WIRE / "openai-chat" / name) as server:
        theirs = [c async for c in openai_oracle(server).astream("hi")]
        async with ours(f"openai-chat:gpt-4o@{server.url}/v1") as llm:
            mine = [c async for c in chat(llm).astream("hi")]
    assert all(isinstance(c, AIMessageChunk) for c in mine)
    assert [c.content for c in mine] == [c.content for c in theirs]
    assert [c.tool_call_chunks for c in mine] == [c.tool_call_chunks for c in theirs]
    assert [c.chunk_position for c in mine] == [c.chunk_position for c in theirs]
    total, lc_total = summed(mine), summed(theirs)
    assert tool_calls(total) == tool_calls(lc_total)
    assert usage(total) == usage(lc_total)
    assert total.response_metadata["finish_reason"] == lc_total.response_metadata["finish_reason"]
    assert total.id and not total.id.startswith("lc_run-")  # the provider's id (see above)


@pytest.mark.parametrize("name", ["content-short.sse", "tool-calls-parallel.sse"])
async def test_openai_chat_invoke_answers_what_chat_openai_answers(name: str) -> None:
    async with served(WIRE / "openai-chat" / name) as server:
        theirs = await openai_oracle(server).ainvoke("hi")
        async with ours(f"openai-chat:gpt-4o@{server.url}/v1") as llm:
            mine = await chat(llm).ainvoke("hi")
    assert isinstance(mine, AIMessage)
    assert mine.content == theirs.content
    assert tool_calls(mine) == tool_calls(theirs)
    assert usage(mine) == usage(theirs)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("name", ["content-short.sse", "tool-calls-a.sse"])
async def test_chain_events_have_chat_openais_structure(
    name: str, version: Literal["v1", "v2"]
) -> None:
    async with served(WIRE / "openai-chat" / name) as server:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # v1 is deprecated upstream
            theirs = [
                e
                async for e in chain(openai_oracle(server)).astream_events(
                    QUESTION, version=version
                )
            ]
            async with ours(f"openai-chat:gpt-4o@{server.url}/v1") as llm:
                mine = [e async for e in chain(chat(llm)).astream_events(QUESTION, version=version)]
    assert shape(mine, "BackendChatModel") == shape(theirs, "ChatOpenAI")
    names = {e["name"] for e in mine}
    assert {
        "RunnableSequence",
        "ChatPromptTemplate",
        "BackendChatModel",
        "StrOutputParser",
    } <= names
    start = next(e for e in mine if e["event"] == "on_chat_model_start")
    if version == "v2":
        assert start["metadata"]["ls_provider"] == "openai"
        assert start["metadata"]["ls_model_name"] == "gpt-4o"
    assert SECRET not in repr(mine)


async def test_chain_in_every_runnable_method(loopback: LoopbackServer) -> None:
    path = WIRE / "openai-chat" / "content-short.sse"
    loopback.set_replies(Reply.sse_file(path, pattern="random", seed=5))
    async with ours(f"openai-chat:gpt-4o@{loopback.url}/v1") as llm:
        runnable = chain(chat(llm))
        expected = await chain(openai_oracle(loopback)).ainvoke(QUESTION)
        assert expected  # the recording has an answer
        assert await runnable.ainvoke(QUESTION) == expected
        pieces = [p async for p in runnable.astream(QUESTION)]
        assert len(pieces) > 3 and "".join(pieces) == expected
        assert await runnable.abatch([QUESTION, QUESTION]) == [expected, expected]
        # the sync methods run on our shared loop, from a thread (the server is in this loop)
        assert await asyncio.to_thread(runnable.invoke, QUESTION) == expected
        sync_pieces = await asyncio.to_thread(lambda: list(runnable.stream(QUESTION)))
        assert sync_pieces == pieces
        assert await asyncio.to_thread(runnable.batch, [QUESTION] * 3) == [expected] * 3
    sent = loopback.requests[-1].json()
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]


class TokenLog(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[object] = []

    def on_llm_new_token(self, token: str | list[str | dict[str, Any]], **kwargs: Any) -> None:
        self.tokens.append(token)


async def test_callbacks_see_the_tokens_chat_openai_reports() -> None:
    async with served(WIRE / "openai-chat" / "content-short.sse") as server:
        theirs, mine = TokenLog(), TokenLog()
        await chain(openai_oracle(server)).ainvoke(QUESTION, {"callbacks": [theirs]})
        async with ours(f"openai-chat:gpt-4o@{server.url}/v1") as llm:
            await chain(chat(llm)).ainvoke(QUESTION, {"callbacks": [mine]})
            sync = TokenLog()
            await asyncio.to_thread(chain(chat(llm)).invoke, QUESTION, {"callbacks": [sync]})
    assert len(theirs.tokens) > 3
    assert mine.tokens == theirs.tokens
    assert sync.tokens == theirs.tokens


async def test_stop_sequences_and_call_options_reach_the_request_as_chat_openai_sends_them(
    loopback: LoopbackServer,
) -> None:
    loopback.set_replies(Reply.sse_file(WIRE / "openai-chat" / "content-short.sse"))
    await openai_oracle(loopback).ainvoke("hi", stop=["\n\n"])
    async with ours(f"openai-chat:gpt-4o@{loopback.url}/v1") as llm:
        await chat(llm).ainvoke("hi", stop=["\n\n"], seed=7)
    theirs, mine = loopback.requests[0].json(), loopback.requests[1].json()
    assert mine["stop"] == theirs["stop"] == ["\n\n"]
    assert mine["seed"] == 7


async def test_a_langchain_tool_conversation_is_sent_as_chat_openai_sends_it(
    loopback: LoopbackServer,
) -> None:
    loopback.set_replies(Reply.sse_file(WIRE / "openai-chat" / "content-short.sse"))
    call = {"name": "GetWeather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    conversation = [
        HumanMessage("Weather in Paris?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("18 C", tool_call_id="call_1"),
    ]
    await openai_oracle(loopback).ainvoke(conversation)
    async with ours(f"openai-chat:gpt-4o@{loopback.url}/v1") as llm:
        await chat(llm).ainvoke(conversation)
    theirs, mine = loopback.requests[0].json(), loopback.requests[1].json()
    # beside tool_calls the API takes content "" (ours) or null (ChatOpenAI's) alike
    assert theirs["messages"][1]["content"] is None and mine["messages"][1]["content"] == ""
    theirs["messages"][1]["content"] = ""
    assert mine["messages"] == theirs["messages"]
    assert mine["messages"][1]["tool_calls"][0]["id"] == "call_1"
    assert mine["messages"][2] == {"role": "tool", "content": "18 C", "tool_call_id": "call_1"}


@pytest.mark.parametrize("tool_choice", [None, "auto", "any", "GetWeather"])
async def test_bind_tools_sends_what_chat_openai_sends(
    loopback: LoopbackServer, tool_choice: str | None
) -> None:
    loopback.set_replies(Reply.sse_file(WIRE / "openai-chat" / "tool-calls-a.sse"))
    theirs = (
        await openai_oracle(loopback)
        .bind_tools([GetWeather], tool_choice=tool_choice)
        .ainvoke("hi")
    )
    async with ours(f"openai-chat:gpt-4o@{loopback.url}/v1") as llm:
        mine = await chat(llm).bind_tools([GetWeather], tool_choice=tool_choice).ainvoke("hi")
    sent_theirs, sent_mine = loopback.requests[0].json(), loopback.requests[1].json()
    assert sent_mine["tools"] == sent_theirs["tools"]
    assert sent_mine.get("tool_choice") == sent_theirs.get("tool_choice")
    assert isinstance(mine, AIMessage) and isinstance(theirs, AIMessage)
    assert tool_calls(mine) == tool_calls(theirs) and mine.tool_calls


@pytest.mark.parametrize("tool_choice", [None, "auto", "any", "GetWeather"])
async def test_openai_responses_bind_tools_sends_what_chat_openai_sends(
    tool_choice: str | None,
) -> None:
    async with served(WIRE / "openai-responses" / "basic.sse") as server:
        oracle = openai_oracle(server, use_responses_api=True)
        theirs = await oracle.bind_tools([GetWeather], tool_choice=tool_choice).ainvoke("hi")
        async with ours(f"openai-responses:gpt-4o@{server.url}/v1") as llm:
            mine = await chat(llm).bind_tools([GetWeather], tool_choice=tool_choice).ainvoke("hi")
    theirs_sent, mine_sent = server.requests[0].json(), server.requests[1].json()
    assert server.requests[1].path == "/v1/responses"
    assert mine_sent["tools"] == theirs_sent["tools"]
    assert mine_sent.get("tool_choice") == theirs_sent.get("tool_choice")
    assert mine.text == theirs.text and mine.text


def test_gemini_tools_are_function_declarations_with_a_calling_config() -> None:
    model = chat(build_llm("gemini:gemini-2.5-flash@http://127.0.0.1:9"))
    bound = model.bind_tools([GetWeather], tool_choice="GetWeather")
    kwargs = bound.kwargs  # type: ignore[attr-defined]  # a RunnableBinding's call options
    (declaration,) = kwargs["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "GetWeather"
    assert declaration["parameters"]["properties"]["city"]["type"] == "string"
    assert kwargs["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["GetWeather"]}
    }
    auto = model.bind_tools([GetWeather], tool_choice="auto").kwargs  # type: ignore[attr-defined]
    assert auto["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}


def test_arguments_that_never_were_json_are_an_invalid_tool_call() -> None:
    cut = core.AIMessage(
        "",
        tool_calls=[
            {"name": "f", "args": {"__raw__": '{"city": "Par'}, "id": "c1", "type": "tool_call"},
            {"name": "g", "args": {"x": 1}, "id": "c2", "type": "tool_call"},
        ],
    )
    message = lc_message(cut)
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("g", {"x": 1})]
    assert [(c["name"], c["args"]) for c in message.invalid_tool_calls] == [("f", '{"city": "Par')]


def test_identity_never_shows_the_key() -> None:
    model = chat(build_llm("openai-chat:gpt-4o@http://user:pw@127.0.0.1:9/v1"))
    assert model._llm_type == "llmstream-openai-chat"
    params = model._identifying_params
    assert params["model"] == "gpt-4o" and params["kind"] == "openai-chat"
    assert params["name"] == "openai-chat:gpt-4o@http://127.0.0.1:9/v1"
    text = repr(model) + repr(params) + repr(model._get_ls_params()) + model._get_llm_string()
    assert SECRET not in text
    assert ":pw@" not in json.dumps(params)


# -- anthropic against ChatAnthropic ---------------------------------------------------------


def anthropic_usage_on_the_wire(path: Path) -> tuple[int, int]:
    """(input tokens of message_start, output tokens of the last message_delta)."""
    events = [
        json.loads(line[len("data: ") :])
        for line in path.read_text().splitlines()
        if line.startswith("data: ")
    ]
    start = next(e for e in events if e["type"] == "message_start")
    delta = [e for e in events if e["type"] == "message_delta"][-1]
    return start["message"]["usage"]["input_tokens"], delta["usage"]["output_tokens"]


@pytest.mark.filterwarnings("ignore:Received unexpected tool content block:UserWarning")
@pytest.mark.parametrize("name", ANTHROPIC_FILES)
async def test_anthropic_streams_what_chat_anthropic_streams(name: str) -> None:
    path = WIRE / "anthropic" / name
    async with served(path) as server:
        theirs = [c async for c in anthropic_oracle(server).astream("hi")]
        async with ours(f"anthropic:{ANTHROPIC_MODEL}@{server.url}") as llm:
            mine = [c async for c in chat(llm).astream("hi")]
            answer = await chat(llm).ainvoke("hi")
    # one more empty chunk at the end: see the module docstring
    assert mine[-1].content == "" and mine[-1].chunk_position == "last"
    assert [c.text for c in mine[:-1]] == [c.text for c in theirs]
    assert [c.tool_call_chunks for c in mine[:-1]] == [c.tool_call_chunks for c in theirs]
    total, lc_total = summed(mine), summed(theirs)
    assert total.text == lc_total.text and total.text
    assert tool_calls(total) == tool_calls(lc_total)
    assert isinstance(answer, AIMessage) and tool_calls(answer) == tool_calls(lc_total)
    assert usage(total)[1] == usage(lc_total)[1]
    assert usage(total)[:2] == anthropic_usage_on_the_wire(path)
    assert total.response_metadata["stop_reason"] == lc_total.response_metadata["stop_reason"]


@pytest.mark.filterwarnings("ignore:Received unexpected tool content block:UserWarning")
@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_anthropic_chain_events_have_chat_anthropics_structure(
    version: Literal["v1", "v2"],
) -> None:
    async with served(WIRE / "anthropic" / "tool-use-response.sse") as server:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            theirs = [
                e
                async for e in chain(anthropic_oracle(server)).astream_events(
                    QUESTION, version=version
                )
            ]
            async with ours(f"anthropic:{ANTHROPIC_MODEL}@{server.url}") as llm:
                mine = [e async for e in chain(chat(llm)).astream_events(QUESTION, version=version)]
    mine_shape, their_shape = shape(mine, "BackendChatModel"), shape(theirs, "ChatAnthropic")
    # the same trace, plus our extra empty last chunk (see the module docstring) passing
    # through the model, the parser and the chain just before the model's end
    at = next(i for i, e in enumerate(their_shape) if e[0] == "on_chat_model_end")
    assert mine_shape[:at] == their_shape[:at]
    assert [(e[0], e[1], e[6]) for e in mine_shape[at : at + 3]] == [
        ("on_chat_model_stream", "MODEL", ""),
        ("on_parser_stream", "StrOutputParser", ""),
        ("on_chain_stream", "RunnableSequence", ""),
    ]
    assert mine_shape[at + 3 :] == their_shape[at:]


@pytest.mark.parametrize("tool_choice", [None, "any", "GetWeather"])
async def test_anthropic_bind_tools_sends_what_chat_anthropic_sends(
    loopback: LoopbackServer, tool_choice: str | None
) -> None:
    loopback.set_replies(Reply.sse_file(WIRE / "anthropic" / "tool-use-response.sse"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the recording's "caller" field
        oracle = anthropic_oracle(loopback).bind_tools([GetWeather], tool_choice=tool_choice)
        await oracle.ainvoke("hi")
    async with ours(f"anthropic:{ANTHROPIC_MODEL}@{loopback.url}") as llm:
        mine = await chat(llm).bind_tools([GetWeather], tool_choice=tool_choice).ainvoke("hi")
    theirs_sent, mine_sent = loopback.requests[0].json(), loopback.requests[1].json()
    assert mine_sent["tools"] == theirs_sent["tools"]
    assert mine_sent.get("tool_choice") == theirs_sent.get("tool_choice")
    assert isinstance(mine, AIMessage) and mine.tool_calls[0]["name"] == "get_weather"


# -- ollama-chat against its recording -------------------------------------------------------


async def test_ollama_chat_in_a_chain_answers_the_recording() -> None:
    path = WIRE / "ollama" / "chat-basic.ndjson"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    expected = "".join(line["message"]["content"] for line in lines)
    last = lines[-1]
    async with served(path) as server, ours(f"ollama-chat:llama3.2@{server.url}") as llm:
        model = chat(llm)
        assert await chain(model).ainvoke(QUESTION) == expected
        chunks = [c async for c in model.astream("hi")]
        pieces = await asyncio.to_thread(lambda: list(chain(model).stream(QUESTION)))
    assert "".join(pieces) == expected and pieces[0] == lines[0]["message"]["content"]
    total = summed(chunks)
    assert total.content == expected
    assert usage(total)[:2] == (last["prompt_eval_count"], last["eval_count"])
    assert total.response_metadata["finish_reason"] == last["done_reason"]
    assert chunks[-1].chunk_position == "last"


async def test_ollama_bind_tools_sends_tools_the_ollama_client_accepts(
    loopback: LoopbackServer,
) -> None:
    loopback.set_replies(Reply.ndjson((WIRE / "ollama" / "chat-basic.ndjson").read_bytes()))
    async with ours(f"ollama-chat:llama3.2@{loopback.url}") as llm:
        await chat(llm).bind_tools([GetWeather]).ainvoke("hi")
        with pytest.raises(ValueError, match="Ollama has no tool_choice"):
            chat(llm).bind_tools([GetWeather], tool_choice="any")
    (tool,) = loopback.requests[0].json()["tools"]
    parsed = ollama.Tool.model_validate(tool)
    assert parsed.function is not None and parsed.function.name == "GetWeather"
    assert parsed.function.parameters is not None
    assert "city" in (parsed.function.parameters.properties or {})


def test_reasoning_tool_calls_and_usage_are_langchains_content_blocks() -> None:
    chunks = list(chat(build_llm("scripted:channels")).stream("hi"))
    total = summed(chunks)
    assert [b["type"] for b in total.content_blocks] == ["reasoning", "text", "tool_call"]
    reasoning = total.content_blocks[0]
    assert reasoning["type"] == "reasoning"
    assert reasoning.get("reasoning") == total.additional_kwargs["reasoning_content"]
    assert tool_calls(total) == [("get_weather", {"city": "Paris"}, "call_1")]
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_token_details"] == {"reasoning": 18}
    assert [c.chunk_position for c in chunks].count("last") == 1


def test_a_kind_without_tools_says_so() -> None:
    with pytest.raises(NotImplementedError, match="'simulated' takes no tools"):
        chat(build_llm("swift")).bind_tools([GetWeather])


# -- the text flavour ------------------------------------------------------------------------


@asynccontextmanager
async def openai_text_oracle(server: LoopbackServer, **kw: Any) -> AsyncIterator[OpenAI]:
    """langchain-openai's ``OpenAI`` with an HTTP client this test closes (unlike its chat
    model, it does not share a cached one, and a client left to the garbage collector tries
    to close itself on a later test's loop)."""
    async with openai.DefaultAsyncHttpxClient() as http:
        yield OpenAI(
            model="gpt-3.5-turbo-instruct",
            base_url=server.url + "/v1",
            api_key=SecretStr("test"),
            max_retries=0,
            http_async_client=http,
            **kw,
        )


async def test_openai_completions_is_a_base_llm_answering_what_openai_answers() -> None:
    async with (
        served(WIRE / "openai-completions" / "basic.sse") as server,
        openai_text_oracle(server, streaming=True) as oracle,
    ):
        expected = await oracle.ainvoke("hi")
        their_result = await oracle.agenerate(["hi"])
        async with ours(f"openai-completions:gpt-3.5-turbo-instruct@{server.url}/v1") as llm:
            model = as_langchain(llm)
            assert isinstance(model, BackendLLM) and isinstance(model, BaseLLM)
            assert await model.ainvoke("hi") == expected
            pieces = [p async for p in model.astream("hi")]
            result = await model.agenerate(["hi"])
            assert await asyncio.to_thread(model.invoke, "hi") == expected
            sync_pieces = await asyncio.to_thread(lambda: list(model.stream("hi")))
            assert await chain(model).ainvoke(QUESTION) == expected
    assert expected == "Hello, World!"
    assert "".join(pieces) == expected and pieces[:3] == ["Hello", ", ", "World!"]
    assert sync_pieces == pieces
    (generation,), (their_generation,) = result.generations[0], their_result.generations[0]
    assert generation.text == their_generation.text
    assert generation.generation_info is not None and their_generation.generation_info is not None
    assert (
        generation.generation_info["finish_reason"]
        == their_generation.generation_info["finish_reason"]
    )
    assert generation.generation_info["usage"]["output_tokens"] == 362


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_text_llm_events_have_langchain_openais_structure(
    version: Literal["v1", "v2"],
) -> None:
    async with (
        served(WIRE / "openai-completions" / "basic.sse") as server,
        openai_text_oracle(server) as oracle,
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            theirs = [e async for e in oracle.astream_events("hi", version=version)]
            async with ours(f"openai-completions:gpt-3.5-turbo-instruct@{server.url}/v1") as llm:
                mine = [e async for e in as_langchain(llm).astream_events("hi", version=version)]
    # both: start, the text pieces, then empty pieces with the stop reason / usage, end
    their_texts = [t for *_, t in shape(theirs, "OpenAI") if t]
    my_texts = [t for *_, t in shape(mine, "BackendLLM") if t]
    assert my_texts == their_texts == ["Hello", ", ", "World!"]
    assert [e["event"] for e in mine][0] == [e["event"] for e in theirs][0] == "on_llm_start"
    assert [e["event"] for e in mine][-1] == [e["event"] for e in theirs][-1] == "on_llm_end"


# -- messages, a backend without streaming, and the optional import --------------------------


async def test_a_backend_with_stream_false_is_invoked_once_per_run(
    loopback: LoopbackServer,
) -> None:
    answer = {
        "id": "chatcmpl-1",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Whole."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    loopback.set_replies(Reply.json(answer))
    spec = {
        "kind": "openai-chat",
        "model": "gpt-4o",
        "base_url": loopback.url + "/v1",
        "stream": False,
    }
    async with build_llm(spec) as llm:
        model = chat(llm)
        assert model.disable_streaming is True
        chunks = [c async for c in model.astream("hi")]
        assert await chain(model).ainvoke(QUESTION) == "Whole."
    assert [c.content for c in chunks] == ["Whole."]
    assert [r.json()["stream"] for r in loopback.requests] == [False, False]


def test_as_langchain_builds_the_langchain_type_of_each_flavour() -> None:
    assert isinstance(as_langchain(build_llm("swift")), BaseChatModel)
    text = build_llm({"kind": "scripted", "flavor": "llm", "chunks": ["a", "b"]})
    assert isinstance(as_langchain(text), BaseLLM)
    assert chain(as_langchain(build_llm("swift"))).invoke(QUESTION)
    assert as_langchain(text).invoke("hi") == "ab"


def test_without_langchain_core_the_module_says_what_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys

        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "langchain_core":
                    raise ImportError("No module named 'langchain_core'")
                return None

        sys.meta_path.insert(0, Blocker())
        import llmstream_tui.langchain
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: llmstream_tui.langchain needs langchain-core:"
        " pip install 'llmstream-tui[langchain]'"
    )
