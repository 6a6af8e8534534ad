"""``bench/cli_process.py`` keeps measuring what it says (a smoke run: tiny sizes, no
judgement of speed): every case ran as its own process against the loopback server, every
figure has its ratio to the floor script, and each target row says met or missed."""

from __future__ import annotations

import math

from bench import cli_process


def test_every_case_ran_as_a_process_and_every_target_has_a_verdict() -> None:
    rows = {(r.section, r.case): r for r in cli_process.run(smoke=True)}
    for section, names in [
        ("cli/300 chunks", ["floor script", "history on", "--no-history"]),
        ("cli/start-up", ["floor script", "start-up", "start-up, loopback openai"]),
    ]:
        for name in names:
            for kind in ("cpu", "wall"):
                row = rows[(section, f"{name} ({kind})")]
                assert math.isfinite(row.value) and row.value > 0, row
                assert row.ratio is not None and row.ratio > 0, row
    verdicts = [r for r in rows.values() if r.note.startswith("target <= ")]
    assert {(r.section, r.case) for r in verdicts} == {
        ("cli/300 chunks", "history on (cpu)"),
        ("cli/300 chunks", "--no-history (cpu)"),
        ("cli/start-up", "start-up (wall)"),
    }
    assert all(("met" in r.note) != ("MISSED" in r.note) for r in verdicts)


def test_a_case_that_fails_says_why() -> None:
    import sys

    try:
        cli_process.run_child([sys.executable, "-c", "raise SystemExit('no server')"], {})
    except RuntimeError as exc:
        assert "exited 1" in str(exc) and "no server" in str(exc)
    else:
        raise AssertionError("a failing child was not reported")
