"""The ``langchain`` kind over whole applications (chains, generators, parallel branches, a
tool-calling loop, a LangGraph graph): our ``astream_events`` is the application's own, field
for field, v1 and v2, and what it outputs is what we stream."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from langchain_core.messages import HumanMessage as LCHuman
from pydantic import BaseModel

from llmstream_tui.core.messages import HumanMessage
from llmstream_tui.core.metrics import StreamTimeline
from llmstream_tui.errors import UpstreamError
from llmstream_tui.providers.langchain import LangChainModel, compact_text, output_text
from llmstream_tui.providers.registry import build_llm
from tests.providers import lc_apps

APPS = "tests.providers.lc_apps"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: (factory name, the input both sides get)
CASES: list[tuple[str, Any]] = [
    ("qa_chain", "What is in the glass?"),
    ("gen_app", "hi"),
    ("parallel_app", {"question": "Is it clear?"}),
    ("tool_loop", [LCHuman("Weather in Paris?")]),
    ("graph", {"messages": [LCHuman("Weather in Paris?")]}),
]


def app(name: str, **table: Any) -> LangChainModel:
    model = build_llm({"kind": "langchain", "target": f"{APPS}:{name}()", **table}, name="app")
    assert isinstance(model, LangChainModel)
    return model


class Ids:
    """Run ids (and every UUID inside a string: message ids, LangGraph task ids) renamed by
    order of first appearance, since two runs of one app draw different ones."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _rename(self, match: re.Match[str]) -> str:
        return self.names.setdefault(match.group(0), f"<id{len(self.names)}>")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return _UUID.sub(self._rename, value)
        if isinstance(value, uuid.UUID):
            return self(str(value))
        if isinstance(value, BaseModel):
            return {"__class__": type(value).__name__, **self(value.model_dump())}
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value


async def collect(events: AsyncIterator[Any]) -> list[Any]:
    ids = Ids()
    return [ids(e) async for e in events]


async def by_run(events: AsyncIterator[Any], *, concurrent: bool = False) -> list[list[Any]]:
    """Each run's events in their order, the runs in an order of their content. Concurrent
    branches (``RunnableParallel``) interleave differently from one run of an app to the
    next, LangChain's own included, so then (``concurrent``) a run's events are compared as
    a sorted list too: the root's stream of dicts comes in whichever order the branches
    produced them."""
    runs: dict[str, list[Any]] = {}
    async for event in events:
        runs.setdefault(event["run_id"], []).append(event)
    blank = Ids()
    blank._rename = lambda match: "<id>"  # type: ignore[method-assign]  # ids left out of the key
    order = sorted(runs, key=lambda run: sorted(repr(blank(e)) for e in runs[run]))
    ids = Ids()
    for run in order:
        ids.names[run] = f"<run{len(ids.names)}>"
    out = [ids(runs[run]) for run in order]
    return [sorted(run, key=repr) for run in out] if concurrent else out


@pytest.mark.filterwarnings("ignore:astream_events version='v1' is deprecated")
@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(("name", "value"), CASES, ids=[c[0] for c in CASES])
async def test_events_equal_the_applications_own(
    name: str, value: Any, version: Literal["v1", "v2"]
) -> None:
    concurrent = name == "parallel_app"
    ours = await by_run(
        app(name).astream_events(value, version=version),
        concurrent=concurrent,
    )
    own = await by_run(
        getattr(lc_apps, name)().astream_events(value, version=version), concurrent=concurrent
    )
    assert ours == own
    assert len(own) == 1 if name == "gen_app" else len(own) > 2  # the nested runs came
    names = {run[0]["name"] for run in ours}
    assert getattr(lc_apps, name)().get_name() in names and "app" not in names  # the root's


@pytest.mark.filterwarnings("ignore:astream_events version='v1' is deprecated")
@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(("name", "value"), [c for c in CASES if c[0] != "parallel_app"])
async def test_events_arrive_in_the_applications_own_order(
    name: str, value: Any, version: Literal["v1", "v2"]
) -> None:
    """Without concurrent branches an app's events come in one order: ours is the same."""
    ours = await collect(app(name).astream_events(value, version=version))
    own = await collect(getattr(lc_apps, name)().astream_events(value, version=version))
    assert ours == own
    assert ours[0]["name"] == getattr(lc_apps, name)().get_name()


async def test_our_config_reaches_every_nested_run() -> None:
    config: Any = {"tags": ["mine"], "metadata": {"who": "me"}, "run_name": "qa"}
    ours = await collect(app("qa_chain", tags=["pane"]).astream_events("q", config))
    own_config: Any = {**config, "tags": ["mine", "pane"]}
    own = await collect(lc_apps.qa_chain().astream_events("q", own_config))
    assert ours == own
    assert ours[0]["name"] == "qa"
    assert all("mine" in e["tags"] and e["metadata"]["who"] == "me" for e in ours)


async def test_filters_are_the_applications_own() -> None:
    types, names = ["chat_model"], ["nothing"]
    ours = await collect(
        app("qa_chain").astream_events("q", include_types=types, exclude_names=names)
    )
    own = await collect(
        lc_apps.qa_chain().astream_events("q", include_types=types, exclude_names=names)
    )
    assert ours == own
    assert {e["event"][:16] for e in ours} == {"on_chat_model_st", "on_chat_model_en"}


