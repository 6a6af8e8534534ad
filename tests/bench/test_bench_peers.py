"""bench/peers.py without installing anything: a peer that cannot be installed or run is a
row saying why, and the ratios are the peer's median over ours.

The "peers" here are small scripts run with the project's interpreter, reading the bench's
own loopback stream (127.0.0.1) with urllib; pip is replaced by a fake runner.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.common import format_table

from bench import peers

# Reads the stream and prints each chunk's text; ``rounds`` > 1 parses the body again (more
# CPU, the same output), so its CPU time is clearly above one round's.
READER = """
import json, sys, urllib.request
rounds = int(sys.argv[2])
req = urllib.request.Request(sys.argv[1] + "/chat/completions", data=b"{}", method="POST")
body = urllib.request.urlopen(req).read().decode()
for r in range(rounds):
    text = []
    for line in body.splitlines():
        if line.startswith("data: {"):
            for c in json.loads(line[6:])["choices"]:
                text.append(c["delta"].get("content") or "")
sys.stdout.write("".join(text))
"""


def _reader(rounds: int, name: str) -> peers.Peer:
    def argv(python: Path, url: str, home: Path) -> list[str]:
        return [str(python), "-S", "-c", READER, f"{url}/v1", str(rounds)]

    return peers.Peer(name, (), argv)


def _failing_pip(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement nosuchpeer\n"
        "ERROR: No matching distribution found for nosuchpeer\n"
    )
    if "venv" in cmd:
        return subprocess.CompletedProcess(cmd, 0, "", "")
    return subprocess.CompletedProcess(cmd, 1, "", stderr)


def test_a_peer_pip_cannot_install_is_skipped_with_pips_last_error(tmp_path: Path) -> None:
    peer = peers.Peer("nosuchpeer", ("nosuchpeer",), lambda p, u, h: [])
    got = peers.install(peer, cache=tmp_path, run=_failing_pip)
    assert isinstance(got, peers.Skipped)
    assert got.reason == (
        "pip install nosuchpeer failed (exit 1): "
        "ERROR: No matching distribution found for nosuchpeer"
    )
    assert not (tmp_path / "nosuchpeer" / ".peer-installed").exists()


def test_an_installed_peer_is_taken_from_the_cache_without_pip(tmp_path: Path) -> None:
    peer = peers.Peer("cached", ("cached-peer==1.0",), lambda p, u, h: [])
    (tmp_path / "cached").mkdir()
    (tmp_path / "cached" / ".peer-installed").write_text("cached-peer==1.0\n", encoding="utf-8")

    def no_pip(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        raise AssertionError(f"ran {cmd}")

    assert peers.install(peer, cache=tmp_path, run=no_pip) == tmp_path / "cached/bin/python"


def test_skipped_and_failing_peers_are_rows_that_say_why_and_ratios_are_peer_over_ours() -> None:
    fast, slow = _reader(1, "ours"), _reader(20, "slow peer")
    broken = peers.Peer(
        "broken peer", (), lambda p, u, h: [str(p), "-S", "-c", "import sys; sys.exit('boom: 500')"]
    )
    partial = peers.Peer("partial peer", (), lambda p, u, h: [str(p), "-S", "-c", "print('The')"])
    absent = peers.Peer("absent peer", ("nosuchpeer",), lambda p, u, h: [])
    group = (fast, slow, broken, partial, absent)
    installed: dict[str, Path | peers.Skipped] = {p.name: Path(sys.executable) for p in group}
    installed["absent peer"] = peers.Skipped("pip install nosuchpeer failed (exit 1): ERROR: x")

    rows = peers.measure_cli(group, 1_000, 2, installed, baseline="ours")

    by = {(r.case, r.unit): r for r in rows}
    assert {r.section for r in rows} == {"peers/1,000"}
    for unit in ("CPU s", "wall s"):
        ours, other = by["ours", unit], by["slow peer", unit]
        assert ours.ratio == 1.0 and len(ours.samples) == 2
        assert other.ratio == pytest.approx(other.value / ours.value)
        assert other.baseline == "ours"
        assert by["broken peer", unit].note == "skipped: exit 1: boom: 500"
        assert by["partial peer", unit].note == "skipped: the output lacks the stream's last chunk"
        assert by["absent peer", unit].note.startswith("skipped: pip install nosuchpeer failed")
        for name in ("broken peer", "partial peer", "absent peer"):
            assert math.isnan(by[name, unit].value) and by[name, unit].ratio is None
    assert by["slow peer", "CPU s"].ratio is not None and by["slow peer", "CPU s"].ratio > 1.0
    assert "skipped: exit 1: boom: 500" in format_table(rows)


def test_the_stream_ends_with_the_marker_after_all_its_chunks() -> None:
    body = peers.openai_body(50).decode()
    assert body.count('"content":') == 51  # the role chunk, 49 words, the marker
    assert body.index(peers.MARKER) > body.rindex('"content":" quick"')
    assert body.rstrip().endswith("0")
    lines = peers.ollama_body(50).decode()
    assert lines.count('"done":false') == 50 and lines.index(peers.MARKER) < lines.index(
        '"done":true'
    )


def test_a_tui_skip_reason_quotes_the_screens_words_not_its_box_lines() -> None:
    screen = "│ the quick brown │\n╰──────────────────╯\n  ╭─ Enter your message… ─╮\n│      │\n"
    assert peers._last_words(screen) == "the quick brown / Enter your message…"
