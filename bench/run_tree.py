"""The run tree at the ingest rates the flat events log handles (issue 13).

A graph of 200 nested runs (a root; 33 steps, each a chain holding a prompt, a chat model, a
parser and a tool with a chain inside; a final join; up to 4 levels) streams 100,000 stream
events, its models and parsers interleaved as a streaming LangChain sequence interleaves them.
The entries are built in the shape the log receives (``ui.session.EventEntry``: start and end
events as v2 event dicts with ``parent_ids``, stream events as their text); building them
is not timed.

- ``model``: ``core.run_tree.RunTree.extend`` over every entry, in the app's frame batches
  (4,096), against the flat log's own cost for the same batches (``deque.extend``).
  Target: 100,000 events in <= 50 ms (2,000,000 events/s; at the app's 200,000 chunks/s
  target that is at most 10% of one core).
- ``frame``: the whole app (``make_app``, events log open, 160x48), each batch through
  ``EventsLog.add`` + ``show`` + drawing every visible line of the log, flat and with the
  tree open (the selected run in the side panel). Target: the tree's median frame within
  1.5x of the flat log's, and its slowest frame within one of the app's frames (``ui.fps``
  = 30: 33.3 ms; the app draws the log every third frame, this draws it every frame).
- ``Textual Tree``: the widget the tree view did not use: a ``Tree`` of the same 200 nodes
  whose running nodes are relabelled (count and duration) once per frame and drawn, against
  ``RunTreeView`` laying out and drawing the same rows. Why the view draws its own rows.

Run: ``python -m bench.run_tree`` (``--smoke``: fewer events, one repeat).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import deque
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Tree

from llmstream_tui.config import Settings, UISettings
from llmstream_tui.core.run_tree import RunTree
from llmstream_tui.ui.app import make_app

from .common import Row, format_table, write_json

Entry = tuple[str, int, str, str, Any]
SIZE = (160, 48)
#: Events per frame batch (the app hands the log one batch per pane per frame).
BATCH = 4096
STEPS = 33
PROVIDER = "graph"


def graph_entries(streams: int = 100_000) -> list[Entry]:
    """200 runs, ``streams`` stream events, as the events log receives them."""
    per_run = max(1, streams // (2 * STEPS))  # each step's model and parser stream
    out: list[Entry] = []
    clock = 0

    def event(name: str, run_id: str, payload: Any) -> None:
        nonlocal clock
        clock += 1_000
        out.append((PROVIDER, clock, name, run_id, payload))

    def start(kind: str, run_id: str, name: str, parents: list[str]) -> None:
        data = {"input": {"q": "question", "step": name}}
        ev: dict[str, Any] = {
            "event": f"on_{kind}_start",
            "name": name,
            "run_id": run_id,
            "tags": [name],
            "metadata": {"langgraph_node": name},
            "parent_ids": parents,
            "data": data,
        }
        event(ev["event"], run_id, ev)

    def end(kind: str, run_id: str, name: str, parents: list[str]) -> None:
        ev: dict[str, Any] = {
            "event": f"on_{kind}_end",
            "name": name,
            "run_id": run_id,
            "tags": [name],
            "metadata": {},
            "parent_ids": parents,
            "data": {"output": "an answer " * 20},
        }
        event(ev["event"], run_id, ev)

    root = ["root"]
    start("chain", "root", "agent", [])
    for step in range(STEPS):
        s = f"s{step}"
        at = [*root, s]
        start("chain", s, f"step{step}", root)
        start("prompt", f"{s}p", "ChatPromptTemplate", at)
        end("prompt", f"{s}p", "ChatPromptTemplate", at)
        start("chat_model", f"{s}m", "ChatModel", at)
        start("parser", f"{s}o", "StrOutputParser", at)
        for _ in range(per_run):
            event("on_chat_model_stream", f"{s}m", "tok")
            event("on_parser_stream", f"{s}o", "tok")
        end("chat_model", f"{s}m", "ChatModel", at)
        end("parser", f"{s}o", "StrOutputParser", at)
        start("tool", f"{s}t", "search", at)
        start("chain", f"{s}c", "search_inner", [*at, f"{s}t"])
        end("chain", f"{s}c", "search_inner", [*at, f"{s}t"])
        end("tool", f"{s}t", "search", at)
        end("chain", s, f"step{step}", root)
    start("chain", "join", "join", root)
    end("chain", "join", "join", root)
    end("chain", "root", "agent", [])
    return out


def batches(entries: list[Entry]) -> list[list[Entry]]:
    return [entries[i : i + BATCH] for i in range(0, len(entries), BATCH)]


# -- the model -----------------------------------------------------------------------------


def model_case(frames: list[list[Entry]]) -> tuple[float, float]:
    """(seconds into RunTree, seconds into a bounded deque) for every batch."""
    tree = RunTree()
    started = time.perf_counter()
    for batch in frames:
        tree.extend(batch)
    model = time.perf_counter() - started
    assert len(tree) == 2 + STEPS * 6, len(tree)
    flat: deque[Entry] = deque(maxlen=5000)
    started = time.perf_counter()
    for batch in frames:
        flat.extend(batch)
    return model, time.perf_counter() - started


# -- the app -------------------------------------------------------------------------------


async def frame_case(frames: list[list[Entry]], tree_mode: bool) -> list[float]:
    """Seconds per frame: a batch into the log, shown, every visible line drawn."""
    settings = Settings(
        providers={PROVIDER: {"kind": "scripted", "chunks": ["x"]}},
        default_providers=[PROVIDER],
        ui=UISettings(events_open="yes", cursor_blink=False),
    )
    app = make_app(settings)
    times: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.events_log
        if tree_mode:
            log.action_toggle_tree()
        height = log.size.height
        for i, batch in enumerate(frames):
            started = time.perf_counter()
            log.add(batch)
            log.show()
            if tree_mode and i == 1:
                log.select_run(3)
            for y in range(height):
                log.render_line(y)
            times.append(time.perf_counter() - started)
        if tree_mode:
            assert len(log.runs.rows) == 2 + STEPS * 6 and log.runs.selected is not None
    return times


class _TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Tree("agent", id="tree")


async def textual_tree_case(frames: list[list[Entry]]) -> tuple[list[float], list[float]]:
    """Per frame: a Textual ``Tree`` relabelling its running nodes and drawn, against the
    view laying out and drawing its rows; both follow the same model."""
    app = _TreeApp()
    ours: list[float] = []
    theirs: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        widget = app.query_one(Tree)
        model = RunTree()
        nodes: dict[str, Any] = {}
        from llmstream_tui.core.run_tree import node_timing
        from llmstream_tui.ui.widgets.run_tree import RunTreeView

        view = RunTreeView()
        view.trees[PROVIDER] = model
        height = SIZE[1]
        for batch in frames:
            model.extend(batch)
            started = time.perf_counter()
            for node in model.walk():  # new runs get a node; running ones a new label
                handle = nodes.get(node.run_id)
                label = f"{node.name} {node.run_type} {node_timing(node)}"
                if handle is None:
                    parent = nodes.get(node.parent.run_id) if node.parent else None
                    handle = (parent or widget.root).add(label, expand=True)
                    nodes[node.run_id] = handle
                elif node.state == "running":
                    handle.set_label(label)
            for y in range(height):
                widget.render_line(y)
            theirs.append(time.perf_counter() - started)
            started = time.perf_counter()
            view.layout()
            for row in view.rows[:height]:
                view.row_pieces(row, 90, many=False)
            ours.append(time.perf_counter() - started)
    return ours, theirs


def verdict(smoke: bool, target: str, met: bool) -> str:
    """``target: met`` or ``MISSED``; a smoke run's tiny sizes judge nothing."""
    if smoke:
        return f"{target}: smoke run, no verdict"
    return f"{target}: {'met' if met else 'MISSED'}"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_bench(smoke: bool = False, repeats: int = 5) -> list[Row]:
    streams = 6_000 if smoke else 100_000
    repeats = 1 if smoke else repeats
    frames = batches(graph_entries(streams))
    events = sum(len(b) for b in frames)
    rows: list[Row] = []
    model_s, flat_s = zip(*(model_case(frames) for _ in range(repeats)), strict=True)
    model_ms = statistics.median(model_s) * 1e3
    flat_ms = statistics.median(flat_s) * 1e3
    section = "run tree/model"
    rows += [
        Row(
            section,
            f"RunTree.extend, {events:,} events",
            model_ms,
            "ms",
            1.0,
            None,
            f"{events / model_ms * 1e3:,.0f} events/s",
            list(model_s),
        ),
        Row(section, "flat log: deque.extend", flat_ms, "ms", flat_ms / model_ms, "RunTree"),
        Row(
            section,
            "target 100k events",
            model_ms * 100_000 / events,
            "ms",
            None,
            None,
            verdict(smoke, "target <= 50 ms", model_ms * 100_000 / events <= 50),
        ),
    ]
    flat_frames: list[float] = []
    tree_frames: list[float] = []
    for _ in range(repeats):
        flat_frames += asyncio.run(frame_case(frames, False))
        tree_frames += asyncio.run(frame_case(frames, True))
    section = "run tree/frame"
    flat_med = statistics.median(flat_frames) * 1e3
    tree_med = statistics.median(tree_frames) * 1e3
    tree_max = max(tree_frames) * 1e3
    rows += [
        Row(
            section,
            f"flat log, {BATCH} events/frame",
            flat_med,
            "ms",
            1.0,
            None,
            f"p99 {_p(flat_frames, 0.99) * 1e3:.2f} ms, max {max(flat_frames) * 1e3:.2f} ms",
        ),
        Row(
            section,
            "tree open",
            tree_med,
            "ms",
            tree_med / flat_med,
            "flat log",
            f"p99 {_p(tree_frames, 0.99) * 1e3:.2f} ms, max {tree_max:.2f} ms",
        ),
        Row(
            section,
            "target tree/flat (median)",
            tree_med / flat_med,
            "x",
            None,
            None,
            verdict(smoke, "target <= 1.5x", tree_med / flat_med <= 1.5),
        ),
        Row(
            section,
            "target slowest tree frame",
            tree_max,
            "ms",
            None,
            None,
            verdict(smoke, "target < 33.3 ms", tree_max < 1000 / 30),
        ),
    ]
    ours, theirs = asyncio.run(textual_tree_case(frames))
    ours_med = statistics.median(ours) * 1e3
    theirs_med = statistics.median(theirs) * 1e3
    section = "run tree/widget"
    rows += [
        Row(section, "RunTreeView rows per frame", ours_med, "ms", 1.0),
        Row(
            section,
            "Textual Tree relabelled per frame",
            theirs_med,
            "ms",
            theirs_med / ours_med,
            "RunTreeView",
        ),
    ]
    return rows


def run(smoke: bool = False) -> list[Row]:
    """The ``python -m bench`` section."""
    return run_bench(smoke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_tree", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="fewer events, one repeat")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = run_bench(args.smoke, args.repeats)
    print(format_table(rows))
    if not args.smoke:
        write_json(rows, "run_tree.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
