"""LangChain and LangGraph applications, each with nested runs, named by ``target`` strings
(``tests.providers.lc_apps:qa_chain()``) as a user's reference names theirs.

Each is a factory, so every run starts from fresh fake models (their answers are iterators):
the tests run each app twice, once through us and once on its own, and compare the events.
The models are langchain-core's fakes: ``GenericFakeChatModel`` streams its answer split on
whitespace; ``FakeMessagesListChatModel`` answers whole (the tool calls a planner makes).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph

ANSWER = "Bubbles dancing, without fear"
SUNNY = "It is sunny in Paris today."
CALL = {"name": "weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}


def writer(text: str = ANSWER) -> GenericFakeChatModel:
    """A chat model streaming ``text`` word by word, named so the pane can list it."""
    return GenericFakeChatModel(messages=itertools.cycle([AIMessage(text)]), name="writer")


def planner() -> FakeMessagesListChatModel:
    """A chat model whose answer is one call of the ``weather`` tool."""
    return FakeMessagesListChatModel(responses=[AIMessage("", tool_calls=[CALL])], name="planner")


@tool
def weather(city: str) -> str:
    """The weather in ``city``."""
    return f"sunny in {city}"


def qa_chain() -> Runnable[Any, str]:
    """prompt | chat model | parser: a question string in, the answer's text out."""
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return prompt | writer() | StrOutputParser()


async def gen(text: str) -> AsyncIterator[str]:
    """An async generator: its pieces are the application's output."""
    for word in ("echo:", " ", text):
        yield word


def gen_app() -> Runnable[Any, str]:
    return RunnableLambda(gen)


def parallel_app() -> Runnable[Any, dict[str, Any]]:
    """Two chains side by side: the output streams as dicts, one key at a time."""
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return RunnableParallel(
        short=prompt | writer("Yes.") | StrOutputParser(),
        long=prompt | writer(ANSWER) | StrOutputParser(),
    )


def tool_loop() -> Runnable[Any, AIMessageChunk]:
    """A tool-calling loop: the planner calls ``weather``, its ``ToolMessage`` goes back, and
    the writer streams the answer (the application's output)."""
    plan, write = planner(), writer(SUNNY)

    async def loop(messages: list[BaseMessage]) -> AsyncIterator[AIMessageChunk]:
        decided = await plan.ainvoke(messages)
        results: list[ToolMessage] = [await weather.ainvoke(c) for c in decided.tool_calls]
        async for chunk in write.astream([*messages, decided, *results]):
            yield chunk

    return RunnableLambda(loop, name="tool_loop")


def graph() -> Any:
    """A LangGraph ``StateGraph`` (``MessagesState``): ``agent`` plans a tool call, or, once
    a tool has answered, writes the answer; a conditional edge runs ``tools`` after a call
    and ends after an answer."""
    plan, write = planner(), writer(SUNNY)

    async def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        messages = state["messages"]
        model = write if isinstance(messages[-1], ToolMessage) else plan
        return {"messages": [await model.ainvoke(messages)]}

    async def tools(state: MessagesState) -> dict[str, list[BaseMessage]]:
        last = state["messages"][-1]
        calls = last.tool_calls if isinstance(last, AIMessage) else []
        return {"messages": [await weather.ainvoke(c) for c in calls]}

    def route(state: MessagesState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", tools)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile()


def broken() -> Any:
    raise ValueError("cannot build")


not_a_runnable = 42


class Gate:
    """Holds ``gated``'s stream half way until a test lets it go on (events made by the
    test, in its own event loop)."""

    held: asyncio.Event | None = None
    go_on: asyncio.Event | None = None


def gated() -> Runnable[Any, AIMessageChunk]:
    """The writer's answer as the application's output, held after five chunks at
    ``Gate`` (when the test has set it up)."""
    write = writer(SUNNY)

    async def stream(messages: list[BaseMessage]) -> AsyncIterator[AIMessageChunk]:
        n = 0
        async for chunk in write.astream(messages):
            if n == 5 and Gate.held is not None and Gate.go_on is not None:
                Gate.held.set()
                await Gate.go_on.wait()
            n += 1
            yield chunk

    return RunnableLambda(stream, name="gated")
