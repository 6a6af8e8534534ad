"""The run tree of ``astream_events``: one node per run, built incrementally from events.

A LangChain or LangGraph application streams the events of every nested run (chains,
prompts, chat models, tools, parsers, graph nodes) through one ``astream_events``; this
module turns that flat stream back into the tree the application ran, live, so a viewer can
show which step is running, what it streamed and how long it took. It knows nothing of any
UI: the events log and ``stream --tree`` both draw from it.

Nesting. v2 events carry ``parent_ids`` (root first, immediate parent last): a run hangs
under the nearest of them already seen. v1 events have no parents (langchain-core sends an
empty list), and their order cannot stand in for them: the steps of a streaming sequence run
at once (the parser starts while the model still streams), so "the last open run is the
parent" nests a parser under its model. So v1 is shown flat: every run that starts while a
root is open hangs directly under that root, marked ``RunNode.inferred``. A start with no
parents and nothing open is a new root (the next prompt's run).

Cost. The events log feeds every event here, so a stream event costs one dict lookup and a
counter increment (:meth:`RunTree.extend`); start and end events, a few per run, do the rest.
What a node keeps of its inputs, outputs and metadata is a bounded, inert summary
(:func:`brief`), never the objects themselves: a tree holds no model text beyond a few
hundred characters per run, and at most ``max_nodes`` nodes (the oldest roots go first).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal

from .events import EventFilter
from .inert import escape_controls

__all__ = [
    "BRIEF_CHARS",
    "RUN_TYPES",
    "RunNode",
    "RunTree",
    "State",
    "brief",
    "event_run_type",
    "node_dict",
    "shown",
    "tree_lines",
    "walk",
]

#: ``cancelled``: left open when its pane's run was cut short (seen when the next one starts).
State = Literal["running", "done", "error", "cancelled"]

#: The run types ``astream_events`` names its events after (``on_<type>_<phase>``).
RUN_TYPES: Final = (
    "chain",
    "chat_model",
    "llm",
    "tool",
    "retriever",
    "prompt",
    "parser",
    "custom",
)

#: Characters kept of a run's name (the app's own names: short, but not trusted).
NAME_CHARS: Final = 120
#: Characters kept of a node's inputs, outputs, metadata or error (each).
BRIEF_CHARS: Final = 600
#: Items of a dict or list a summary shows before ``…``, and how deep it goes.
_BRIEF_ITEMS: Final = 8
_BRIEF_DEPTH: Final = 3


def event_run_type(event: str) -> str:
    """The run type of an event name: ``on_chat_model_stream`` -> ``chat_model``,
    ``on_custom_event`` -> ``custom``; anything else (our ``error``) -> ``""``."""
    if event == "on_custom_event":
        return "custom"
    if not event.startswith("on_"):
        return ""
    head, _, _phase = event[3:].rpartition("_")
    return head


def brief(value: object, limit: int = BRIEF_CHARS) -> str:
    """A bounded, inert one-line summary of ``value``: strings cut to ``limit``, containers
    to a few items and levels, messages as ``Type(content)``; control characters escaped.
    The work is bounded too (a long string is sliced before it is escaped), except for the
    ``repr`` of an object of a type it does not know."""
    parts: list[str] = []
    _brief_into(value, parts, _BRIEF_DEPTH, limit)
    text = "".join(parts)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape_controls(" ".join(text.split("\n")))


def _brief_into(value: object, out: list[str], depth: int, limit: int) -> None:
    if isinstance(value, str):
        out.append(repr(value[:limit] + "…" if len(value) > limit else value))
    elif value is None or isinstance(value, bool | int | float):
        out.append(repr(value))
    elif isinstance(value, Mapping):
        if depth <= 0:
            out.append("{…}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i == _BRIEF_ITEMS:
                out.append(", …")
                break
            if i:
                out.append(", ")
            out.append(f"{str(key)[:40]}: ")
            _brief_into(item, out, depth - 1, limit)
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth <= 0:
            out.append("[…]")
            return
        out.append("[")
        for i, item in enumerate(value[: _BRIEF_ITEMS + 1]):
            if i == _BRIEF_ITEMS:
                out.append(", …")
                break
            if i:
                out.append(", ")
            _brief_into(item, out, depth - 1, limit)
        out.append("]")
    elif hasattr(value, "content") and hasattr(value, "type"):  # a message, ours or LangChain's
        out.append(f"{type(value).__name__}(")
        _brief_into(value.content, out, depth - 1, limit)
        calls = getattr(value, "tool_calls", None)
        if calls:
            out.append(", tool_calls=")
            _brief_into(calls, out, depth - 1, limit)
        out.append(")")
    else:
        out.append(repr(value)[:limit])


class RunNode:
    """One run: what its start, stream and end events said, summarised.

    ``start_ns``/``end_ns``/``last_ns`` are what the events log stamped: nanoseconds since the
    pane's run started. ``streams`` counts the run's own stream events (not its children's).
    """

    __slots__ = (
        "_admit",
        "_filter",
        "children",
        "depth",
        "end_ns",
        "error",
        "error_below",
        "inferred",
        "inputs",
        "last_ns",
        "metadata",
        "name",
        "outputs",
        "parent",
        "run_id",
        "run_type",
        "start_ns",
        "state",
        "streams",
        "tags",
    )

    def __init__(
        self, run_id: str, name: str, run_type: str, parent: RunNode | None, start_ns: int
    ) -> None:
        self.run_id = run_id
        self.name = name
        self.run_type = run_type
        self.parent = parent
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.children: list[RunNode] = []
        self.state: State = "running"
        self.start_ns = start_ns
        self.end_ns: int | None = None
        self.last_ns = start_ns
        self.streams = 0
        self.inputs = ""
        self.outputs = ""
        self.tags: tuple[str, ...] = ()
        self.metadata = ""
        self.error: str | None = None
        #: a descendant failed (this run may still have finished)
        self.error_below = False
        #: placed under its root without ``parent_ids`` (v1): its real parent is unknown
        self.inferred = False
        self._filter: EventFilter | None = None
        self._admit = True

    @property
    def duration_ns(self) -> int:
        """How long the run took, or has taken so far (to its last event)."""
        end = self.end_ns if self.end_ns is not None else self.last_ns
        return max(0, end - self.start_ns)

    def admitted(self, flt: EventFilter | None) -> bool:
        """Whether ``flt`` lets this run's events through (as ``astream_events``' own
        include/exclude arguments would); cached per filter object."""
        if flt is None:
            return True
        if flt is not self._filter:
            self._filter = flt
            self._admit = flt.admits(self.name, self.run_type, self.tags)
        return self._admit

    def __repr__(self) -> str:
        return (
            f"RunNode({self.name!r}, {self.run_type}, {self.state}, children={len(self.children)})"
        )


class RunTree:
    """The runs of one pane (one provider), in the order they started.

    Feed it events with :meth:`add` or, in the shape the events log receives them,
    :meth:`extend`. ``version`` changes whenever the shape or a state changes (not on a
    stream event), so a view knows when to lay its rows out again.
    """

    def __init__(self, *, max_nodes: int = 5000) -> None:
        self.max_nodes = max_nodes
        self.nodes: dict[str, RunNode] = {}
        self.roots: list[RunNode] = []
        self.version = 0
        #: runs started and not ended, in start order
        self._open: dict[str, RunNode] = {}
        #: some event named its parents: these are v2 events, a start without is a root
        self._has_parents = False

    def __len__(self) -> int:
        return len(self.nodes)

    def clear(self) -> None:
        self.nodes.clear()
        self.roots.clear()
        self._open.clear()
        self._has_parents = False
        self.version += 1

    def extend(self, entries: Iterable[tuple[Any, int, str, str, Any]]) -> None:
        """Take events as ``(provider, ns since the run started, event name, run id,
        payload)`` (``ui.session.EventEntry``): the payload of a stream event is its chunk
        (or the event), of any other event the event dict."""
        get = self.nodes.get
        for _provider, rel, name, run_id, payload in entries:
            # only a stream event's payload is not a dict (its text or chunk): the hot path
            if type(payload) is not dict:
                node = get(run_id)
                if node is not None:
                    node.streams += 1
                    node.last_ns = rel
                    continue
            self.add(rel, name, run_id, payload)

    def add(self, rel: int, name: str, run_id: str, payload: Any) -> None:
        """One event at ``rel`` ns: ``name`` is its ``event``; ``payload`` the event dict
        (a stream event may give just its chunk)."""
        ev: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
        if name.endswith("_start"):
            self._start(rel, name, run_id, ev)
            return
        node = self.nodes.get(run_id)
        if name == "error" or name.endswith("_error"):
            self._fail(rel, node, ev, whole=name == "error")
            return
        if node is None:
            if not run_id:
                return
            node = self._start(rel, name, run_id, ev)  # a run seen first mid-way
        node.last_ns = rel
        if name.endswith("_stream"):
            node.streams += 1
        elif name.endswith("_end"):
            self._end(rel, node, ev)
        else:  # on_custom_event: an event of its run
            node.streams += 1

    def _start(self, rel: int, name: str, run_id: str, ev: Mapping[str, Any]) -> RunNode:
        known = self.nodes.get(run_id)
        if known is not None:  # a start seen after the run's first stream event
            self._describe(known, ev)
            return known
        parent: RunNode | None = None
        inferred = False
        parent_ids = ev.get("parent_ids") or ()
        for pid in reversed(parent_ids):
            parent = self.nodes.get(pid)
            if parent is not None:
                break
        if parent_ids:
            self._has_parents = True
        elif self._open:
            if self._has_parents or rel < max(n.last_ns for n in self._open.values()):
                # a new root: v2 names every nested run's parents, and a pane's next run
                # starts its clock again; what is still open was cut short
                self._stop_open()
            else:  # v1: flat under the open root
                parent, inferred = self.roots[-1], True
        label = escape_controls(str(ev.get("name") or "?")[:NAME_CHARS])
        node = RunNode(run_id, label, event_run_type(name) or "chain", parent, rel)
        node.inferred = inferred
        self._describe(node, ev)
        self.nodes[run_id] = node
        if parent is None:
            self.roots.append(node)
            if len(self.nodes) > self.max_nodes:
                self._evict()
        else:
            parent.children.append(node)
        if name != "on_custom_event":
            self._open[run_id] = node
        self.version += 1
        return node

    def _describe(self, node: RunNode, ev: Mapping[str, Any]) -> None:
        """What the start event says of the run: inputs, tags, metadata."""
        data = ev.get("data")
        if isinstance(data, Mapping) and "input" in data:
            node.inputs = brief(data["input"])
        tags = ev.get("tags")
        if tags:
            node.tags = tuple(escape_controls(str(t))[:80] for t in tags[: _BRIEF_ITEMS * 2])
        metadata = ev.get("metadata")
        if metadata:
            node.metadata = brief(metadata)
        node._filter = None

    def _end(self, rel: int, node: RunNode, ev: Mapping[str, Any]) -> None:
        data = ev.get("data")
        if isinstance(data, Mapping):
            if "output" in data:
                node.outputs = brief(data["output"])
            if not node.inputs and "input" in data:  # v2 sends some inputs only at the end
                node.inputs = brief(data["input"])
        node.end_ns = rel
        if node.state == "running":
            node.state = "done"
        self._open.pop(node.run_id, None)
        self.version += 1

    def _fail(self, rel: int, node: RunNode | None, ev: Mapping[str, Any], *, whole: bool) -> None:
        """An error: the run it names (or, for the pane's own ``error`` with no known run,
        the open runs) and every ancestor are marked. The pane's error ends the whole run,
        so every run still open is failed with it; a tool's ``on_tool_error`` fails only
        the tool (its agent may recover)."""
        data = ev.get("data")
        error = data.get("error") if isinstance(data, Mapping) else None
        message = escape_controls(error[:300]) if isinstance(error, str) else brief(error, 300)
        failed = [node] if node is not None else []
        if whole:  # the pane's run itself failed
            failed += [n for n in self._open.values() if n is not node]
            self._open.clear()
        for n in failed:
            n.state = "error"
            n.error = n.error or message
            n.end_ns = n.end_ns if n.end_ns is not None else rel
            n.last_ns = rel
            self._open.pop(n.run_id, None)
            up = n.parent
            while up is not None and not up.error_below:
                up.error_below = True
                up = up.parent
        self.version += 1

    def _stop_open(self) -> None:
        """Runs left open by a cancelled pane run: they will never end."""
        for node in self._open.values():
            node.state = "cancelled"
        self._open.clear()

    def _evict(self) -> None:
        """Drop the oldest roots (never the newest) until the tree fits ``max_nodes``."""
        while len(self.nodes) > self.max_nodes and len(self.roots) > 1:
            root = self.roots.pop(0)
            for node in walk([root]):
                self.nodes.pop(node.run_id, None)
                self._open.pop(node.run_id, None)

    def walk(self) -> Iterator[RunNode]:
        """Every node, depth first, in start order."""
        return walk(self.roots)


def walk(roots: Sequence[RunNode]) -> Iterator[RunNode]:
    """``roots`` and their descendants, depth first, in start order (no recursion: a deep
    graph cannot hit the recursion limit)."""
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def seconds(ns: int) -> str:
    """``ns`` as seconds with millisecond precision (``1.234s``)."""
    return f"{ns / 1e9:.3f}s"


def node_label(node: RunNode) -> str:
    """``name type`` with the state's mark: what a line of the tree says of its run first."""
    return f"{STATE_MARKS[node.state]}{'!' if node.error_below else ''} {node.name} {node.run_type}"


