"""``llmstream_tui.pytest_plugin``: the README's example suite, run by pytest inside pytest."""

from __future__ import annotations

import re
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: the inner runs: no cache, and not the app snapshot plugin (its session-end report shares
#: one temporary folder with the outer run's)
INNER = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot")
ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "tests" / "fixtures" / "recordings" / "two-panes.jsonl"


def readme_example() -> str:
    """The README's plugin example: the ```py block that uses ``stream_snapshot``."""
    blocks = re.findall(r"```py\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if "stream_snapshot" in b]
    return block


def test_plugin_is_registered_by_entry_point() -> None:
    plugins = {ep.value for ep in entry_points(group="pytest11")}
    assert "llmstream_tui.pytest_plugin" in plugins


def test_readme_example_stores_compares_and_catches_a_change(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    example = readme_example()
    pytester.makepyfile(test_streams=example)
    shutil.copy(RECORDING, pytester.path / "race.jsonl")

    stored = pytester.runpytest("--stream-snapshot-update", *INNER)
    stored.assert_outcomes(passed=1)
    snapshots = pytester.path / "__stream_snapshots__"
    (snapshot,) = (snapshots / "test_streams").glob("*.svg")
    assert "Snow" in snapshot.read_text(encoding="utf-8")

    # a second module, the same test, its stored picture no longer what the app draws
    pytester.makepyfile(test_changed=example)
    changed = snapshots / "test_changed" / snapshot.name
    changed.parent.mkdir()
    changed.write_text(snapshot.read_text(encoding="utf-8").replace("Snow", "Rain"))

    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=1, failed=1)  # test_streams matches, test_changed does not
    result.stdout.fnmatch_lines(
        [
            "*stream snapshot differs: test_race_looks_right.svg; --stream-snapshot-update*",
            f"stored:*{changed}",
            "new picture:*test_race_looks_right.svg",
        ]
    )
    assert (
        "test_changed.py F" in result.stdout.str()
        or "FAILED test_changed.py" in result.stdout.str()
    )
