"""``bench/compare_load.py`` keeps measuring what it says (a smoke run: one small level,
no judgement of speed): every request matched the server's stamps chunk for chunk, every
figure of the level is there and sane, the lag has its verdict against the gap, and the
two processes' clocks were checked to be one."""

from __future__ import annotations

import math

from bench import compare_load


def test_a_smoke_level_matches_every_chunk_to_its_send_stamp() -> None:
    rows = {(r.section, r.case): r for r in compare_load.run(smoke=True)}
    level = f"compare_load/c{compare_load.SMOKE_LEVELS[0]}"
    failed = rows[(level, "failed requests")]
    assert failed.value == 0, failed
    for case in ("lag p50", "lag p99", "lag max", "send lag p99", "send lag max"):
        row = rows[(level, case)]
        # a chunk stamped by the client before the server sent it would be a clock error
        assert math.isfinite(row.value) and row.value >= 0, row
    assert rows[(level, "lag p50")].value <= rows[(level, "lag max")].value
    for case in ("cpu per chunk", "cpu per stream", "peak RSS"):
        assert rows[(level, case)].value > 0, rows[(level, case)]
    growth = next(r for (s, c), r in rows.items() if s == level and c.startswith("RSS growth"))
    assert math.isfinite(growth.value) and "->" in growth.note
    verdict = rows[(level, "lag p99")].note
    assert ("small" in verdict) != ("DISTORTS" in verdict), verdict
    assert "CLOCK_MONOTONIC" in rows[("compare_load/clock", "perf_counter")].note