#: The mark of each state: running, done, failed.
STATE_MARKS: Final[dict[str, str]] = {"running": "▸", "done": "✓", "error": "✗", "cancelled": "⊘"}


def node_timing(node: RunNode) -> str:
    """``+start duration ×streams``: when the run started, how long it took, what it streamed."""
    text = f"+{seconds(node.start_ns)} {seconds(node.duration_ns)}"
    return f"{text} ×{node.streams}" if node.streams else text


def tree_lines(tree: RunTree, flt: EventFilter | None = None) -> list[str]:
    """The tree as indented text lines (``stream --tree``): two spaces per level, the
    state's mark, name, type, start offset, duration and stream-event count."""
    return [f"{'  ' * depth}{node_label(n)}  {node_timing(n)}" for n, depth in shown(tree, flt)]


def shown(
    tree: RunTree, flt: EventFilter | None = None, folded: Container[str] = ()
) -> Iterator[tuple[RunNode, int]]:
    """The nodes ``flt`` admits with the depth each is drawn at: a run the filter hides
    takes no level, its admitted descendants hang under its nearest admitted ancestor (the
    tree ``astream_events`` would give with the same include/exclude arguments). The
    descendants of a run whose id is in ``folded`` are left out."""
    stack: list[tuple[RunNode, int]] = [(r, 0) for r in reversed(tree.roots)]
    while stack:
        node, depth = stack.pop()
        admitted = node.admitted(flt)
        if admitted:
            yield node, depth
        if node.children and not (admitted and node.run_id in folded):
            below = depth + 1 if admitted else depth
            stack.extend((c, below) for c in reversed(node.children))


def node_dict(node: RunNode, *, children: bool = True) -> dict[str, Any]:
    """A node as JSON-ready data (``stream --tree --format jsonl``): times in seconds,
    summaries as the inert strings the node keeps."""
    out: dict[str, Any] = {
        "run_id": node.run_id,
        "name": node.name,
        "type": node.run_type,
        "state": node.state,
        "depth": node.depth,
        "start_s": round(node.start_ns / 1e9, 6),
        "duration_s": round(node.duration_ns / 1e9, 6),
        "stream_events": node.streams,
        "tags": list(node.tags),
    }
    if node.error is not None:
        out["error"] = node.error
    if node.inferred:
        out["nesting"] = "inferred"
    if children:
        out["children"] = [node_dict(c) for c in node.children]
    return out