async def test_timeline_counts_the_roots_chunks() -> None:
    timeline = StreamTimeline()
    events = [e async for e in app("qa_chain").astream_events("q", {"timeline": timeline})]
    root = events[0]["run_id"]
    texts = [e["data"]["chunk"] for e in events if e["run_id"] == root and "chunk" in e["data"]]
    assert "".join(texts) == lc_apps.ANSWER
    snap = timeline.snapshot()
    assert snap.chunks == sum(1 for t in texts if t)
    assert snap.ttfb_s is not None and snap.ttft_s is not None and snap.total_s is not None


def test_the_flavor_is_read_from_the_input_schema_unless_set() -> None:
    """A runnable taking a string (or a one-variable prompt) gets the prompt (``llm``);
    one taking messages or a state with ``messages`` gets the conversation (``chat``)."""
    assert [app(n).flavor for n in ("gen_app", "qa_chain", "parallel_app")] == ["llm"] * 3
    assert [app(n).flavor for n in ("tool_loop", "graph")] == ["chat"] * 2
    assert app("gen_app", flavor="chat").flavor == "chat"


async def test_our_messages_reach_a_graph_under_its_messages_key() -> None:
    """A pane sends its conversation as our messages: a ``MessagesState`` graph gets them as
    langchain-core's under ``messages`` (found in its input schema)."""
    model = app("graph")
    events = [e async for e in model.astream_events([HumanMessage("Weather in Paris?")])]
    sent: Any = events[0]["data"]["input"]
    assert list(sent) == ["messages"]
    assert isinstance(sent["messages"][0], LCHuman)
    assert sent["messages"][0].content == "Weather in Paris?"
    assert events[-1]["event"] == "on_chain_end" and not events[-1]["parent_ids"]


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("qa_chain", "q", lc_apps.ANSWER),
        ("gen_app", "hi", "echo: hi"),
        ("tool_loop", [LCHuman("w?")], lc_apps.SUNNY),
    ],
)
async def test_astream_streams_what_the_application_outputs(
    name: str, value: Any, text: str
) -> None:
    model = app(name, flavor="llm") if name != "tool_loop" else app(name)
    chunks = [c async for c in model.astream(value)]
    own = [c async for c in getattr(lc_apps, name)().astream(value)]
    shown = [c if isinstance(c, str) else c.content for c in chunks]
    assert "".join(shown) == text
    assert [s for s in shown if s] == [output_text(c) for c in own if output_text(c)]


def test_outputs_that_are_not_text_show_as_compact_json() -> None:
    assert output_text({"long": "Bub"}) == '{"long":"Bub"}'
    message = LCHuman("hi")
    assert compact_text({"agent": {"messages": [message]}}) == '{"agent":{"messages":["hi"]}}'
    assert output_text(["a", 1]) == '["a",1]'


async def test_a_failing_application_is_one_upstream_line_with_the_roots_text() -> None:
    model = app("gen_app")

    async def boom(text: str) -> AsyncIterator[str]:
        yield "partial "
        raise RuntimeError("app\nexploded")

    from langchain_core.runnables import RunnableLambda

    model.runnable = RunnableLambda(boom)
    with pytest.raises(UpstreamError) as info:
        _ = [e async for e in model.astream_events("x")]
    assert str(info.value) == "app: RuntimeError: app exploded"
    assert info.value.partial_text == "partial "


async def test_a_prompt_string_reaches_a_messages_graph_as_one_human_message() -> None:
    """``stream`` sends a prompt string: a graph taking ``messages`` gets it as one."""
    events = [e async for e in app("graph").astream_events("Weather in Paris?")]
    sent: Any = events[0]["data"]["input"]
    assert [(m.type, m.content) for m in sent["messages"]] == [("human", "Weather in Paris?")]
    assert output_text(events[-1]["data"]["output"]).endswith(f'"{lc_apps.SUNNY}"]}}')


def test_an_applications_end_output_summarises_as_its_json() -> None:
    from llmstream_tui.core.events import summarise_output

    assert summarise_output({"short": "Yes.", "long": "No."}) == (
        '{"short":"Yes.","long":"No."}',
        None,
        None,
    )
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    text, _, _ = summarise_output(prompt.invoke({"question": "q"}))
    assert "q" in text  # a prompt value (an inner run's output) is no failure either


async def test_astream_and_ainvoke_hand_the_input_over_as_given() -> None:
    """A string to a chat-flavoured generator stays a string; a graph's state dict is
    passed whole, and the answer is what it streamed: its state updates, as JSON."""
    chunks: list[Any] = [c async for c in app("gen_app", flavor="chat").astream("hi")]
    assert [c.content for c in chunks if c.content] == ["echo:", " ", "hi"]
    state: Any = {"messages": [LCHuman("Weather?")]}  # ModelInput has no mappings: apps take them
    answer: Any = await app("graph").ainvoke(state)
    updates = [
        {"agent": {"messages": [""]}},
        {"tools": {"messages": ["sunny in Paris"]}},
        {"agent": {"messages": [lc_apps.SUNNY]}},
    ]
    assert answer.content == "".join(compact_text(u) for u in updates)
