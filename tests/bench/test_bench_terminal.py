"""``bench/terminal.py`` measures what a terminal shows: the app in a real pty, read back.

Speed is not judged here (tiny sizes); these pin that the bench runs the app as a user does
and that what it times is on the screen: the read it takes for "last chunk visible" is the
first after which a terminal emulator (pyte) shows the last word, and a key it times is
the first read after which the prompt on the emulated screen holds it.
"""

from __future__ import annotations

import pytest
from bench.terminal import LAST_WORD, Capture, emulated_screen, first_read_with

from bench import terminal

pytestmark = pytest.mark.slow  # starts the app in a pseudo-terminal


def test_a_word_split_across_two_reads_is_found_in_the_second() -> None:
    capture = Capture(reads=[(1.0, b"\x1b[1mab ZZ"), (2.0, b"END\x1b[0m"), (3.0, b"ZZEND")])
    assert first_read_with(capture, (LAST_WORD,)) == (1, 2.0)
    assert first_read_with(capture, (LAST_WORD,), after=2.5) == (2, 3.0)
    assert first_read_with(capture, ("absent",)) is None


def test_a_key_counts_when_the_prompt_shows_every_key_typed_so_far() -> None:
    capture = Capture(
        reads=[(1.0, b"ctrl+q Quit"), (2.0, b"> QJ"), (3.0, b"> QJXZ")],
        keys=[(0.5, "Q"), (0.6, "J"), (1.5, "X"), (2.5, "Z")],
    )
    # Q and J are untimed (a Q alone is in the footer); X is not shown until 3.0
    assert terminal.key_latencies(capture) == [1.5, 0.5]


def test_last_chunk_read_is_when_the_emulated_screen_first_shows_it() -> None:
    size = (80, 24)
    result = terminal.ingest_once(2_000, size, history=True)
    capture = result.capture
    assert result.seconds >= 0 and result.process_cpu_s > 0
    assert 0 < result.first_read <= result.last_read < len(capture.reads)
    shown = emulated_screen(capture, size, result.last_read)
    assert any(LAST_WORD in line for line in shown), shown
    before = emulated_screen(capture, size, result.last_read - 1)
    assert not any(LAST_WORD in line for line in before), before
    first = emulated_screen(capture, size, result.first_read)
    assert any(w in line for line in first for w in terminal.FIRST_WORDS), first
    blank = emulated_screen(capture, size, result.first_read - 1)
    assert not any(w in line for line in blank for w in terminal.FIRST_WORDS), blank


def test_keys_typed_during_a_stream_are_timed_to_the_prompt_showing_them() -> None:
    latencies, typed = terminal.keys_once(20_000, (80, 24), 2 + terminal.UNTIMED)
    assert typed == 2 + terminal.UNTIMED
    assert len(latencies) == 2 and all(0 < x < 5 for x in latencies), latencies
