"""End to end: a LangGraph application in a pane (the ``langchain`` kind) shows its whole run
tree in the events log, live from the pane's own run, and the CLI prints the same tree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmstream_tui.cli import main
from llmstream_tui.ui.app import make_app
from tests.ui.conftest import make_settings

GRAPH = "tests.providers.lc_apps:graph()"
#: what the graph runs: agent plans a tool call, tools answers it, agent writes the answer
SHAPE = [
    (0, "LangGraph", "chain"),
    (1, "agent", "chain"),
    (2, "planner", "chat_model"),
    (2, "route", "chain"),
    (1, "tools", "chain"),
    (2, "weather", "tool"),
    (1, "agent", "chain"),
    (2, "writer", "chat_model"),
    (2, "route", "chain"),
]


async def test_a_langgraph_pane_shows_its_run_tree() -> None:
    settings = make_settings(
        providers={"agent": {"kind": "langchain", "target": GRAPH}},
        default_providers=["agent"],
        ui={"events_open": "yes"},
    )
    app = make_app(settings)
    async with app.run_test(size=(160, 44)) as pilot:
        app.prompt_area.load_text("Weather in Paris?")
        await pilot.press("enter")
        await app.settle()
        log = app.events_log
        log.focus()
        await pilot.press("t")
        await pilot.pause()
        rows = log.runs.rows
        assert [(d, n.name, n.run_type) for _, n, d in rows] == SHAPE
        assert all(n.state == "done" for _, n, _ in rows)
        writer = rows[7][1]
        flat_writer_streams = sum(
            1 for e in log.entries if e[3] == writer.run_id and e[2].endswith("_stream")
        )
        assert writer.streams == flat_writer_streams > 0
        assert "It is sunny in Paris today." in writer.outputs


def test_the_cli_prints_the_same_tree(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    code = main(
        [
            "stream",
            "--no-history",
            "-p",
            f"langchain:{GRAPH}",
            "--tree",
            "--format",
            "jsonl",
            "Weather in Paris?",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    record = json.loads(out.splitlines()[-1])

    def flat(node: dict[str, Any]) -> list[tuple[int, str, str]]:
        return [(node["depth"], node["name"], node["type"])] + [
            x for c in node["children"] for x in flat(c)
        ]

    (root,) = record["runs"]
    assert flat(root) == SHAPE
