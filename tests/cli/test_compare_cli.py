"""``llmstream-tui compare``: real HTTP against two loopback OpenAI-compatible servers with
different latency profiles, offline runs on the simulated/scripted kinds, the --out files
(recordings, summary.json, report, plots) and bad input."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmstream_tui.cli import main
from llmstream_tui.core.recording import RecordingReader


class SlowOpenAI:
    """An OpenAI chat-completions server on 127.0.0.1 in a thread of its own (the CLI runs
    its own loop in the test's thread): waits ``ttft`` before the first event, ``gap``
    between events, and reports usage when ``usage`` is set."""

    def __init__(self, ttft: float, gap: float, words: int, *, usage: bool) -> None:
        self.ttft, self.gap, self.words, self.usage = ttft, gap, words, usage
        self.port = 0
        self.requests = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def _event(self, obj: dict[str, Any]) -> bytes:
        data = b"data: " + json.dumps(obj).encode() + b"\n\n"
        return b"%x\r\n%s\r\n" % (len(data), data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                json.loads(await reader.readexactly(length))
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                )
                await asyncio.sleep(self.ttft)
                for i in range(self.words):
                    if i:
                        await asyncio.sleep(self.gap)
                    delta = {"content": f" w{i}"}
                    writer.write(self._event({"choices": [{"index": 0, "delta": delta}]}))
                    await writer.drain()
                end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                writer.write(self._event(end))
                if self.usage:
                    usage = {"prompt_tokens": 3, "completion_tokens": 2 * self.words}
                    writer.write(self._event({"choices": [], "usage": usage}))
                done = b"data: [DONE]\n\n"
                writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration):
            writer.close()

    def __enter__(self) -> SlowOpenAI:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Path]:
    """Two servers, ``quick`` (20 ms to first token, 2 ms gaps, usage reported) and
    ``sluggish`` (120 ms, 10 ms, no usage), and a config naming them."""
    with (
        SlowOpenAI(0.02, 0.002, 6, usage=True) as quick,
        SlowOpenAI(0.12, 0.01, 6, usage=False) as sluggish,
    ):
        config = tmp_path / "config.toml"
        config.write_text(
            "".join(
                f'[providers.{name}]\nkind = "openai-chat"\nmodel = "m"\n'
                f'base_url = "http://127.0.0.1:{srv.port}/v1"\n'
                for name, srv in (("quick", quick), ("sluggish", sluggish))
            ),
            encoding="utf-8",
        )
        yield config


def prompt_file(tmp_path: Path) -> Path:
    f = tmp_path / "prompts.jsonl"
    f.write_text(
        '{"id": "a", "prompt": "one"}\n'
        '{"id": "b", "messages": [{"role": "user", "content": "two"}]}\n',
        encoding="utf-8",
    )
    return f


def test_two_loopback_servers_differ_as_expected_and_stats_match_numpy(
    servers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["compare", str(prompt_file(tmp_path)), "--config", str(servers), "-p", "quick"]
    argv += [
        "-p",
        "sluggish",
        "--repeat",
        "3",
        "--concurrency",
        "2",
        "--seed",
        "4",
        "--warmup",
        "2",
    ]
    code = main([*argv, "--format", "json", "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = json.loads(captured.out)
    groups = {g["provider"]: g for g in printed["groups"]}
    assert {g: groups[g]["request_count"] for g in groups} == {"quick": 6, "sluggish": 6}
    q, s = (groups[n]["metrics"] for n in ("quick", "sluggish"))
    assert q["time_to_first_token"]["p50"] < 0.1 < s["time_to_first_token"]["p50"]
    assert q["inter_chunk_latency"]["p50"] < s["inter_chunk_latency"]["p50"]
    assert groups["quick"]["token_source"] == "usage" and q["output_sequence_length"]["avg"] == 12
    assert groups["sluggish"]["token_source"] == "chunks"
    assert s["output_sequence_length"]["avg"] == 6
    assert groups["quick"]["request_throughput"] > groups["sluggish"]["request_throughput"]
    # the statistics, recomputed with numpy from the raw per-request data in summary.json
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for name, metrics in (("quick", q), ("sluggish", s)):
        rows = [r for r in summary["requests"] if r["provider"] == name]
        for metric in ("time_to_first_token", "request_latency", "inter_token_latency"):
            raw = np.array([r[metric] for r in rows])
            got = metrics[metric]
            assert got["avg"] == pytest.approx(raw.mean())
            assert got["std"] == pytest.approx(raw.std())
            for p in (50, 90, 99):
                assert got[f"p{p}"] == pytest.approx(np.percentile(raw, p))
        gaps = np.array([g for r in rows for g in r["inter_chunk_latency"]])
        assert len(gaps) == 6 * 5
        assert metrics["inter_chunk_latency"]["p90"] == pytest.approx(np.percentile(gaps, 90))
    # every request's chunks, as a recording of one turn per request
    reader = RecordingReader(out / "requests" / "quick-c2.jsonl")
    lines = list(reader)
    assert reader.problems == []
    chunks = [ln for ln in lines if ln["type"] == "chunk"]
    assert len(chunks) == 6 * 6 and chunks[0]["text"] == " w0"
    assert [ln["type"] for ln in lines].count("end") == 6
    assert lines[0]["type"] == "provider" and lines[0]["provider"] == "quick"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| quick | c2 | 6 |" in report and "![ttft_cdf](ttft_cdf.svg)" in report
    for plot in ("ttft_cdf", "inter_chunk_cdf"):
        assert (out / f"{plot}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert (out / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def scripted_config(tmp_path: Path) -> Path:
    config = tmp_path / "scripted.toml"
    config.write_text(
        '[providers.fast]\nkind = "scripted"\nchunks = ["a", "b", "c"]\nttft_ms = 5\n'
        '[providers.broken]\nkind = "scripted"\nchunks = ["a", "b"]\nfail_at = 1\n',
        encoding="utf-8",
    )
    return config


def test_table_on_stdout_progress_on_stderr_and_a_provider_failing_every_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path))]
    code = main([*argv, "-p", "fast", "-p", "broken", "--max-requests", "4", "--progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "fast" in captured.out and "TTFT p50 ms" in captured.out
    assert "broken" in captured.out and "scripted 4" in captured.out
    assert "4/4" not in captured.out and "fast c1" in captured.err  # the bar is on stderr
    assert "4/4" in captured.err  # its total is the planned count
    assert "broken: every request failed" in captured.err
    assert "Traceback" not in captured.err


def test_sweep_writes_latency_and_throughput_against_concurrency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path)), "-p", "fast"]
    code = main([*argv, "--sweep", "1,2,4", "--max-requests", "4", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [g["level"] for g in summary["groups"]] == ["c1", "c2", "c4"]
    for plot in ("latency_vs_concurrency", "throughput_vs_concurrency"):
        assert (out / f"{plot}.svg").is_file() and (out / f"{plot}.png").is_file()
    assert sorted(p.name for p in (out / "requests").iterdir()) == [
        "fast-c1.jsonl",
        "fast-c2.jsonl",
        "fast-c4.jsonl",
    ]


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib cannot be imported (as where the plots extra is not installed); tests
    whose subject is not the plots use it to skip drawing them (seconds each)."""
    import sys

    # None in sys.modules makes an import raise ImportError: matplotlib and whatever of it an
    # earlier test imported
    for name in ["matplotlib", *(m for m in sys.modules if m.startswith("matplotlib."))]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)


