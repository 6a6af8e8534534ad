"""``stream --events`` with depths and ``stream --tree``, on real nested LangChain apps
loaded by the ``langchain`` kind (``-p langchain:MODULE:FACTORY()``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.test_cli import _isolated  # noqa: F401  # _isolated: autouse fixture
from tests.cli.test_cli import run as run_cli

PARALLEL = "langchain:tests.support.run_graphs:parallel()"
FAILING = "langchain:tests.support.run_graphs:failing()"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``stream ARGV`` in-process, kept out of the history."""
    return run_cli(["stream", "--no-history", *argv], capsys)


def test_events_v2_carry_each_runs_depth(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-p", PARALLEL, "--events", "v2", "two words"], capsys)
    assert code == 0
    events: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    depth = {e["run_id"]: e["depth"] for e in events}
    for e in events:
        assert e["depth"] == len(e["parent_ids"])  # v2: depth is the parents named
    starts = {e["name"]: e["depth"] for e in events if e["event"].endswith("_start")}
    assert starts["RunnableParallel<shout,answer>"] == 1 and starts["GenericFakeChatModel"] == 3
    assert starts["question"] == 1
    assert len(set(depth.values())) == 4


def test_events_v1_are_flat_under_the_root(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-p", PARALLEL, "--events", "v1", "two words"], capsys)
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    root = events[0]["run_id"]
    assert {e["depth"] for e in events} == {0, 1}
    assert all(e["depth"] == (0 if e["run_id"] == root else 1) for e in events)


def test_tree_prints_the_finished_tree_after_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-p", PARALLEL, "--tree", "two words"], capsys)
    assert code == 0
    answer, *tree = out.splitlines()
    assert answer == "TWO WORDS /a b c|"  # the root's output only, not the inner runs'
    shape = [(len(line) - len(line.lstrip()), line.split()[1]) for line in tree]
    assert shape == [
        (0, "RunnableSequence"),
        (2, "question"),
        (2, "RunnableParallel<shout,answer>"),
        (4, "gen"),
        (4, "RunnableSequence"),
        (6, "ChatPromptTemplate"),
        (6, "GenericFakeChatModel"),
        (6, "StrOutputParser"),
        (2, "join"),
    ]
    assert all(line.lstrip().startswith("✓ ") and "s " in line for line in tree)
    assert "×5" in tree[6]  # the model's five stream events


def test_tree_as_json_with_format_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-p", PARALLEL, "--tree", "--format", "jsonl", "two words"], capsys)
    assert code == 0
    record = json.loads(out.splitlines()[-1])
    assert record["type"] == "tree" and record["provider"] == PARALLEL
    (root,) = record["runs"]
    assert root["name"] == "RunnableSequence" and root["state"] == "done"
    assert [c["name"] for c in root["children"]] == [
        "question",
        "RunnableParallel<shout,answer>",
        "join",
    ]
    assert root["duration_s"] >= root["children"][1]["duration_s"] > 0


def test_a_failed_run_prints_its_tree_with_the_failure_marked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["-p", FAILING, "--tree", "x"], capsys)
    assert code == 1 and "no answer" in err
    tree = [line for line in out.splitlines() if line.strip()]
    assert [line.split()[:2] for line in tree] == [
        ["✗!", "RunnableSequence"],
        ["✓", "question"],
        ["✓", "ChatPromptTemplate"],
        ["✗", "boom"],
    ]
    assert "\x1b" not in out


def test_our_own_backend_prints_a_one_node_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-p", "scripted:x", "-p", "scripted:y", "--tree", "hi"], capsys)
    assert code == 0
    tree = [line for line in out.splitlines() if "chat_model" in line]
    assert sorted(line.split()[:3] for line in tree) == [
        ["[scripted:x]", "✓", "scripted:x"],
        ["[scripted:y]", "✓", "scripted:y"],
    ]


def test_a_recording_with_events_keeps_every_inner_runs_events(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """``--record`` with ``--events``: the inner runs' events are event lines of the
    recording (not the answer's chunks), as many as the CLI printed."""
    from llmstream_tui.core.recording import RecordingReader

    path = tmp_path / "run.jsonl"
    code, out, _ = run(
        ["-p", PARALLEL, "--events", "v2", "--record", str(path), "two words"], capsys
    )
    assert code == 0
    printed = [json.loads(line) for line in out.splitlines()]
    lines = list(RecordingReader(path))
    recorded = [x["event"] for x in lines if x["type"] == "event"]
    assert len(recorded) == len(printed)
    assert {e["name"] for e in recorded} >= {"GenericFakeChatModel", "question"}
    root = printed[0]["run_id"]
    chunks = [x["text"] for x in lines if x["type"] == "chunk"]
    root_chunks = [e for e in printed if e["event"] == "on_chain_stream" and e["run_id"] == root]
    assert len(chunks) == len(root_chunks)  # the answer is still the root's chunks only
