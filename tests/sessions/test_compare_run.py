"""sessions/compare_run.py: prompt sets, load shapes (closed loop, Poisson open loop,
sweeps, warm-up, limits) and cancellation, on offline providers."""

from __future__ import annotations

import asyncio
import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from llmstream_tui.errors import ConfigError
from llmstream_tui.sessions.compare_run import (
    CompareRun,
    LoadShape,
    PromptItem,
    RequestRun,
    builtin_prompts,
    load_prompts,
    poisson_arrivals,
    run_compare,
)

PROMPTS = [PromptItem("a", "alpha"), PromptItem("b", "beta"), PromptItem("c", "gamma")]


def scripted(ttft_ms: float = 0.0, **kw: Any) -> dict[str, Any]:
    return {"kind": "scripted", "chunks": ["one", " two", " three"], "ttft_ms": ttft_ms, **kw}


def max_overlap(run: CompareRun, provider: str) -> int:
    edges = sorted(
        (t, d)
        for r in run.records
        if r.provider == provider
        for t, d in ((r.start_s, 1), (r.end_s, -1))
    )
    depth = best = 0
    for _, d in edges:  # an end at the same instant as a start sorts first (-1 < 1)
        depth += d
        best = max(best, depth)
    return best


def test_jsonl_prompts_with_messages_params_and_ids(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    f.write_text(
        '{"id": "x", "prompt": "hi", "params": {"temperature": 0}}\n\n'
        '{"messages": [{"role": "user", "content": "yo"}]}\n',
        encoding="utf-8",
    )
    a, b = load_prompts(f)
    assert (a.id, a.input, dict(a.params)) == ("x", "hi", {"temperature": 0})
    assert (b.id, b.input, b.text) == ("3", [{"role": "user", "content": "yo"}], "yo")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ('{"prompt": "a", "messages": []}', "exactly one of"),
        ('{"prompt": "a", "temp": 1}', "unknown key 'temp'"),
        ('{"messages": [{"content": "no role"}]}', "'messages' must be"),
        ("[1, 2]", "a JSON object"),
    ],
)
def test_a_bad_prompt_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "set.jsonl"
    f.write_text('{"prompt": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_prompts(f)
    assert str(info.value).startswith(f"{f}:2: ")


def test_text_file_is_one_prompt_per_line_and_builtin_set_ships(tmp_path: Path) -> None:
    f = tmp_path / "set.txt"
    f.write_text("first prompt\n\n  second prompt  \n", encoding="utf-8")
    assert [(p.id, p.prompt) for p in load_prompts(f)] == [
        ("1", "first prompt"),
        ("3", "second prompt"),
    ]
    builtin = builtin_prompts()
    assert len(builtin) >= 10
    assert any(p.messages for p in builtin) and len({p.id for p in builtin}) == len(builtin)
    with pytest.raises(ConfigError, match="no prompts"):
        (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
        load_prompts(tmp_path / "empty.txt")


async def test_closed_loop_keeps_n_in_flight_per_provider_and_counts_after_warmup() -> None:
    shape = LoadShape(repeat=2, concurrency=3, warmup=2, seed=1)
    run = await run_compare(
        [("slow", scripted(30)), ("fast", scripted(5))], PROMPTS, shape, keep_chunks=True
    )
    assert run.levels == ["c3"] and run.planned[("slow", "c3")] == 6
    for name in ("slow", "fast"):
        mine = [r for r in run.records if r.provider == name]
        assert len(mine) == 6  # the 2 warm-up requests ran but are not counted
        assert sorted(r.prompt_id for r in mine) == ["a", "a", "b", "b", "c", "c"]
        assert all(r.ok and r.output_sequence_length == 3 for r in mine)
        assert max_overlap(run, name) == 3
    slow = [r.time_to_first_token for r in run.records if r.provider == "slow"]
    assert min(t for t in slow if t is not None) >= 0.03
    kept = run.requests[0].chunks
    assert [c[1] for c in kept] == ["one", " two", " three"] and kept[0][0] >= 0


async def test_same_seed_same_order_other_seed_other_order() -> None:
    prompts = [PromptItem(str(i), f"p{i}") for i in range(8)]

    async def order(seed: int) -> list[str]:
        run = await run_compare([("s", scripted())], prompts, LoadShape(seed=seed))
        return [r.prompt_id for r in run.records]

    first = await order(7)
    assert first == await order(7)
    assert first != await order(8)
    assert sorted(first) == sorted(p.id for p in prompts)


async def test_sweep_runs_one_level_after_another() -> None:
    run = await run_compare([("s", scripted(20))], PROMPTS, LoadShape(sweep=(1, 3), repeat=2))
    assert run.levels == ["c1", "c3"]
    assert max_overlap_level(run, "c1") == 1 and max_overlap_level(run, "c3") == 3
    c1_end = max(r.end_s for r in run.records if r.level == "c1")
    assert all(r.start_s >= c1_end for r in run.records if r.level == "c3")


def max_overlap_level(run: CompareRun, level: str) -> int:
    sub = CompareRun(requests=[q for q in run.requests if q.record.level == level])
    return max_overlap(sub, "s")


async def test_a_failing_provider_is_counted_by_kind_and_does_not_stop_the_others() -> None:
    run = await run_compare(
        [("bad", scripted(fail_at=1)), ("good", scripted())], PROMPTS, LoadShape(repeat=2)
    )
    bad = [r for r in run.records if r.provider == "bad"]
    good = [r for r in run.records if r.provider == "good"]
    assert len(bad) == len(good) == 6
    assert all(r.ok for r in good)
    assert all(not r.ok and r.error_kind for r in bad)
    assert all(r.error_message and r.error_message.startswith("bad: ") for r in bad)


def test_poisson_arrivals_have_exponential_gaps_at_the_rate() -> None:
    rate = 40.0
    gen = poisson_arrivals(rate, random.Random(1234))
    times = [next(gen) for _ in range(4000)]
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(1 / rate, rel=0.05)
    # exponential: standard deviation equals the mean, P(gap < mean) = 1 - 1/e
    assert statistics.pstdev(gaps) / mean == pytest.approx(1.0, abs=0.06)
    below = sum(g < 1 / rate for g in gaps) / len(gaps)
    assert below == pytest.approx(1 - 1 / 2.718281828, abs=0.03)
    # over 1 s windows the counts are Poisson: variance ~ mean ~ rate
    counts = [sum(1 for t in times if k <= t < k + 1) for k in range(int(times[-1]))]
    assert statistics.fmean(counts) == pytest.approx(rate, rel=0.05)
    assert statistics.pvariance(counts) / statistics.fmean(counts) == pytest.approx(1, abs=0.3)


async def test_open_loop_starts_requests_on_the_seeded_schedule_however_slow_they_are() -> None:
    # each request takes 150 ms; at 100/s a closed loop of 1 would need 3 s for 20
    shape = LoadShape(rate=100.0, max_requests=20, seed=3)
    run = await run_compare([("s", scripted(150))], PROMPTS, shape)
    starts = sorted(r.start_s for r in run.records)
    assert len(starts) == 20 and run.levels == ["r100"]
    assert starts[-1] - starts[0] < 1.0
    assert max_overlap(run, "s") >= 5
    # each request starts at its arrival (the runner's schedule: its seed and the name)
    gen = poisson_arrivals(100.0, random.Random("arrivals/3/s"))
    for start, due in zip(starts, [next(gen) for _ in range(20)], strict=True):
        assert due <= start < due + 0.15


async def test_duration_stops_new_requests_and_max_requests_caps_them() -> None:
    shape = LoadShape(duration=0.2, seed=0)
    run = await run_compare([("s", scripted(25))], PROMPTS, shape)
    assert 3 <= len(run.records) <= 9  # ~0.2 / 0.025, cycled past the 3 prompts
    assert all(r.start_s < 0.2 + 0.05 for r in run.records)
    capped = await run_compare([("s", scripted())], PROMPTS, LoadShape(repeat=5, max_requests=4))
    assert len(capped.records) == 4


async def test_cancel_keeps_the_requests_that_finished() -> None:
    run = CompareRun()
    three = asyncio.Event()

    def seen(done: RequestRun) -> None:
        if len(run.requests) == 3:
            three.set()

    task = asyncio.create_task(
        run_compare([("s", scripted(20))], PROMPTS, LoadShape(repeat=20), run=run, on_request=seen)
    )
    await three.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert run.interrupted and 3 <= len(run.requests) < 60
    assert all(r.record.ok and r.record.request_latency for r in run.requests)


def test_bad_load_shapes_are_config_errors() -> None:
    for kw, message in [
        ({"sweep": (1, 4), "rate": 2.0}, "cannot be combined"),
        ({"repeat": 0}, "--repeat"),
        ({"rate": 0.0}, "--rate"),
        ({"duration": -1.0}, "--duration"),
    ]:
        with pytest.raises(ConfigError, match=message):
            LoadShape(**kw)  # type: ignore[arg-type]


async def test_an_unexpected_exception_in_a_backend_is_that_requests_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmstream_tui.providers.scripted import ScriptedModel

    async def broken(self: Any, request: Any, ctx: Any) -> Any:
        if request is not None:  # always: the yield below only makes this a generator
            raise ZeroDivisionError("a bug in a plugin at http://me:hunter2@example.com/x")
        yield

    monkeypatch.setattr(ScriptedModel, "_astream", broken)
    run = await run_compare([("plugin", scripted())], PROMPTS, LoadShape(repeat=2))
    assert len(run.records) == 6
    assert {r.error_kind for r in run.records} == {"internal"}
    message = run.records[0].error_message or ""
    assert message.startswith("plugin: ZeroDivisionError") and "a bug in a plugin" in message
    assert "hunter2" not in message  # a foreign exception's URL credentials are masked


async def test_a_slow_rate_does_not_wait_past_the_duration_for_its_next_arrival() -> None:
    # at 0.2/s the arrivals are seconds apart; the level ends at its duration all the same
    started = asyncio.get_running_loop().time()
    run = await run_compare([("s", scripted())], PROMPTS, LoadShape(rate=0.2, duration=0.3))
    assert asyncio.get_running_loop().time() - started < 1.5
    assert len(run.records) <= 1


async def test_answers_are_kept_only_when_the_chunks_are() -> None:
    bare = await run_compare([("s", scripted())], PROMPTS, LoadShape())
    assert {r.text for r in bare.records} == {""} and bare.requests[0].chunks == []
    kept = await run_compare([("s", scripted())], PROMPTS, LoadShape(), keep_chunks=True)
    assert {r.text for r in kept.records} == {"one two three"}
