"""Real langchain-core and LangGraph apps, and their ``astream_events`` as events-log entries.

The run tree is tested on what these libraries really emit (names, run types, parent ids,
tags, the interleaving of a streaming sequence), never on hand-written event dicts. The
entries have the shape ``ui.session.EventEntry`` gives the log: ``(provider, ns since the run
started, event name, run id, payload)``, the payload of a stream event its chunk's text (or
the chunk, when it is more than text), of any other event the event dict. Times come from a
counter (1 ms per event), so trees and snapshots are the same on every run.
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator, Mapping
from itertools import repeat
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel
from langgraph.graph import END, START, StateGraph

Entry = tuple[str, int, str, str, Any]
#: Nanoseconds between two events of a collected run.
TICK = 1_000_000


def sequence(answer: str = "hello there world") -> Runnable[Any, Any]:
    """``ChatPromptTemplate | GenericFakeChatModel | StrOutputParser``: 3 runs under one."""
    model = GenericFakeChatModel(messages=repeat(AIMessage(answer)))
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    return (prompt | model | StrOutputParser()).with_config(tags=["qa"])


def question(inputs: Any) -> dict[str, Any]:
    """``{"q": ...}`` from what an app is handed: the dict itself, the last message's text
    (a pane, or ``stream``, hands a chat application the conversation), or a string."""
    if isinstance(inputs, dict):
        return inputs
    if isinstance(inputs, list) and inputs:
        return {"q": str(getattr(inputs[-1], "content", inputs[-1]))}
    return {"q": str(inputs)}


def parallel() -> Runnable[Any, Any]:
    """The question, then a ``RunnableParallel`` of a streaming generator and a model, then
    a join."""

    async def gen(inputs: dict[str, Any]) -> AsyncIterator[str]:
        for word in str(inputs["q"]).split():
            yield word.upper() + " "

    model = GenericFakeChatModel(messages=repeat(AIMessage("a b c")))
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    both = RunnableParallel(shout=RunnableLambda(gen), answer=prompt | model | StrOutputParser())
    join: Runnable[dict[str, Any], str] = RunnableLambda(
        lambda d: f"{d['shout']}/{d['answer']}", name="join"
    )
    return RunnableLambda(question, name="question") | both | join


class GraphState(TypedDict):
    q: str
    steps: Annotated[list[str], operator.add]


def graph(answer: str = "from the graph") -> Runnable[Any, Any]:
    """A LangGraph ``StateGraph``: ``plan`` then, by a conditional edge, ``answer`` (a model
    call inside a node) or the end."""
    model = GenericFakeChatModel(messages=repeat(AIMessage(answer)))

    def plan(state: GraphState) -> dict[str, Any]:
        return {"steps": ["plan"]}

    async def answer_node(state: GraphState) -> dict[str, Any]:
        reply = await model.ainvoke(state["q"])
        return {"steps": [str(reply.content)]}

    def route(state: GraphState) -> Literal["answer", "__end__"]:
        return "answer" if state["q"] else "__end__"

    builder = StateGraph(GraphState)
    builder.add_node("plan", plan)
    builder.add_node("answer", answer_node)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", route)
    builder.add_edge("answer", END)
    return builder.compile(name="qa_graph")


def failing() -> Runnable[Any, Any]:
    """A sequence whose second step raises: the run fails inside a nested run."""

    def boom(_: Any) -> str:
        raise ValueError("no answer \x1b[2J today")

    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    return RunnableLambda(question, name="question") | prompt | RunnableLambda(boom, name="boom")


def payload_of(ev: Mapping[str, Any]) -> Any:
    """What the log keeps of an event: as ``PaneSession.run`` does, a stream event's plain
    text, or its chunk when the chunk is more than text; any other event, the dict."""
    if not ev["event"].endswith("_stream"):
        return ev
    chunk = ev["data"].get("chunk")
    if isinstance(chunk, AIMessageChunk):
        more = chunk.usage_metadata or chunk.additional_kwargs or chunk.tool_call_chunks
        return chunk if more else chunk.content
    return chunk if isinstance(chunk, str) else ev


async def collect(
    app: Runnable[Any, Any],
    inputs: Any,
    *,
    provider: str = "app",
    version: Literal["v1", "v2"] = "v2",
) -> list[Entry]:
    """The app's own ``astream_events`` as log entries; a failure ends them with the pane's
    ``error`` entry (named after the last run seen, as the pane does)."""
    entries: list[Entry] = []
    run_id = ""
    events: AsyncIterator[Any] = app.astream_events(inputs, version=version)
    try:
        async for ev in events:
            if not ev["event"].endswith("_stream"):
                run_id = ev["run_id"]
            entries.append(
                (provider, len(entries) * TICK, ev["event"], ev["run_id"], payload_of(ev))
            )
    except ValueError as exc:
        error = {"event": "error", "data": {"error": f"ValueError: {exc}"}}
        entries.append((provider, len(entries) * TICK, "error", run_id, error))
    return entries


def raw_events(entries: list[Entry]) -> list[dict[str, Any]]:
    """The event dicts among ``entries`` (start, end and dict-payload stream events)."""
    return [e[4] for e in entries if isinstance(e[4], dict) and "run_id" in e[4]]


def stable_ids(entries: list[Entry]) -> list[Entry]:
    """``entries`` with every run id (and parent id) replaced by a counter's, in order of
    first appearance: the same on every run, for snapshots."""
    ids: dict[str, str] = {}

    def stable(run_id: str) -> str:
        return ids.setdefault(run_id, f"run-{len(ids) + 1:04d}")

    out: list[Entry] = []
    for provider, rel, name, run_id, payload in entries:
        if isinstance(payload, dict) and "run_id" in payload:
            payload = {
                **payload,
                "run_id": stable(payload["run_id"]),
                "parent_ids": [stable(p) for p in payload.get("parent_ids", [])],
            }
        out.append((provider, rel, name, stable(run_id) if run_id else run_id, payload))
    return out
