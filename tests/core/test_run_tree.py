"""The run tree model, fed real langchain-core / LangGraph ``astream_events`` as log entries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmstream_tui.core.events import EventFilter
from llmstream_tui.core.run_tree import (
    BRIEF_CHARS,
    RunTree,
    brief,
    event_run_type,
    node_dict,
    shown,
    tree_lines,
)
from llmstream_tui.providers.registry import build_llm
from tests.support import run_graphs

pytestmark = pytest.mark.filterwarnings("ignore:astream_events version='v1':DeprecationWarning")


def built(entries: list[run_graphs.Entry]) -> RunTree:
    tree = RunTree()
    tree.extend(entries)
    return tree


def shape(tree: RunTree) -> list[tuple[int, str, str, str]]:
    return [(n.depth, n.name, n.run_type, n.state) for n in tree.walk()]


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("on_chain_start", "chain"),
        ("on_chat_model_stream", "chat_model"),
        ("on_llm_end", "llm"),
        ("on_tool_error", "tool"),
        ("on_retriever_start", "retriever"),
        ("on_prompt_end", "prompt"),
        ("on_parser_stream", "parser"),
        ("on_custom_event", "custom"),
        ("error", ""),
    ],
)
def test_the_run_type_is_the_event_names_middle(event: str, kind: str) -> None:
    assert event_run_type(event) == kind


async def test_a_sequence_is_a_root_with_its_three_steps_under_it() -> None:
    entries = await run_graphs.collect(run_graphs.sequence(), {"q": "hi"})
    tree = built(entries)
    assert shape(tree) == [
        (0, "RunnableSequence", "chain", "done"),
        (1, "ChatPromptTemplate", "prompt", "done"),
        (1, "GenericFakeChatModel", "chat_model", "done"),
        (1, "StrOutputParser", "parser", "done"),
    ]
    root, _prompt, model, parser = tree.walk()
    streams = [e for e in entries if e[2].endswith("_stream")]
    assert root.streams + model.streams + parser.streams == len(streams)
    assert model.streams == sum(1 for e in streams if e[2] == "on_chat_model_stream")
    assert root.start_ns == 0 and root.end_ns == entries[-1][1]
    assert model.duration_ns == model.end_ns - model.start_ns  # type: ignore[operator]
    assert "qa" in root.tags and "hi" in root.inputs and "hello there world" in root.outputs


async def test_a_parallel_nests_each_branch_by_parent_ids() -> None:
    tree = built(await run_graphs.collect(run_graphs.parallel(), {"q": "two words"}))
    names = [(n.depth, n.name) for n in tree.walk()]
    assert names == [
        (0, "RunnableSequence"),
        (1, "question"),
        (1, "RunnableParallel<shout,answer>"),
        (2, "gen"),
        (2, "RunnableSequence"),
        (3, "ChatPromptTemplate"),
        (3, "GenericFakeChatModel"),
        (3, "StrOutputParser"),
        (1, "join"),
    ]
    assert not any(n.inferred for n in tree.walk())


async def test_a_langgraph_graph_shows_its_nodes_and_the_model_inside_one() -> None:
    tree = built(await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
    assert shape(tree) == [
        (0, "qa_graph", "chain", "done"),
        (1, "plan", "chain", "done"),
        (2, "route", "chain", "done"),
        (1, "answer", "chain", "done"),
        (2, "GenericFakeChatModel", "chat_model", "done"),
    ]
    answer = next(n for n in tree.walk() if n.name == "answer")
    assert "'langgraph_node': 'answer'" not in answer.metadata  # a brief, not a repr
    assert "langgraph_node: 'answer'" in answer.metadata
    assert "graph:step:2" in answer.tags


async def test_v1_has_no_parents_so_every_run_hangs_flat_under_its_root() -> None:
    v1 = built(await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}, version="v1"))
    v2 = built(await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
    assert [n.name for n in v1.walk()] == [
        "qa_graph",
        "plan",
        "route",
        "answer",
        "GenericFakeChatModel",
    ]
    assert [n.depth for n in v1.walk()] == [0, 1, 1, 1, 1]
    assert all(n.inferred for n in v1.walk() if n.depth)
    assert sorted(n.name for n in v1.walk()) == sorted(n.name for n in v2.walk())


async def test_an_error_marks_the_failing_run_and_its_ancestors_inertly() -> None:
    tree = built(await run_graphs.collect(run_graphs.failing(), {"q": "x"}))
    root, _question, prompt, boom = tree.walk()
    assert (root.state, prompt.state, boom.state) == ("error", "done", "error")
    assert root.error_below and not prompt.error_below
    assert boom.error is not None and "\x1b" not in boom.error and "\\x1b[2J" in boom.error


def test_a_tool_error_fails_the_tool_only_and_marks_its_ancestors() -> None:
    tree = RunTree()
    start = {"name": "agent", "parent_ids": [], "data": {"input": "q"}}
    tree.add(0, "on_chain_start", "a", start)
    tree.add(1, "on_tool_start", "t", {"name": "search", "parent_ids": ["a"]})
    tree.add(2, "on_tool_error", "t", {"data": {"error": ValueError("down")}})
    tree.add(3, "on_chain_end", "a", {"data": {"output": "recovered"}})
    agent, tool = tree.walk()
    assert (agent.state, tool.state) == ("done", "error")
    assert agent.error_below and tool.error == "ValueError('down')"


async def test_our_own_backend_is_a_one_node_tree() -> None:
    llm = build_llm({"kind": "scripted", "chunks": ["Hel", "lo"]}, name="s")
    entries = [
        ("s", i, ev["event"], ev["run_id"], run_graphs.payload_of(ev))
        for i, ev in enumerate([ev async for ev in llm.astream_events("hi", version="v2")])
    ]
    tree = built(entries)
    assert [(n.name, n.run_type, n.state) for n in tree.walk()] == [("s", "chat_model", "done")]
    assert tree.roots[0].streams == sum(1 for e in entries if e[2].endswith("_stream"))


def test_a_stream_event_costs_a_lookup_and_a_count_not_a_shape_change() -> None:
    tree = RunTree()
    tree.add(0, "on_chat_model_start", "m", {"name": "m", "parent_ids": []})
    version = tree.version
    tree.extend(("p", i, "on_chat_model_stream", "m", "x") for i in range(1000))
    assert tree.version == version and tree.roots[0].streams == 1000
    assert tree.roots[0].last_ns == 999


def test_a_new_pane_run_is_a_new_root_and_cuts_the_old_one_short() -> None:
    tree = RunTree()
    tree.add(0, "on_chain_start", "r1", {"name": "app", "parent_ids": []})
    tree.add(5_000, "on_chain_stream", "r1", "x")
    tree.add(0, "on_chain_start", "r2", {"name": "app", "parent_ids": []})  # clock restarted
    assert [(n.run_id, n.depth, n.state) for n in tree.walk()] == [
        ("r1", 0, "cancelled"),
        ("r2", 0, "running"),
    ]


def test_the_oldest_roots_go_first_when_the_tree_is_full() -> None:
    tree = RunTree(max_nodes=10)
    for run in range(6):
        tree.add(0, "on_chain_start", f"r{run}", {"name": f"run{run}", "parent_ids": []})
        tree.add(0, "on_chain_start", f"c{run}", {"name": "step", "parent_ids": [f"r{run}"]})
        tree.add(1, "on_chain_end", f"c{run}", {})
        tree.add(2, "on_chain_end", f"r{run}", {})
    assert len(tree) <= 10 and tree.roots[-1].name == "run5" and tree.roots[0].name == "run1"


def test_a_brief_is_bounded_and_inert_whatever_it_is_given() -> None:
    huge = {"text": "x" * 100_000, "items": list(range(1000)), "deep": [[[[["bottom"]]]]]}
    text = brief(huge)
    assert len(text) <= BRIEF_CHARS and "…" in text and "bottom" not in text
    assert brief("\x1b]52;c;evil\x07 [bold]b[/bold]") == "'\\x1b]52;c;evil\\x07 [bold]b[/bold]'"
    assert "\n" not in brief("two\nlines")


async def test_filters_hide_runs_as_astream_events_include_exclude_would() -> None:
    tree = built(await run_graphs.collect(run_graphs.graph(), {"q": "x", "steps": []}))
    only_models = EventFilter(include_types=("chat_model",))
    assert [(n.name, d) for n, d in shown(tree, only_models)] == [("GenericFakeChatModel", 0)]
    no_route = EventFilter(exclude_names=("route",))
    assert [n.name for n, _ in shown(tree, no_route)] == [
        "qa_graph",
        "plan",
        "answer",
        "GenericFakeChatModel",
    ]
    by_tag = EventFilter(include_tags=("graph:step:2",))
    assert [(n.name, d) for n, d in shown(tree, by_tag)] == [("answer", 0)]


async def test_the_tree_prints_as_indented_text_and_as_json() -> None:
    tree = built(await run_graphs.collect(run_graphs.sequence(), {"q": "hi"}))
    lines = tree_lines(tree)
    assert lines[0].startswith("✓ RunnableSequence chain  +0.000s 0.022s")
    assert lines[2].startswith("  ✓ GenericFakeChatModel chat_model  +0.003s")
    data: dict[str, Any] = json.loads(json.dumps(node_dict(tree.roots[0])))
    assert [c["name"] for c in data["children"]] == [
        "ChatPromptTemplate",
        "GenericFakeChatModel",
        "StrOutputParser",
    ]
    assert data["duration_s"] == 0.022 and data["children"][1]["stream_events"] > 0
