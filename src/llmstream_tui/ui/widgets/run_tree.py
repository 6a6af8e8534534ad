"""``RunTreeView``: the events log's tree view, the runs of every pane as a live, foldable tree.

Why not Textual's ``Tree`` widget: the events log is one line-API widget (its keys, focus,
click and the tests that drive them all address it), and a line-API widget cannot host a
child widget; a ``Tree`` beside it would need the app to lay out a second widget and keep
a second copy of every node (``TreeNode`` + label ``Text``) in step with the model on each
event. Measured (``bench/run_tree.py``): re-labelling a ``Tree``'s 200 nodes costs more per
frame than drawing a screenful of rows from the model. So this view owns no widgets: it
keeps the per-pane models (``core.run_tree.RunTree``), lays out the visible rows when a
model's shape changes, and gives the log the pieces of any one row to draw; a frame costs
the rows on screen, whatever the number of runs or events.

The side panel (right of the tree when the log is wide, under it otherwise) shows the
selected run: its name, type, state, timing, tags, metadata, inputs, outputs and error,
as the bounded inert summaries the model keeps. Everything is plain text drawn as segments:
no markup parser ever reads a model's name or output.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import Final

from ...core.events import EventFilter
from ...core.run_tree import STATE_MARKS, RunNode, RunTree, seconds, shown

#: One drawn row: the provider (pane) the run belongs to, the run, its indentation level.
TreeRow = tuple[str, RunNode, int]
#: Style names (the events log's component classes without their prefix) for each state.
STATE_STYLES: Final[dict[str, str]] = {
    "running": "stream",
    "done": "end",
    "error": "error",
    "cancelled": "time",
}
#: Side panel placement: beside the tree from this log width, under it below.
SIDE_PANEL_WIDTH: Final = 96
#: Lines of the panel under the tree (at most; half the log's height when lower).
BOTTOM_PANEL_LINES: Final = 14

Pieces = list[tuple[str, str]]


class RunTreeView:
    """The run trees of the events log's panes, the rows it shows and the selected run."""

    def __init__(self, *, max_nodes: int = 5000) -> None:
        self.max_nodes = max_nodes
        #: one model per pane, in the order panes first sent events
        self.trees: dict[str, RunTree] = {}
        #: run ids whose children are hidden
        self.folded: set[str] = set()
        self.rows: list[TreeRow] = []
        self.selected: RunNode | None = None
        self._laid_out: tuple[object, ...] = ()

    def tree(self, provider: str) -> RunTree:
        tree = self.trees.get(provider)
        if tree is None:
            tree = self.trees[provider] = RunTree(max_nodes=self.max_nodes)
        return tree

    def feed(self, batch: Sequence[tuple[str, int, str, str, object]]) -> RunTree:
        """A frame's events of one pane (the log's ``add``): into that pane's model."""
        tree = self.tree(batch[0][0])
        tree.extend(batch)
        return tree

    def clear(self) -> None:
        for tree in self.trees.values():
            tree.clear()
        self.folded.clear()
        self.rows = []
        self.selected = None
        self._laid_out = ()

    # -- layout -------------------------------------------------------------------------------

    def layout(
        self, providers: frozenset[str] | None = None, runs: EventFilter | None = None
    ) -> bool:
        """Lay the rows out again if a model's shape, the filter (the panes ``providers``
        shown, None for all; the ``runs`` filter) or the folds changed since the last time;
        True when they were. Costs the nodes shown, a few times a second at most (the log
        calls it when it draws)."""
        versions = ((p, t.version) for p, t in self.trees.items())
        key = (providers, runs, len(self.folded), *versions)
        if key == self._laid_out:
            return False
        self._laid_out = key
        rows: list[TreeRow] = []
        for provider, tree in self.trees.items():
            if providers is not None and provider not in providers:
                continue
            rows.extend((provider, node, depth) for node, depth in shown(tree, runs, self.folded))
        self.rows = rows
        selected = self.selected
        if selected is not None and not any(node is selected for _, node, _ in rows):
            self.selected = None
        return True

    @property
    def cursor(self) -> int | None:
        """The selected run's row, or None."""
        selected = self.selected
        if selected is None:
            return None
        for i, (_, node, _) in enumerate(self.rows):
            if node is selected:
                return i
        return None

    def select_row(self, index: int | None) -> None:
        if index is None or not self.rows:
            self.selected = None
            return
        self.selected = self.rows[min(max(index, 0), len(self.rows) - 1)][1]

    def toggle_fold(self, node: RunNode) -> None:
        """Hide or show ``node``'s children (a run without children has nothing to fold)."""
        if node.run_id in self.folded:
            self.folded.discard(node.run_id)
        elif node.children:
            self.folded.add(node.run_id)

    # -- drawing ------------------------------------------------------------------------------

    def row_pieces(self, row: TreeRow, width: int, *, many: bool) -> Pieces:
        """One row as (text, style name) pieces fitting ``width``: indentation, fold mark,
        state mark, name, run type on the left; start offset, duration and stream count on
        the right. ``many``: several panes have runs, so a root names its pane."""
        provider, node, depth = row
        fold = " "
        if node.children:
            fold = "▸" if node.run_id in self.folded else "▾"
        mark = STATE_MARKS[node.state] + ("!" if node.error_below else "")
        left: Pieces = [
            ("  " * depth + fold + " ", "time"),
            (mark + " ", STATE_STYLES[node.state]),
        ]
        if many and node.parent is None:  # a pane's name, as short as the flat log's
            label = provider if len(provider) <= 16 else provider[:15] + "…"
            left.append((label + " ", "provider"))
        left += [(node.name, ""), (" " + node.run_type, "id")]
        right: Pieces = [
            (f" +{seconds(node.start_ns)}", "time"),
            (f" {seconds(node.duration_ns):>8}", STATE_STYLES[node.state]),
            (f" ×{node.streams:<5}" if node.streams else "       ", "stream"),
        ]
        used = sum(len(t) for t, _ in right)
        if width - used < 44:  # narrow: the start offset goes (the panel has it)
            right = right[1:]
            used = sum(len(t) for t, _ in right)
        if width - used < 16:  # narrower: the duration alone
            right = right[:1]
            used = len(right[0][0])
        return fit(left, max(0, width - used)) + right

    def detail_lines(self, width: int, field_lines: int = 3) -> list[Pieces]:
        """The side panel: the selected run's fields, labelled, wrapped to ``width``, at
        most ``field_lines`` lines each."""
        node = self.selected
        if node is None:
            hint = "↑/↓ select a run: its inputs, outputs, tags and metadata show here"
            return [[(line, "time")] for line in textwrap.wrap(hint, max(8, width))]
        head: Pieces = [
            (STATE_MARKS[node.state] + " ", STATE_STYLES[node.state]),
            (node.name, ""),
            (f" {node.run_type} · {node.state}", "id"),
        ]
        lines = [fit(head, width)]
        timing = f"+{seconds(node.start_ns)}, took {seconds(node.duration_ns)}"
        if node.streams:
            timing += f", {node.streams} stream events"
        fields = [  # most telling first: a short panel cuts the last ones
            ("time", timing),
            ("error", node.error or ""),
            ("inputs", node.inputs),
            ("outputs", node.outputs),
            ("tags", ", ".join(node.tags)),
            ("metadata", node.metadata),
            ("run", node.run_id + (" (parent not known: v1)" if node.inferred else "")),
        ]
        for label, value in fields:
            if value:
                style = "error" if label == "error" else ""
                lines.extend(labelled(label, value, width, style, field_lines))
        return lines


def fit(pieces: Iterable[tuple[str, str]], width: int) -> Pieces:
    """``pieces`` cut to ``width`` cells (the last one ending in ``…``), padded to it."""
    out: Pieces = []
    used = 0
    for text, style in pieces:
        if used + len(text) > width:
            room = width - used
            if room > 0:
                out.append((text[: room - 1] + "…", style))
            used = width
            break
        out.append((text, style))
        used += len(text)
    if used < width:
        out.append((" " * (width - used), ""))
    return out


def labelled(
    label: str, value: str, width: int, style: str = "", max_lines: int = 3
) -> list[Pieces]:
    """``label: value``, wrapped with the rest indented, in at most ``max_lines`` lines (the
    panel is a glance; the flat log's detail screen shows a whole event)."""
    head = label + ": "
    room = max(8, width - 2)
    wrapped = textwrap.wrap(
        value,
        room,
        initial_indent=" " * len(head),
        subsequent_indent="  ",
        max_lines=max_lines,
        placeholder=" …",
    )
    if not wrapped:
        return []
    lines: list[Pieces] = [[(head, "provider"), (wrapped[0][len(head) :], style)]]
    lines.extend([(part, style)] for part in wrapped[1:])
    return lines