@pytest.mark.usefixtures("no_matplotlib")
def test_without_matplotlib_one_line_says_so_and_the_rest_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path)), "-p", "fast"]
    assert main([*argv, "--max-requests", "2", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plots need matplotlib" in err
    assert (out / "summary.json").is_file() and (out / "report.md").is_file()
    assert not list(out.glob("*.svg"))


def test_the_builtin_set_runs_offline_on_the_simulated_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sim.toml"
    config.write_text(
        '[providers.swift]\nkind = "simulated"\nmodel = "swift"\nttft_ms = 5\n'
        "chunks_per_s = 2000\nmax_words = 8\n"
        '[providers.steady]\nkind = "simulated"\nmodel = "steady"\nttft_ms = 30\n'
        "chunks_per_s = 500\nmax_words = 8\n",
        encoding="utf-8",
    )
    argv = ["compare", "--builtin", "--config", str(config), "-p", "swift", "-p", "steady"]
    assert main([*argv, "--concurrency", "4", "--format", "json", "--seed", "2"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert [g["request_count"] for g in groups] == [12, 12]
    swift, steady = (g["metrics"]["time_to_first_token"]["p50"] for g in groups)
    assert swift < steady


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ('{"prompt": "ok"}\n{"prompt": 3}\n', [], "prompts.jsonl:2: 'prompt' must be a string"),
        ('{"prompt": "ok"}\n', ["--sweep", "1,2", "--rate", "3"], "cannot be combined"),
        ('{"prompt": "ok"}\n', ["--builtin"], "a prompt file or --builtin"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, extra: list[str], message: str
) -> None:
    f = tmp_path / "prompts.jsonl"
    f.write_text(content, encoding="utf-8")
    argv = ["compare", str(f), "--config", str(scripted_config(tmp_path)), "-p", "fast", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_out_dir_holding_a_comparison_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path)), "-p", "fast"]
    assert main([*argv, "--out", str(out)]) == 2
    assert "already holds a comparison" in capsys.readouterr().err


@pytest.mark.usefixtures("no_matplotlib")
def test_ctrl_c_prints_and_writes_what_finished_and_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmstream_tui.sessions import compare_run

    real = compare_run.run_compare

    async def interrupted_after_three(*args: Any, **kw: Any) -> Any:
        shown = kw["on_request"]

        def seen(done: Any) -> None:
            shown(done)
            if len(kw["run"].requests) == 3:
                raise KeyboardInterrupt  # what asyncio.run raises on Ctrl+C

        return await real(*args, **{**kw, "on_request": seen})

    monkeypatch.setattr(compare_run, "run_compare", interrupted_after_three)
    out = tmp_path / "out"
    config = tmp_path / "slowish.toml"
    config.write_text(
        '[providers.fast]\nkind = "scripted"\nchunks = ["a", "b"]\nttft_ms = 10\n',
        encoding="utf-8",
    )
    argv = ["compare", "--builtin", "--config", str(config), "-p", "fast", "--repeat", "5"]
    code = main([*argv, "--format", "json", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 130 and "interrupted" in captured.err
    printed = json.loads(captured.out)
    assert printed["interrupted"] is True and printed["groups"][0]["request_count"] == 3
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["requests"]) == 3
    lines = list(RecordingReader(out / "requests" / "fast-c1.jsonl"))
    assert [ln["type"] for ln in lines].count("end") == 3


@pytest.mark.usefixtures("no_matplotlib")
def test_baseline_flags_a_slower_run_and_fail_on_regression_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def config(ttft_ms: int) -> Path:
        f = tmp_path / f"ttft{ttft_ms}.toml"
        f.write_text(
            f'[providers.fast]\nkind = "scripted"\nchunks = ["a", "b"]\nttft_ms = {ttft_ms}\n',
            encoding="utf-8",
        )
        return f

    base = tmp_path / "base"
    common = ["compare", "--builtin", "-p", "fast", "--max-requests", "3", "--no-progress"]
    assert main([*common, "--config", str(config(5)), "--out", str(base)]) == 0
    capsys.readouterr()
    slower = [*common, "--config", str(config(80)), "--baseline", str(base)]
    assert main([*slower, "--fail-on-regression"]) == 3
    captured = capsys.readouterr()
    assert "against the baseline" in captured.out
    row = next(ln for ln in captured.out.splitlines() if "time_to_first_token.p50" in ln)
    assert "REGRESSION" in row
    assert "regressed beyond 10% against the baseline" in captured.err
    # without --fail-on-regression the same is reported, exit 0; as JSON, every change
    assert main([*slower, "--format", "json"]) == 0
    changes = json.loads(capsys.readouterr().out)["baseline"]["changes"]
    ttft = next(c for c in changes if c["metric"] == "time_to_first_token.p50")
    assert ttft["regression"] and ttft["new"] > ttft["old"] and ttft["change"] > 1
    # a faster run against the slower one regresses nothing it measures in time
    slow = tmp_path / "slow"
    assert main([*common, "--config", str(config(80)), "--out", str(slow)]) == 0
    capsys.readouterr()
    faster = [*common, "--config", str(config(5)), "--baseline", str(slow / "summary.json")]
    assert main([*faster, "--format", "json"]) == 0
    changes = json.loads(capsys.readouterr().out)["baseline"]["changes"]
    assert not any(c["regression"] for c in changes if "time_to_first" in c["metric"])


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not JSON"), ('{"format": "other"}', "not a compare summary.json")],
)
def test_a_bad_baseline_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "summary.json"
    bad.write_text(content, encoding="utf-8")
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path)), "-p", "fast"]
    assert main([*argv, "--baseline", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"--baseline {bad}: {message}" in err and err.count("\n") == 1


@pytest.mark.usefixtures("no_matplotlib")
def test_merge_pools_the_raw_requests_of_several_runs_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = scripted_config(tmp_path)
    runs = []
    for i, n in enumerate((3, 5)):
        out = tmp_path / f"run{i}"
        argv = ["compare", "--builtin", "--config", str(config), "-p", "fast", "--seed", str(i)]
        assert main([*argv, "--max-requests", str(n), "--out", str(out)]) == 0
        runs.append(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    capsys.readouterr()
    merged_dir = tmp_path / "merged"
    argv = ["compare", "merge", str(tmp_path / "run0"), str(tmp_path / "run1" / "summary.json")]
    assert main([*argv, "--format", "json", "--out", str(merged_dir)]) == 0
    merged = json.loads(capsys.readouterr().out)
    (group,) = merged["groups"]
    assert group["request_count"] == 8
    raw = [r for run in runs for r in run["requests"]]
    for metric in ("time_to_first_token", "request_latency"):
        values = np.array([r[metric] for r in raw])
        got = group["metrics"][metric]
        assert got["p50"] == pytest.approx(np.percentile(values, 50))
        assert got["p99"] == pytest.approx(np.percentile(values, 99))
        assert got["std"] == pytest.approx(values.std())
    gaps = np.array([g for r in raw for g in r["inter_chunk_latency"]])
    assert group["metrics"]["inter_chunk_latency"]["p90"] == pytest.approx(np.percentile(gaps, 90))
    # one clock: the merged span runs from the first run's start to the second's end
    span = (runs[1]["origin_unix"] - runs[0]["origin_unix"]) + max(
        r["end_s"] for r in runs[1]["requests"]
    )
    assert group["benchmark_duration"] == pytest.approx(
        span - min(r["start_s"] for r in runs[0]["requests"]), rel=1e-6
    )
    written = json.loads((merged_dir / "summary.json").read_text(encoding="utf-8"))
    assert len(written["requests"]) == 8 and (merged_dir / "report.md").is_file()


def test_merge_of_something_else_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "summary.json"
    bad.write_text('{"format": "llmstream-compare", "version": 1, "groups": []}', encoding="utf-8")
    assert main(["compare", "merge", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"compare merge {bad}: no 'requests'" in err and err.count("\n") == 1


@pytest.mark.usefixtures("no_matplotlib")
def test_credentials_in_a_reference_url_never_appear_in_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    ref = "openai-chat:m@http://user:sekrit-pass@127.0.0.1:9/v1"  # nothing listens on 9
    argv = ["compare", "--builtin", "-p", ref, "--max-requests", "1", "--no-progress"]
    assert main([*argv, "--format", "json", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "connect" in captured.out
    written = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.json*"))
    for text in (captured.out, captured.err, written):
        assert "sekrit-pass" not in text


def test_the_table_marks_the_best_provider_per_column_within_a_level() -> None:
    from llmstream_tui.cli.compare import _rows, best_cells
    from llmstream_tui.core.compare_stats import RequestRecord, summarise

    def rec(provider: str, level: str, ttft: float, start: float = 0.0) -> RequestRecord:
        return RequestRecord(
            provider, level, 0, "q", start, start + 1.0,
            time_to_first_token=ttft, request_latency=1.0, output_sequence_length=10,
        )  # fmt: skip

    groups = summarise(
        [rec("a", "c1", 0.2), rec("b", "c1", 0.5), rec("a", "c4", 0.9), rec("b", "c4", 0.3)]
    )
    head, _ = _rows(groups)
    marked = best_cells(groups)
    ttft = head.index("TTFT p50 ms")
    assert (0, ttft) in marked and (1, ttft) not in marked  # c1: a is faster
    assert (3, ttft) in marked and (2, ttft) not in marked  # c4: b is
    latency = head.index("latency p50 s")
    assert {(r, latency) for r in range(4)} <= marked  # ties are all best
    assert not any(c == head.index("tokens avg") for _, c in marked)
    assert best_cells(groups[:1]) == set()  # one provider: nothing to compare


def test_a_busy_client_loop_is_measured_and_flagged_as_the_clients_own_delay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from llmstream_tui.cli import compare

    advance = compare._Progress.advance

    def slow_advance(self: Any, done: Any) -> None:
        time.sleep(0.04)  # a progress bar that holds the loop: chunks wait in the socket
        advance(self, done)

    monkeypatch.setattr(compare._Progress, "advance", slow_advance)
    out = tmp_path / "out"
    argv = ["compare", "--builtin", "--config", str(scripted_config(tmp_path)), "-p", "fast"]
    assert main([*argv, "--max-requests", "6", "--out", str(out), "--no-history"]) == 0
    err = capsys.readouterr().err
    lag = json.loads((out / "summary.json").read_text())["client_loop_lag_s"]["c1"]
    assert lag["count"] >= 3 and lag["max"] >= 0.035
    assert "warning: at c1 this process was busy" in err
    assert "client at c1: event loop late" in (out / "report.md").read_text()


def test_a_client_loop_that_keeps_up_is_not_flagged() -> None:
    from llmstream_tui.cli.compare import _lag_warnings

    quiet = {"c1": {"p50": 0.0002, "p99": 0.004, "max": 0.02}}
    busy = {"c16": {"p50": 0.003, "p99": 0.03, "max": 0.05}}
    assert _lag_warnings({"client_loop_lag_s": quiet}) == []
    (line,) = _lag_warnings({"client_loop_lag_s": {**quiet, **busy}})
    assert line.startswith("warning: at c16") and "30 ms late at p99 (max 50 ms)" in line
