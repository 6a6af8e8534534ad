"""Formatting of figures and event lines (pure)."""

from __future__ import annotations

from llmstream_tui.core.messages import AIMessageChunk, HumanMessage
from llmstream_tui.core.metrics import MetricsSnapshot
from llmstream_tui.ui.format import duration, event_data, metrics_parts, quote, rate, relative


def snapshot(**kw: object) -> MetricsSnapshot:
    base: dict[str, object] = {
        "ttfb_s": 0.1,
        "ttft_s": 0.25,
        "total_s": 1.5,
        "chunks": 31,
        "chunks_per_s": 48.0,
        "itl_p50_s": 0.012,
        "itl_p90_s": 0.03,
        "itl_p95_s": 0.04,
        "itl_p99_s": 0.05,
        "itl_max_s": 0.06,
        "tokens": 31,
        "token_source": "chunks",
        "tpot_s": 0.02,
    }
    base.update(kw)
    return MetricsSnapshot(**base)  # type: ignore[arg-type]


def test_durations_pick_a_readable_unit() -> None:
    assert [duration(s) for s in (None, 0.0001, 0.25, 1.234, 42.0, 125.0)] == [
        "–",
        "100µs",
        "250ms",
        "1.23s",
        "42.0s",
        "2m05s",
    ]


def test_rates() -> None:
    assert [rate(r) for r in (None, 12.34, 480.0, 230_000.0)] == ["–", "12.3/s", "480/s", "230k/s"]


def test_tokens_are_shown_only_when_the_provider_reports_usage() -> None:
    assert "tokens" not in dict(metrics_parts(snapshot()))
    assert dict(metrics_parts(snapshot(tokens=80, token_source="usage")))["tokens"] == "80"


def test_quote_is_one_inert_line_cut_to_length() -> None:
    assert quote("a\nb\tc\x1b[2J") == '"a\\nb\\tc\\x1b[2J"'
    assert quote("x" * 100, limit=10) == '"' + "x" * 9 + '…"'


def test_stream_event_data_shows_text_and_what_else_a_chunk_carries() -> None:
    chunk = AIMessageChunk(
        "hi",
        usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
        response_metadata={"finish_reason": "stop"},
    )
    assert event_data("on_chat_model_stream", "plain") == '"plain"'
    assert event_data("on_chat_model_stream", chunk) == '"hi" finish=stop usage in=3 out=5'


def test_start_and_end_event_data() -> None:
    start = {"event": "on_chat_model_start", "data": {"input": [HumanMessage("Sing")]}}
    assert event_data("on_chat_model_start", start) == 'input 1 message, last "Sing"'
    end = {
        "event": "on_llm_end",
        "data": {
            "output": {
                "generations": [[{"text": "la la", "generation_info": {"finish_reason": "stop"}}]]
            }
        },
    }
    assert event_data("on_llm_end", end) == 'output 5 chars "la la" finish=stop'


def test_relative_time_is_fixed_width() -> None:
    assert relative(0) == "  0.000s" and relative(1_234_000_000) == "  1.234s"


def test_the_targets_line_never_cuts_a_name_or_ends_in_a_comma() -> None:
    from llmstream_tui.ui.format import targets_line

    names = ["local-plain", "local-plain:2", "openai-chat:gpt-4o", "anthropic"]
    assert targets_line(names, 80) == "local-plain, local-plain:2, openai-chat:gpt-4o, anthropic"
    assert targets_line(names, 40) == "local-plain, local-plain:2, +2 more"
    for width in range(4, 60):
        line = targets_line(names, width)
        assert len(line) <= width and not line.endswith(",")
    assert targets_line(["a\x1b[31m"], 20) == "a\\x1b[31m"


def test_a_long_provider_name_is_cut_in_its_middle_so_similar_names_differ() -> None:
    from llmstream_tui.ui.format import fit_name

    assert fit_name("local-plain", 20) == "local-plain"
    a, b = fit_name("openai-chat:gpt-4o-mini", 12), fit_name("openai-chat:gpt-4o-nano", 12)
    assert a != b and len(a) == len(b) == 12 and "…" in a
    assert fit_name("abcdef", 2) == "ab"


def test_a_pane_of_a_wide_grid_wraps_metrics_between_figures_never_inside_one() -> None:
    """At 200x50 with the events log open a pane is ~52 columns: the gap percentiles are
    one figure, so ``p95`` never starts a line away from its ``gap`` label."""
    from llmstream_tui.ui.widgets.metrics_bar import MetricsBar

    bar = MetricsBar()
    bar.parts = metrics_parts(snapshot())
    lines = [line.plain for line in bar._lines(52)]
    assert len(lines) == 2
    assert all(len(line) <= 52 for line in lines)
    assert lines[1].startswith("gap p50/p95 12ms/40ms")
    assert not any(line.startswith("p95") for line in lines)
