"""The live comparison screen (issue 18): progress, plots, the statistics table, opening a
finished or running request in the stream-pane view, cancelling.

Deterministic: the ``timed`` kind (tests/ui/timed.py) states when each chunk arrives (a
virtual clock), so every figure is the same on every run; the ``gated`` kind below yields a
chunk only when the test hands it one, so a running request can be watched as it grows.
The comparison runs on its own loop in the screen's worker thread: what a test hands it,
or waits for, goes through thread-safe queues and events.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from array import array
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field
from rich.text import Text
from textual.widgets import Input

from llmstream_tui.core.parts import StreamPart
from llmstream_tui.core.runnable import LanguageModel, ModelRequest, RunContext
from llmstream_tui.providers.registry import KINDS
from llmstream_tui.providers.spec import ProviderSpec
from llmstream_tui.sessions.compare_run import LoadShape, PromptItem, RequestRun
from llmstream_tui.ui.compare_live import LAG_WINDOW, CompareLive, runner
from llmstream_tui.ui.screens.compare import CompareApp, CompareRequestScreen, CompareScreen
from llmstream_tui.ui.widgets.compare_plots import DistributionPlot, cdf_points
from llmstream_tui.ui.widgets.compare_table import BEST_STYLE, CompareStats

from .conftest import timed

PROMPTS = [PromptItem("1", "hi"), PromptItem("2", "yo")]
#: fast has the lower TTFT, slow the wider gaps: the table's best cells are known
FAST = timed(["Spark", "ling", " water"], ttft_ms=50, gaps_ms=[5])
SLOW = timed(["Bub", "bles", "!"], ttft_ms=200, gaps_ms=[30])

#: the chunk queue of each gated provider, by name (filled by the test; read on the
#: comparison's own loop, in another thread)
GATES: dict[str, queue.Queue[str | None]] = {}


class GatedSpec(ProviderSpec):
    kind: Literal["gated"] = "gated"
    chunks: list[str] = Field(default_factory=list)


class GatedModel(LanguageModel):
    """Yields what the test puts in ``GATES[name]``, one chunk per item; None ends it.
    ``task_done`` once the consumer asked for the next chunk: ``join`` returns when every
    chunk given has been taken by the runner."""

    ls_provider = "gated"
    Spec = GatedSpec

    def __init__(self, spec: GatedSpec, *, name: str) -> None:
        super().__init__(name=name, model="gated", flavor="chat")
        self.spec = spec

    @classmethod
    def from_spec(cls, name: str, spec: GatedSpec, client: Any = None) -> GatedModel:
        return cls(spec, name=name)

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        gate = GATES[self.name]
        ctx.first_byte()
        while True:
            try:
                text = gate.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.005)  # a fake server's idle wait, not a test's sync
                continue
            if text is None:
                break
            yield StreamPart(text)
            gate.task_done()
        gate.task_done()


@pytest.fixture(autouse=True)
def _gated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "gated", f"{__name__}:GatedModel")
    GATES.clear()


def screen_for(
    targets: list[tuple[str, dict[str, Any]]],
    shape: LoadShape,
    *,
    on_request: Any = None,
) -> tuple[CompareScreen, CompareApp]:
    live = CompareLive()
    screen = CompareScreen(
        live, runner(live, targets, PROMPTS, shape, on_request=on_request), title="compare"
    )
    return screen, CompareApp(screen)


async def test_progress_reaches_the_plan_the_best_cells_are_marked_and_a_request_opens() -> None:
    screen, app = screen_for([("fast", FAST), ("slow", SLOW)], LoadShape(repeat=2, concurrency=2))
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        live = screen.live
        assert [(g.provider, g.finished, g.planned, g.errors) for g in live.progress()] == [
            ("fast", 4, 4, 0),
            ("slow", 4, 4, 0),
        ]
        bars = [bar for bar, _ in screen._groups.values()]
        assert [(b.progress, b.total) for b in bars] == [(4, 4), (4, 4)]
        stats = screen.query_one(CompareStats)
        ttft, gap = stats.head.index("TTFT p50 ms"), stats.head.index("gap p50 ms")
        assert stats.rows[0][ttft] == "50" and stats.rows[1][ttft] == "200"
        assert (0, ttft) in stats.best and (1, ttft) not in stats.best
        assert (0, gap) in stats.best and (1, gap) not in stats.best
        plots = {p.id: p.drawn for p in screen.query(DistributionPlot)}
        assert set(plots["plot-ttft"]) == {"fast", "slow"}
        assert plots["plot-ttft"]["fast"][0] == [50.0] * 4
        assert plots["plot-gaps"]["slow"][0] == pytest.approx([30.0] * 8)
        assert live.ended == "done"
        # a finished request opens in the stream-pane view: chunks, delimiters, events
        screen.requests_table.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, CompareRequestScreen)
        assert view.request is live.requests[1]
        assert view.view.plain_rows[-1] == "|Spark|ling| water|"
        names = [e[2] for e in view.events.entries]
        assert names == ["on_chat_model_start", *["on_chat_model_stream"] * 3, "on_chat_model_end"]
        assert view.events.entries[-1][4]["data"]["output"] == "Sparkling water"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("q")
    assert app.return_value is live.run
    assert len(live.run.records) == 8


def test_the_best_cell_is_drawn_in_the_best_style() -> None:
    from llmstream_tui.core.compare_stats import RequestRecord, summarise

    def rec(provider: str, ttft: float) -> RequestRecord:
        return RequestRecord(
            provider, "c1", 0, "q", 0.0, 1.0,
            time_to_first_token=ttft, request_latency=1.0, output_sequence_length=10,
        )  # fmt: skip

    stats = CompareStats()
    stats.show(summarise([rec("a", 0.2), rec("b", 0.5)]), {})
    ttft = stats.head.index("TTFT p50 ms")
    assert (0, ttft) in stats.best and (1, ttft) not in stats.best
    assert stats.table is not None
    a, b = list(stats.table.columns[ttft].cells)
    assert isinstance(a, Text) and isinstance(b, Text)
    assert a.style == BEST_STYLE and b.style != BEST_STYLE
    assert (str(a), str(b)) == ("200", "500")


def test_cdf_points_keep_every_value_when_few_and_quantiles_when_many() -> None:
    assert cdf_points([3.0, 1.0, 2.0]) == ([1.0, 2.0, 3.0], [1 / 3, 2 / 3, 1.0])
    xs, ys = cdf_points([float(i) for i in range(1001)], points=5)
    assert xs == [0.0, 250.0, 500.0, 750.0, 1000.0] and ys == [0.0, 0.25, 0.5, 0.75, 1.0]


async def test_a_running_request_keeps_filling_while_it_is_open() -> None:
    gate: queue.Queue[str | None] = queue.Queue()
    GATES["held"] = gate
    screen, app = screen_for([("held", {"kind": "gated"})], LoadShape(max_requests=1))
    async with app.run_test(size=(100, 30)) as pilot:
        gate.put_nowait("Spark")
        await asyncio.to_thread(gate.join)
        await pilot.pause()
        screen._heavy_due = 0.0  # the list is drawn at the plots' pace: due now
        screen.redraw()
        assert screen.live.requests[0].status == "running"
        await pilot.press("enter")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, CompareRequestScreen)
        assert view.view.plain_rows[-1] == "|Spark|"
        for text in ("ling", " water"):
            gate.put_nowait(text)
        await asyncio.to_thread(gate.join)
        view.pull()
        assert view.view.plain_rows[-1] == "|Spark|ling| water|"
        assert "running" in str(view.query_one("#request-head").render())
        gate.put_nowait(None)
        await asyncio.to_thread(gate.join)
        assert screen.worker is not None
        await screen.worker.wait()
        view.pull()
        view.pull()  # nothing new: nothing added twice
        names = [e[2] for e in view.events.entries]
        assert names == ["on_chat_model_start", *["on_chat_model_stream"] * 3, "on_chat_model_end"]


async def test_cancel_stops_the_run_and_keeps_what_finished() -> None:
    GATES["held"] = queue.Queue()  # never fed: its request streams until cancelled
    quick_done = threading.Event()

    def counted(done: RequestRun) -> None:
        if done.record.provider == "quick" and done.record.index == len(PROMPTS) - 1:
            quick_done.set()

    screen, app = screen_for(
        [("quick", FAST), ("held", {"kind": "gated"})], LoadShape(), on_request=counted
    )
    async with app.run_test(size=(100, 28)) as pilot:
        await asyncio.to_thread(quick_done.wait)
        await pilot.press("escape")
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        live = screen.live
        assert live.ended == "cancelled" and live.run.interrupted
        assert [r.provider for r in live.run.records] == ["quick", "quick"]
        assert [r.status for r in live.requests if r.provider == "held"] == ["cancelled"]
        stats = screen.query_one(CompareStats)
        assert [row[0] for row in stats.rows] == ["quick"]
        assert "cancelled" in str(screen.query_one("#compare-head").render())
        await pilot.press("q")
    assert app.return_value is live.run


def test_finished_requests_beyond_the_bound_drop_their_chunks_but_keep_their_figures() -> None:
    from llmstream_tui.core.compare_stats import RequestRecord

    live = CompareLive(keep=2)
    lists = []
    for i in range(4):
        chunks = [(0.1, "x", "text")]
        lists.append(chunks)
        live.started("p", "c1", i, PROMPTS[0], chunks)
        record = RequestRecord("p", "c1", i, "1", 0.0, 1.0, time_to_first_token=0.1, text="x")
        live.finished(RequestRun(record, PROMPTS[0], chunks))
    assert [len(c) for c in lists] == [0, 0, 1, 1]
    assert [r.dropped for r in live.requests] == [True, True, False, False]
    assert [r.ttft_s for r in live.requests] == [0.1] * 4
    unbounded = CompareLive(keep=1, bounded=False)
    for i in range(3):
        chunks = [(0.1, "x", "text")]
        unbounded.started("p", "c1", i, PROMPTS[0], chunks)
        unbounded.finished(
            RequestRun(RequestRecord("p", "c1", i, "1", 0.0, 1.0), PROMPTS[0], chunks)
        )
    assert all(r.chunks for r in unbounded.requests)


@pytest.mark.parametrize(
    ("flag", "fmt", "terminal", "live"),
    [
        (None, "table", True, True),
        (None, "table", False, False),  # a pipe: the headless run, exactly as before
        (None, "json", True, False),
        (True, "table", False, True),
        (False, "table", True, False),
    ],
)
def test_the_live_screen_is_chosen_in_a_terminal_with_the_table_format(
    flag: bool | None, fmt: str, terminal: bool, live: bool
) -> None:
    import argparse

    from llmstream_tui.cli.compare import wants_live

    args = argparse.Namespace(live=flag, format=fmt)
    assert wants_live(args, terminal=terminal) is live


def test_compare_live_runs_the_screen_then_prints_the_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual.pilot import Pilot

    from llmstream_tui.cli import main

    seen: list[CompareScreen] = []

    async def leave_when_done(pilot: Pilot[Any]) -> None:
        while not isinstance(pilot.app.screen, CompareScreen):
            await pilot.pause()
        screen = pilot.app.screen
        seen.append(screen)
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.press("q")

    run = CompareApp.run

    def headless(self: CompareApp, **kw: Any) -> Any:
        return run(self, headless=True, auto_pilot=leave_when_done, size=(100, 30))

    monkeypatch.setattr(CompareApp, "run", headless)
    argv = ["compare", "--builtin", "-p", "timed:a", "-p", "timed:b", "--max-requests", "2"]
    assert main([*argv, "--live", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert seen and seen[0].live.ended == "done"
    assert len(seen[0].live.run.records) == 4
    lines = [ln for ln in out.splitlines() if "timed:a" in ln or "timed:b" in ln]
    assert len(lines) == 2 and all(" 2 " in ln for ln in lines)  # ok = 2 per provider


def test_the_dialog_fields_parse_to_a_choice_or_one_line_naming_the_field() -> None:
    from llmstream_tui.errors import ConfigError
    from llmstream_tui.ui.screens.compare_setup import CompareChoice, parse_choice

    assert parse_choice("  ", "3", "4") == CompareChoice(None, 3, 4)
    assert parse_choice("set.jsonl", "", "2") == CompareChoice("set.jsonl", 1, 2)
    with pytest.raises(ConfigError, match="^concurrency: 1 or more, not 0$"):
        parse_choice("", "1", "0")
    with pytest.raises(ConfigError, match="^repeat: a whole number"):
        parse_choice("", "x", "1")


async def test_the_palette_command_compares_the_panes_providers_on_a_prompt_file(
    tmp_path: Path,
) -> None:
    from llmstream_tui.ui.app import make_app
    from llmstream_tui.ui.screens.compare_setup import CompareSetupScreen

    from .conftest import make_settings

    settings = make_settings(
        providers={"fast": FAST, "slow": SLOW}, default_providers=["fast", "slow"]
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        await app.run_action("compare_prompt_set")
        await pilot.pause()
        assert isinstance(app.screen, CompareSetupScreen)
        prompts = tmp_path / "set.txt"
        prompts.write_text("one prompt\n", encoding="utf-8")
        app.screen.query_one("#compare-repeat", Input).value = "2"
        path = app.screen.query_one("#compare-path", Input)
        path.value = str(prompts)
        path.focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        assert [(g.provider, g.finished, g.planned) for g in screen.live.progress()] == [
            ("fast", 2, 2),
            ("slow", 2, 2),
        ]
        assert {r.prompt.text for r in screen.live.requests} == {"one prompt"}
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)


#: the snapshots' providers: gaps of several sizes, so the gap CDFs have steps
SNAP_FAST = timed(["Spark", "ling", " water", ",", " oh"], ttft_ms=60, gaps_ms=[4, 9, 6, 15])
SNAP_SLOW = timed(["Bub", "bles", " dancing", "!"], ttft_ms=180, gaps_ms=[25, 60, 35])


def _finished_app() -> CompareApp:
    targets = [("fast", SNAP_FAST), ("slow", SNAP_SLOW)]
    _, app = screen_for(targets, LoadShape(repeat=3, concurrency=2))
    return app


async def _until_done(pilot: Any) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen) and screen.worker is not None
    await screen.worker.wait()
    await pilot.pause()
    # the runner loop's lag is this machine's of the moment: a fixed one for the picture
    screen.live.run.loop_lag = {"c2": array("d", [0.002] * 10)}
    screen.redraw()
    screen._draw_head()
    await pilot.pause()


def test_snapshot_finished_comparison_80x24(snap_compare: Any) -> None:
    assert snap_compare(_finished_app(), terminal_size=(80, 24), run_before=_until_done)


def test_snapshot_finished_comparison_160x48(snap_compare: Any) -> None:
    assert snap_compare(_finished_app(), terminal_size=(160, 48), run_before=_until_done)


async def test_the_table_plots_and_list_wait_out_their_cost_but_the_bars_do_not() -> None:
    import time

    from llmstream_tui.core.compare_stats import RequestRecord

    live = CompareLive()

    async def never() -> None:
        await asyncio.Event().wait()

    screen = CompareScreen(live, never, redraw_hz=0.01)  # the timer never fires here
    async with CompareApp(screen).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen._heavy_due = time.perf_counter() + 3600  # the last drawing was costly
        chunks = [(0.05, "x", "text")]
        live.started("p", "c1", 0, PROMPTS[0], chunks)
        record = RequestRecord("p", "c1", 0, "1", 0.0, 1.0, time_to_first_token=0.05)
        live.run.requests.append(RequestRun(record, PROMPTS[0], chunks))
        live.finished(live.run.requests[-1])
        screen.redraw()
        stats = screen.query_one(CompareStats)
        assert stats.rows == []  # not yet: its cost is still being waited out
        assert screen.requests_table.row_count == 0  # the list neither
        bar, _ = screen._groups[("p", "c1")]
        assert bar.progress == 1  # the bars are drawn every tick
        live.end("done")
        screen.redraw()
        assert [row[0] for row in stats.rows] == ["p"]  # the end is always drawn


async def test_failed_requests_are_counted_by_kind_and_open_with_their_error() -> None:
    bad = timed(["Spark", "ling"], fail_at=1)
    screen, app = screen_for([("bad", bad), ("fast", FAST)], LoadShape(max_requests=2))
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        progress = {g.provider: (g.finished, g.errors) for g in screen.live.progress()}
        assert progress == {"bad": (2, 2), "fast": (2, 0)}
        stats = screen.query_one(CompareStats)
        errors = stats.head.index("errors")
        assert [row[errors] for row in stats.rows] == ["interrupted 2", "0"]
        await pilot.press("enter")  # the first row: bad's first request
        await pilot.pause()
        view = app.screen
        assert isinstance(view, CompareRequestScreen)
        assert view.view.plain_rows[-1] == "|Spark|"  # the text received is kept
        kind, _, data = view.events.entries[-1][2:5]
        assert kind == "on_chat_model_error" and "connection dropped" in data["data"]["error"]
        assert "connection dropped" in str(view.query_one("#request-head").render())


async def test_the_screens_keys_follow_the_keymap() -> None:
    live = CompareLive()
    screen = CompareScreen(live, runner(live, [("fast", FAST)], PROMPTS, LoadShape()))
    app = CompareApp(screen, keymap={"compare_leave": "x"})
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        await pilot.press("q")  # no longer bound
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("x")
    assert app.return_value is live.run


async def test_running_rows_are_updated_while_on_screen_and_once_they_end_anywhere() -> None:

    from llmstream_tui.core.compare_stats import RequestRecord

    live = CompareLive()

    async def never() -> None:
        await asyncio.Event().wait()

    screen = CompareScreen(live, never, redraw_hz=0.01)
    async with CompareApp(screen).run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        lists: list[list[tuple[float, str, str]]] = []
        for i in range(60):
            lists.append([(0.05, "x", "text")])
            live.started("p", "c1", i, PROMPTS[0], lists[-1])
        screen._heavy_due = 0.0  # due now: the list is drawn
        screen.redraw()
        for chunks in lists:
            chunks.append((0.06, "y", "text"))
        live.version += 1
        screen._heavy_due = 0.0
        screen.redraw()
        table = screen.requests_table

        def chunks_of(i: int) -> str:
            return str(table.get_cell(f"p/c1/{i}", "chunks"))

        assert chunks_of(0) == "2"  # on screen
        assert chunks_of(59) == "1"  # off screen: not redrawn every tick
        record = RequestRecord("p", "c1", 59, "1", 0.0, 1.0, time_to_first_token=0.05)
        live.finished(RequestRun(record, PROMPTS[0], lists[59]))
        screen._heavy_due = 0.0
        screen.redraw()
        assert (chunks_of(59), str(table.get_cell("p/c1/59", "status"))) == ("2", "done")


class BrokenSpec(ProviderSpec):
    kind: Literal["broken"] = "broken"


class BrokenModel(GatedModel):
    """A backend whose closing fails: the comparison itself fails, not a request."""

    Spec = BrokenSpec  # type: ignore[assignment]  # its own kind

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        yield StreamPart("ok")

    async def aclose(self) -> None:
        from llmstream_tui.errors import ConfigError

        raise ConfigError("broken:x: could not close this backend")


def test_a_comparison_that_fails_is_reported_alike_live_or_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual.pilot import Pilot

    from llmstream_tui.cli import main

    monkeypatch.setitem(KINDS, "broken", f"{__name__}:BrokenModel")

    async def leave_when_done(pilot: Pilot[Any]) -> None:
        while not isinstance(pilot.app.screen, CompareScreen):
            await pilot.pause()
        screen = pilot.app.screen
        assert screen.worker is not None
        await screen.worker.wait()
        assert (screen.live.ended or "").startswith("failed: ConfigError")
        await pilot.press("q")

    run = CompareApp.run

    def headless(self: CompareApp, **kw: Any) -> Any:
        return run(self, headless=True, auto_pilot=leave_when_done, size=(100, 30))

    monkeypatch.setattr(CompareApp, "run", headless)
    argv = ["compare", "--builtin", "-p", "broken:x", "--max-requests", "1", "--no-progress"]
    results = []
    for live in ("--no-live", "--live"):
        code = main([*argv, live])
        results.append((code, capsys.readouterr().err.strip().splitlines()[-1:]))
    assert (
        results[0]
        == results[1]
        == (
            2,
            ["llmstream-tui: error: broken:x: could not close this backend"],
        )
    )


def test_summaries_are_the_clis_and_only_a_changed_group_is_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import llmstream_tui.ui.compare_live as compare_live
    from llmstream_tui.core.compare_stats import RequestRecord, summarise

    live = CompareLive()
    live.run.levels = ["c1", "c4"]

    def finish(provider: str, level: str, i: int, ttft: float) -> None:
        record = RequestRecord(
            provider, level, i, "1", 0.0, 1.0, time_to_first_token=ttft,
            inter_chunk_latency=[ttft / 10], request_latency=1.0, output_sequence_length=2,
        )  # fmt: skip
        live.started(provider, level, i, PROMPTS[0], [])
        live.run.requests.append(RequestRun(record, PROMPTS[0], []))
        live.finished(live.run.requests[-1])

    for i, ttft in enumerate((0.1, 0.3, 0.2)):
        finish("a", "c1", i, ttft)
        finish("b", "c1", i, ttft * 2)
    finish("a", "c4", 0, 0.5)
    calls: list[int] = []

    def counted(records: Any) -> Any:
        calls.append(len(records))
        return summarise(records)

    monkeypatch.setattr(compare_live, "summarise", counted)
    assert live.summaries() == summarise(live.run.records)
    assert sorted(calls) == [1, 3, 3]
    calls.clear()
    finish("a", "c4", 1, 0.7)  # only a at c4 moved
    assert live.summaries() == summarise(live.run.records)
    assert calls == [2]
    gaps = live.values("inter_chunk_latency")
    assert gaps["a c4"] == pytest.approx([0.05, 0.07]) and len(gaps["b c1"]) == 3


async def test_a_plot_sorts_a_series_again_only_when_it_is_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import llmstream_tui.ui.widgets.compare_plots as compare_plots

    sorted_lengths: list[int] = []

    def counted(values: Any, points: int = compare_plots.POINTS) -> Any:
        sorted_lengths.append(len(values))
        return cdf_points(values, points)

    monkeypatch.setattr(compare_plots, "cdf_points", counted)
    live = CompareLive()

    async def never() -> None:
        await asyncio.Event().wait()

    screen = CompareScreen(live, never, redraw_hz=0.01)
    async with CompareApp(screen).run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        plot = screen.query_one("#plot-ttft", DistributionPlot)
        a, b = [0.1, 0.2], [0.3]
        plot.show({"a": a, "b": b}, {})
        plot.show({"a": a, "b": [0.3, 0.4]}, {})  # a unchanged, b a new series
        assert sorted_lengths == [2, 1, 2]
        assert plot.drawn["b"] == ([300.0, 400.0], [0.5, 1.0])


async def test_the_head_says_how_late_the_runners_loop_wakes_and_flags_a_busy_one() -> None:
    def hold(done: RequestRun) -> None:
        time.sleep(0.03)  # in the runner's loop: chunks arriving meanwhile are stamped late

    screen, app = screen_for([("fast", FAST)], LoadShape(repeat=2), on_request=hold)
    async with app.run_test(size=(120, 28)) as pilot:
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
        lag = screen.live.recent_loop_lag()
        assert lag is not None and lag >= 0.025
        screen._draw_head()
        head = str(screen.query_one("#compare-head").render())
        assert head.endswith(f"  lag p99 {lag * 1e3:.0f} ms busy")
        await pilot.press("q")


def test_the_recent_loop_lag_is_the_p99_of_the_last_ticks_of_the_level_running() -> None:
    live = CompareLive()
    assert live.recent_loop_lag() is None
    live.run.loop_lag["c1"] = array("d", [0.5] * 10)
    live.run.loop_lag["c4"] = array("d", [0.9] * 10 + [0.001] * LAG_WINDOW)
    assert live.recent_loop_lag() == pytest.approx(0.001)
