"""fork_session: a new saved session with a copy of an old one's first turns."""

from __future__ import annotations

import pytest

from llmstream_tui.errors import RecordingError
from llmstream_tui.sessions.fork import fork_session
from llmstream_tui.sessions.history import History
from tests.sessions.test_history import save

SCRIPT = {"kind": "scripted", "chunks": ["Spark", "ling"]}


def test_a_fork_copies_the_turns_before_and_leaves_the_original_as_it_was() -> None:
    uid = save(["one", "two", "three"], [SCRIPT, "simulated:swift"], names=["a", "b"])
    with History() as history:
        before = history.load(uid)
        before_chunks = {(r.turn, r.provider): list(history.iter_chunks(r.id)) for r in before.runs}
    forked = fork_session(uid, 2)
    with History() as history:
        assert history.load(uid) == before
        fork = history.load(forked)
        assert fork.prompts == ["one", "two"]
        assert [p.name for p in fork.providers] == [p.name for p in before.providers]
        assert {(r.turn, r.provider) for r in fork.runs} == {
            (t, p) for t in (0, 1) for p in ("a", "b")
        }
        for run in fork.runs:
            assert list(history.iter_chunks(run.id)) == before_chunks[(run.turn, run.provider)]
            assert run.text == before.run(run.provider, run.turn).text  # type: ignore[union-attr]
    # the fork continues like any saved session
    save(["TWO"], [SCRIPT, "simulated:swift"], names=["a", "b"], session=forked)
    with History() as history:
        assert history.load(forked).prompts == ["one", "two", "TWO"]
        assert history.load(uid).prompts == ["one", "two", "three"]


def test_forking_an_unknown_session_is_one_line() -> None:
    save(["one"], [SCRIPT])
    with pytest.raises(RecordingError, match="no saved session nope to fork from"):
        fork_session("nope", 1)
    with History() as history:
        assert len(history.list_sessions()) == 1
