"""The ``replay`` kind: a recording streamed again through the Runnable interface.

Timing tolerance: each replayed inter-chunk gap (and the first chunk's time) is within
``GAP_TOLERANCE_S`` (20 ms) of the recorded one at speed 1, and of half of it at speed 2,
on a loaded 2-core machine. The recorded gaps are 50-90 ms so that a scheduler hiccup
cannot pass for a correct gap.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.core.messages import AIMessageChunk
from llmstream_tui.core.recording import dump_line, header, write_recording
from llmstream_tui.errors import ConfigError, ScriptedFailure, StreamTruncated
from llmstream_tui.providers.registry import build_llm
from llmstream_tui.providers.replay import ReplayModel, replay_tables
from tests.sessions.support import chunk_lines, lines_of, record_file
from tests.support.narrowing import chat_message, stream_chunks

GAP_TOLERANCE_S = 0.020

CHAT = {
    "kind": "scripted",
    "chunks": ["Spark", "ling", " water", ",", " oh", " so", " clear"],
    "ttft_ms": 80,
    "delay_ms": 60,
}
TEXT_LLM = {
    "kind": "scripted",
    "flavor": "llm",
    "chunks": ["a", "", "bc", "d\n", "e"],
    "ttft_ms": 50,
    "delay_ms": 90,
}
NAMES = ["chat", "text"]


@pytest.fixture(autouse=True)
def _data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real recording of two scripted providers with known timing (recorded once)."""
    path = tmp_path_factory.mktemp("rec") / "original.jsonl"
    record_file(path, "Write me a song", [CHAT, TEXT_LLM], names=NAMES)
    return path


def replay_of(original: Path, dest: Path, *, speed: float) -> Path:
    tables = [
        {"kind": "replay", "model": str(original), "provider": n, "speed": speed} for n in NAMES
    ]
    record_file(dest, "Write me a song", tables, names=NAMES)
    return dest


def shape(line: dict[str, Any]) -> dict[str, Any]:
    """A chunk or end line without its timing."""
    return {k: v for k, v in line.items() if k not in ("t", "metrics")}


def gaps(lines: list[dict[str, Any]]) -> list[float]:
    times = [0.0] + [x["t"] for x in lines]
    return [b - a for a, b in itertools.pairwise(times)]


def test_record_replay_record_round_trips_exactly(original: Path, tmp_path: Path) -> None:
    again = replay_of(original, tmp_path / "again.jsonl", speed=1)
    for name in NAMES:
        first, second = chunk_lines(original, name), chunk_lines(again, name)
        assert [shape(x) for x in second] == [shape(x) for x in first]
        assert len(first) == (7 if name == "chat" else 5)
        for recorded, replayed in zip(gaps(first), gaps(second), strict=True):
            assert abs(replayed - recorded) <= GAP_TOLERANCE_S, (name, recorded, replayed)
    ends = {x["provider"]: shape(x) for x in lines_of(original, "end")}
    assert {x["provider"]: shape(x) for x in lines_of(again, "end")} == ends
    assert ends["chat"]["text"] == "Sparkling water, oh so clear"
    assert ends["chat"]["finish_reason"] == "stop"


def test_recorded_gaps_are_what_the_provider_produced(original: Path) -> None:
    """The premise of the timing checks: the original really has 50-90 ms gaps."""
    chat = gaps(chunk_lines(original, "chat"))
    assert 0.075 <= chat[0] <= 0.080 + GAP_TOLERANCE_S
    assert all(0.055 <= g <= 0.060 + GAP_TOLERANCE_S for g in chat[1:])


def test_speed_two_halves_every_gap(original: Path, tmp_path: Path) -> None:
    fast = replay_of(original, tmp_path / "fast.jsonl", speed=2)
    for name in NAMES:
        first, second = chunk_lines(original, name), chunk_lines(fast, name)
        assert [x["text"] for x in second] == [x["text"] for x in first]
        for recorded, replayed in zip(gaps(first), gaps(second), strict=True):
            assert abs(replayed - recorded / 2) <= GAP_TOLERANCE_S, (name, recorded, replayed)


