"""``bench/run_tree.py`` keeps measuring what it says (a smoke run: tiny sizes, no verdict)."""

from __future__ import annotations

import math

from bench import run_tree


def test_the_synthetic_graph_has_200_runs_nested_4_deep() -> None:
    from llmstream_tui.core.run_tree import RunTree

    tree = RunTree()
    tree.extend(run_tree.graph_entries(6_000))
    assert len(tree) == 200
    assert max(n.depth for n in tree.walk()) == 3
    assert sum(n.streams for n in tree.walk()) == 2 * run_tree.STEPS * (
        6_000 // (2 * run_tree.STEPS)
    )


def test_every_case_ran_and_every_target_says_so() -> None:
    rows = {(r.section, r.case.split(",")[0]): r for r in run_tree.run_bench(smoke=True)}
    for key in [
        ("run tree/model", "RunTree.extend"),
        ("run tree/model", "flat log: deque.extend"),
        ("run tree/frame", "flat log"),
        ("run tree/frame", "tree open"),
        ("run tree/widget", "RunTreeView rows per frame"),
        ("run tree/widget", "Textual Tree relabelled per frame"),
    ]:
        row = rows[key]
        assert math.isfinite(row.value) and row.value > 0, row
        assert row.ratio is not None and row.ratio > 0, row
    targets = [r for r in rows.values() if r.case.startswith("target ")]
    assert len(targets) == 3 and all("no verdict" in r.note for r in targets)
