"""What every benchmark shares: alternating runs, medians, ratios, a table, JSON.

Every figure is the median of several runs, and the cases of one comparison run
alternately (A B C A B C ...) in the same process, so a machine that slows down part-way
slows every case alike and ratios stay honest.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One measured case: ``value`` in ``unit``; ``ratio`` against the section's baseline."""

    section: str
    case: str
    value: float
    unit: str
    ratio: float | None = None
    baseline: str | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def alternate(cases: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each case ``repeats`` times, interleaved; each call returns its own figure."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(fn())
    return samples


def rows_from(
    section: str,
    samples: dict[str, list[float]],
    unit: str,
    baseline: str,
    *,
    higher_is_better: bool = True,
    notes: dict[str, str] | None = None,
) -> list[Row]:
    """Median per case and its ratio to ``baseline`` (> 1 means better than the baseline
    when ``higher_is_better``, i.e. ratio = value / baseline for rates, baseline / value for
    times... both expressed so the table reads "x times the baseline")."""
    medians = {k: statistics.median(v) for k, v in samples.items()}
    base = medians[baseline]
    out = []
    for name, value in medians.items():
        ratio = value / base if base else None
        out.append(
            Row(
                section,
                name,
                value,
                unit,
                ratio,
                baseline,
                (notes or {}).get(name, ""),
                samples[name],
            )
        )
    return out


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "system": platform.system(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def format_table(rows: list[Row]) -> str:
    lines = [f"{'section':<14} {'case':<44} {'median':>14} {'unit':<10} {'ratio':>8}  vs"]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        value = f"{r.value:,.0f}" if r.value >= 100 else f"{r.value:.4g}"
        lines.append(
            f"{r.section:<14} {r.case:<44} {value:>14} {r.unit:<10} {ratio:>8}  "
            f"{r.baseline or ''} {r.note}"
        )
    return "\n".join(lines)


def write_json(rows: list[Row], name: str = "latest.json") -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(
        json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2),
        encoding="utf-8",
    )
    return path
