"""``python -m bench --smoke`` keeps working: every section runs and its figures are sane.

The smoke run uses tiny sizes, so nothing here judges speed; it pins that each benchmark
still measures what it says (every case ran and saw every chunk, every rate is positive,
every comparison got its ratio, every target its verdict), and that the README's figures
block is rewritten in place.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.__main__ import END, SECTIONS, START, update_readme
from bench.common import Row

from bench import wire

pytestmark = pytest.mark.slow  # the whole bench smoke run in a subprocess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One smoke run of every section, in a subprocess (as ``make bench`` runs it)."""
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        # a guard against a hang, not a speed check: the smoke run takes 40-60 s on a quiet
        # machine and twice that when the suite's other worker shares the two cores
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["stdout"] = done.stdout
    return data


def _rows(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [r for r in data["rows"] if r["section"].startswith(prefix)]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_every_section_ran_or_says_why_not(smoke: dict[str, Any]) -> None:
    assert smoke["failed"] == {}
    assert smoke["sections"] == list(SECTIONS)
    # only the UI section may be absent, and only while ui_ingest exposes no run(smoke)
    assert set(smoke["skipped"]) <= {"ui"}
    if "ui" in smoke["skipped"]:
        from bench import ui_ingest

        assert not hasattr(ui_ingest, "run"), smoke["skipped"]["ui"]
    else:
        assert _rows(smoke, "")
    for name in ("wire", "memory", "startup", "linearity"):
        assert name not in smoke["skipped"]
    assert smoke["machine"]["cpus"] and smoke["machine"]["smoke"] is True


def test_wire_has_every_family_framing_and_consumer(smoke: dict[str, Any]) -> None:
    lc = importlib.util.find_spec("langchain_openai") is not None
    for family in wire.FAMILIES:
        sdk = wire.BY_NAME[family].sdk_name
        for framing in wire.FRAMINGS:
            rows = {r["case"]: r for r in _rows(smoke, f"{family}/{framing}")}
            consumers = [wire.RAW, wire.FLOOR, wire.OURS, wire.OURS_EVENTS, sdk]
            if family == "openai":
                consumers.append(wire.OURS_STDLIB)
                if lc:
                    consumers += [wire.LC, wire.LC_EVENTS]
            for case in consumers:
                row = rows[case]
                assert row["unit"] == "chunks/s"
                assert _positive(row["value"]), row
                assert _positive(row["ratio"]) and row["baseline"] == wire.FLOOR, row
            assert rows[wire.FLOOR]["ratio"] == 1.0
            targets = [r for case, r in rows.items() if case.startswith("target ")]
            assert len(targets) == (5 if family == "openai" and lc else 3)
            for row in targets:
                assert _positive(row["value"]), row
                assert ": met" in row["note"] or ": MISSED" in row["note"], row


def test_memory_reports_retained_bytes_and_peak_rss_per_case(smoke: dict[str, Any]) -> None:
    from bench import memory

    rows = {r["case"]: r for r in _rows(smoke, "memory")}
    for case in memory.CASES:
        retained = rows[f"{case}, retained"]
        assert retained["unit"] == "B/chunk"
        assert math.isfinite(retained["value"]) and retained["value"] >= 0, retained
        assert retained["ratio"] is not None, retained  # against the text's own bytes
        peak = rows[f"{case}, peak RSS"]
        assert peak["unit"] == "MiB" and _positive(peak["value"]), peak
    # the core keeps the text it was asked to keep: at least the text's bytes
    assert rows["core, retained"]["ratio"] >= 1.0


def test_startup_times_are_positive_and_compared_with_import_textual(
    smoke: dict[str, Any],
) -> None:
    rows = {r["case"]: r for r in _rows(smoke, "startup")}
    assert set(rows) == {
        'python -c "import httpx"',
        'python -c "import textual"',
        "llmstream-tui stream (one chunk)",
        "app first frame (headless)",
    }
    for row in rows.values():
        assert row["unit"] == "s" and _positive(row["value"]), row
        assert _positive(row["ratio"]) and row["baseline"] == 'python -c "import textual"'


def test_linearity_gives_each_size_ratio_and_the_model_build_a_verdict(
    smoke: dict[str, Any],
) -> None:
    rows = _rows(smoke, "linearity")
    for name in ("sse one event", "ndjson one line"):
        sizes = [r for r in rows if r["case"].startswith(name)]
        assert len(sizes) == 2 and all(_positive(r["value"]) for r in sizes), sizes
        large = sizes[1]
        assert _positive(large["ratio"]) and large["baseline"] == sizes[0]["case"].split(", ")[1]
        assert ": met" in large["note"] or ": MISSED" in large["note"], large
    (build,) = [r for r in rows if r["case"] == "simulated model build"]
    assert build["unit"] == "ms" and _positive(build["value"])
    assert ": met" in build["note"] or ": MISSED" in build["note"], build


def test_printed_table_names_every_section_that_ran(smoke: dict[str, Any]) -> None:
    for section in {r["section"] for r in smoke["rows"]}:
        assert section in smoke["stdout"]


def test_update_readme_replaces_only_the_figures_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\nbefore\n{START}\nold figures\n{END}\nafter\n", encoding="utf-8")
    info = {
        "date": "today",
        "python": "3.11",
        "system": "Linux",
        "machine": "x86_64",
        "cpus": 2,
        "load_before": [1.5, 1.0, 0.5],
        "elapsed_s": 12.0,
    }
    update_readme([Row("wire", "a | b", 1234.5, "chunks/s", 1.5, "floor", "note")], info, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Bench\nbefore\n") and text.endswith(f"{END}\nafter\n")
    assert "old figures" not in text
    assert "| wire | a \\| b | 1,234 | chunks/s | 1.50x | vs floor; note |" in text
    assert "2 CPUs; load average 1.50 at the start" in text