def test_speed_zero_ignores_timing_and_keeps_boundaries(original: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    flat = replay_of(original, tmp_path / "flat.jsonl", speed=0)
    assert time.perf_counter() - started < 0.3  # the recording itself lasts 0.5 s
    for name in NAMES:
        assert [shape(x) for x in chunk_lines(flat, name)] == [
            shape(x) for x in chunk_lines(original, name)
        ]


async def test_chat_replay_yields_the_same_message_chunks_as_the_original(original: Path) -> None:
    live = build_llm(CHAT | {"ttft_ms": 0, "delay_ms": 0})
    replay = build_llm(f"replay:{original}")
    assert isinstance(replay, ReplayModel) and replay.flavor == "chat"

    def keyed(chunks: list[AIMessageChunk]) -> list[tuple[Any, ...]]:
        return [
            (c.content, c.response_metadata, c.usage_metadata, c.chunk_position) for c in chunks
        ]

    assert keyed(await stream_chunks(replay, "x")) == keyed(await stream_chunks(live, "x"))


async def test_text_llm_replay_yields_strings_including_empty_ones(original: Path) -> None:
    replay = build_llm({"kind": "replay", "model": str(original), "provider": "text", "speed": 0})
    assert replay.flavor == "llm"
    assert [c async for c in replay.astream("x")] == ["a", "", "bc", "d\n", "e"]
    assert await replay.ainvoke("x") == "abcd\ne"


async def test_events_of_a_replay_carry_the_recorded_stop_reason(original: Path) -> None:
    replay = build_llm({"kind": "replay", "model": str(original), "speed": 0})
    events = [ev async for ev in replay.astream_events("x", version="v2")]
    assert [ev["event"] for ev in events[:2]] == ["on_chat_model_start", "on_chat_model_stream"]
    end = events[-1]["data"]["output"]
    assert isinstance(end, AIMessageChunk)
    assert end.content == "Sparkling water, oh so clear"
    assert end.response_metadata == {"finish_reason": "stop"}


# -- what a recording can hold -----------------------------------------------------------------


def _recording(
    path: Path, lines: list[dict[str, Any]], provider: str = "p", flavor: str = "chat"
) -> Path:
    write_recording(
        path,
        [
            {"type": "prompt", "turn": 0, "text": "q"},
            {"type": "provider", "provider": provider, "kind": "scripted", "flavor": flavor},
            {"type": "run", "provider": provider, "turn": 0},
            *lines,
        ],
    )
    return path


def test_reasoning_tool_calls_refusals_and_usage_round_trip(tmp_path: Path) -> None:
    chunks = [
        {
            "type": "chunk",
            "provider": "p",
            "index": 0,
            "t": 0.01,
            "text": "hmm",
            "channel": "reasoning",
        },
        {
            "type": "chunk",
            "provider": "p",
            "index": 1,
            "t": 0.02,
            "text": "",
            "channel": "tool_call",
            "tool_call": {"index": 0, "id": "c1", "name": "f", "args": '{"a"'},
        },
        {
            "type": "chunk",
            "provider": "p",
            "index": 2,
            "t": 0.03,
            "text": "",
            "channel": "tool_call",
            "tool_call": {"index": 0, "args": ": 1}"},
        },
        {"type": "chunk", "provider": "p", "index": 3, "t": 0.04, "text": "Answer"},
        {
            "type": "chunk",
            "provider": "p",
            "index": 4,
            "t": 0.05,
            "text": "no.",
            "channel": "refusal",
        },
        {
            "type": "chunk",
            "provider": "p",
            "index": 5,
            "t": 0.06,
            "text": "",
            "channel": "meta",
            "metadata": {"finish_reason": "end_turn", "model_name": "m1"},
            "usage": {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
        },
    ]
    end = {
        "type": "end",
        "provider": "p",
        "t": 0.07,
        "text": "Answer",  # the refusal is not content
        "finish_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
    }
    source = _recording(tmp_path / "rich.jsonl", [*chunks, end])
    again = tmp_path / "again.jsonl"
    record_file(again, "q", [{"kind": "replay", "model": str(source), "speed": 0}], names=["p"])
    assert [shape(x) for x in chunk_lines(again)] == [shape(x) for x in chunks]
    (end_again,) = lines_of(again, "end")
    assert shape(end_again) == shape(end)


def test_a_recorded_failure_is_raised_again_with_its_partial_text(tmp_path: Path) -> None:
    source = tmp_path / "fail.jsonl"
    failing = {
        "kind": "scripted",
        "chunks": ["x"] * 3000,
        "fail_at": 2500,
        "fail_with": "overloaded",
    }
    record_file(source, "q", [failing], names=["bad"])
    (error,) = lines_of(source, "error")
    assert error["error"]["kind"] == "scripted" and len(error["text"]) == 2500
    replay = build_llm(f"replay:{source}")
    with pytest.raises(ScriptedFailure) as exc:
        replay.invoke("q")
    assert exc.value.partial_text == "x" * 2500  # across the runnable's 1024-chunk blocks
    assert str(exc.value) == f"replay:{source}: overloaded"


async def test_an_interrupted_recording_replays_then_ends_truncated(tmp_path: Path) -> None:
    source = _recording(
        tmp_path / "cut.jsonl",
        [
            {"type": "chunk", "provider": "p", "index": 0, "t": 0.0, "text": "half"},
        ],
    )
    with source.open("ab") as fh:
        fh.write(b'{"type":"chunk","provider":"p","ind')  # the writer died mid-line
    replay = build_llm(f"replay:{source}")
    seen: list[str] = []
    with pytest.raises(StreamTruncated) as exc:
        async for chunk in replay.astream("q"):
            assert isinstance(chunk, AIMessageChunk)
            seen.append(chunk.content)
    assert seen == ["half"] and exc.value.partial_text == "half"
    assert "\n" not in str(exc.value) and "interrupted" in str(exc.value)


async def test_turn_option_plays_a_later_turn(tmp_path: Path) -> None:
    source = tmp_path / "turns.jsonl"
    write_recording(
        source,
        [
            {"type": "provider", "provider": "p", "kind": "scripted"},
            {"type": "prompt", "turn": 0, "text": "one"},
            {"type": "run", "provider": "p", "turn": 0},
            {"type": "chunk", "provider": "p", "index": 0, "t": 0.0, "text": "first"},
            {"type": "end", "provider": "p", "t": 0.0, "text": "first"},
            {"type": "prompt", "turn": 1, "text": "two"},
            {"type": "run", "provider": "p", "turn": 1},
            {"type": "chunk", "provider": "p", "index": 0, "t": 0.0, "text": "second"},
            {"type": "end", "provider": "p", "t": 0.0, "text": "second"},
        ],
    )
    replay = build_llm({"kind": "replay", "model": str(source), "turn": 1, "speed": 0})
    assert chat_message(await replay.ainvoke("two")).content == "second"
    assert replay_tables(str(source), turn=1)[0] == "two"


def test_replay_tables_name_one_table_per_recorded_provider(original: Path) -> None:
    prompt, tables = replay_tables(str(original), speed=3)
    assert prompt == "Write me a song"
    assert list(tables) == NAMES
    assert tables["text"] == {
        "kind": "replay",
        "model": str(original),
        "speed": 3,
        "provider": "text",
        "turn": 0,
    }


def test_path_with_an_at_sign_is_kept_whole(tmp_path: Path, original: Path) -> None:
    odd = tmp_path / "me@host.jsonl"
    odd.write_bytes(original.read_bytes())
    assert build_llm(f"replay:{odd}").ainvoke  # built: the path was not split at "@"
    assert isinstance(build_llm(f"replay:{odd}"), ReplayModel)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("replay:{dir}/missing.jsonl", "no such recording"),
        ("replay:", "needs a recording"),
    ],
)
def test_bad_reference_is_a_one_line_config_error(tmp_path: Path, ref: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        build_llm(ref.format(dir=tmp_path))
    assert expected in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_provider_error_lists_what_the_recording_has(original: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        build_llm({"kind": "replay", "model": str(original), "provider": "nope"})
    assert "no provider 'nope'" in str(exc.value) and "chat, text" in str(exc.value)


async def test_speed_zero_still_lets_the_event_loop_run(tmp_path: Path) -> None:
    source = _recording(
        tmp_path / "many.jsonl",
        [{"type": "chunk", "provider": "p", "index": i, "t": 0.0, "text": "x"} for i in range(5000)]
        + [{"type": "end", "provider": "p", "t": 0.0, "text": "x" * 5000}],
    )
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    replay = build_llm({"kind": "replay", "model": str(source), "speed": 0})
    n = sum([1 async for _ in replay.astream("q")])
    during = ticks - before
    task.cancel()
    assert n == 5001  # 5000 chunks and the closing one
    assert during >= 4  # a turn every 1024 chunks


# -- memory ------------------------------------------------------------------------------------


def _big_recording(path: Path, n: int) -> int:
    """``n`` chunk lines written in bulk (as our writer would write them); returns the size."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(dump_line(header()) + "\n")
        fh.write(
            dump_line({"type": "provider", "provider": "big", "kind": "scripted", "flavor": "llm"})
            + "\n"
        )
        fh.write('{"type":"run","provider":"big","turn":0}\n')
        step = 50_000
        for start in range(0, n, step):
            fh.write(
                "".join(
                    f'{{"type":"chunk","provider":"big","index":{i},"t":{i / n:.6f},'
                    f'"text":"w{i % 10} "}}\n'
                    for i in range(start, min(n, start + step))
                )
            )
        fh.write('{"type":"end","provider":"big","t":1.0,"text":"","finish_reason":"stop"}\n')
    return path.stat().st_size


@pytest.mark.slow
async def test_replay_memory_does_not_grow_with_the_recording(tmp_path: Path) -> None:
    """tracemalloc peak while replaying 50,000 chunks: the text kept (150 kB) plus a
    constant (measured ~80 kB), far below the file (3.7 MB). (tracemalloc makes a
    1,000,000-chunk replay take 20 s, so the million is measured below by RSS.)"""
    path = tmp_path / "50k.jsonl"
    size = _big_recording(path, 50_000)
    replay = build_llm({"kind": "replay", "model": str(path), "speed": 0})
    n = 0
    tracemalloc.start()
    try:
        async for _ in replay.astream("go"):
            n += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 50_000
    text = 50_000 * 3  # kept by the runnable for partial_text; nothing else per chunk
    assert peak < text + 150_000 and peak < size / 10, (peak, size)


_MILLION = """
import asyncio, json, resource, sys
from llmstream_tui.providers.registry import build_llm
llm = build_llm({"kind": "replay", "model": sys.argv[1], "speed": 0})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
async def main():
    n = 0
    async for _ in llm.astream("go"):
        n += 1
    return n
n = asyncio.run(main())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"chunks": n, "growth_kb": after - before}))
"""


@pytest.mark.slow
def test_million_chunk_recording_replays_in_bounded_memory(tmp_path: Path) -> None:
    """A real process replays 1,000,000 chunks at speed 0; its peak resident memory grows by
    far less than the file (75 MB): the text kept for partial_text (3 MB) and a constant."""
    path = tmp_path / "1m.jsonl"
    size = _big_recording(path, 1_000_000)
    out = subprocess.run(
        [sys.executable, "-c", _MILLION, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["chunks"] == 1_000_000
    assert result["growth_kb"] * 1024 < size / 8, (result, size)
