"""The recording format: header, writer guarantees, streaming reader, bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from llmstream_tui.core.recording import (
    FORMAT,
    MAX_PROBLEMS,
    VERSION,
    RecordingReader,
    RecordingWriter,
    dump_line,
    write_recording,
)
from llmstream_tui.core.recording_lines import describe_provider
from llmstream_tui.errors import RecordingError
from llmstream_tui.providers.registry import validate_table
from llmstream_tui.providers.spec import ProviderSpec

#: Annotated: the lines' values differ in type, so mypy would infer ``list[object]``.
RUN: list[dict[str, object]] = [
    {"type": "prompt", "turn": 0, "text": "hi"},
    {"type": "provider", "provider": "a", "kind": "scripted"},
    {"type": "run", "provider": "a", "turn": 0},
    {"type": "chunk", "provider": "a", "index": 0, "t": 0.1, "text": "Hel"},
    {"type": "chunk", "provider": "a", "index": 1, "t": 0.2, "text": "lo"},
    {"type": "end", "provider": "a", "t": 0.3, "text": "Hello", "finish_reason": "stop"},
]


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    write_recording(path, lines)
    return path


def one_line_error(exc: pytest.ExceptionInfo[RecordingError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


def test_header_is_the_first_line_and_names_format_and_version(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", RUN)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert list(first)[:2] == ["format", "version"]
    assert first["format"] == FORMAT == "llmstream-recording" and first["version"] == VERSION == 1
    assert RecordingReader(path).header == first


def test_every_line_is_one_json_object_ending_in_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", [*RUN, {"type": "prompt", "turn": 1, "text": "a\nb"}])
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == len(RUN) + 2
    assert [json.loads(line)["type"] for line in raw.splitlines()[1:]][-1] == "prompt"


def test_reader_yields_lines_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", RUN)
    reader = RecordingReader(path)
    assert list(reader) == RUN
    assert reader.problem_count == 0 and reader.problem_summary() is None


def test_writer_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("precious\n", encoding="utf-8")
    with pytest.raises(RecordingError) as exc:
        RecordingWriter(path)
    assert "already exists" in one_line_error(exc)
    assert path.read_text(encoding="utf-8") == "precious\n"


def test_writer_overwrites_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text("old\n", encoding="utf-8")
    write_recording(path, RUN, overwrite=True)
    assert list(RecordingReader(path)) == RUN


def test_writer_flushes_each_write_to_the_os(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path)
    writer.write(RUN[:2])
    # Still open: what was written is already readable by another reader.
    assert list(RecordingReader(path)) == RUN[:2]
    writer.close()


def test_lone_surrogates_in_model_text_survive_as_escapes(tmp_path: Path) -> None:
    text = "bad \ud800 half"
    line = dump_line({"type": "chunk", "text": text})
    line.encode("utf-8")
    path = write(
        tmp_path / "r.jsonl",
        [{"type": "chunk", "provider": "a", "index": 0, "t": 0.0, "text": text}],
    )
    assert [x["text"] for x in RecordingReader(path)] == [text]


def test_non_ascii_is_written_as_utf8_not_escapes(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", [{"type": "prompt", "turn": 0, "text": "thé 🍵"}])
    assert "thé 🍵" in path.read_text(encoding="utf-8")


# -- bad files ---------------------------------------------------------------------------------


def test_torn_last_line_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", RUN)
    with path.open("ab") as fh:
        fh.write(b'{"type":"chunk","provider":"a","index":2,"t":0.4,"te')
    reader = RecordingReader(path)
    assert list(reader) == RUN
    assert reader.torn and reader.problem_count == 1
    summary = reader.problem_summary()
    assert summary is not None and "\n" not in summary
    assert "line 8" in summary and "cut short" in summary


def test_corrupt_middle_line_is_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", RUN)
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(3, b"\x00\xff garbage }\n")
    lines.insert(5, b"[1, 2]\n")
    path.write_bytes(b"".join(lines))
    reader = RecordingReader(path)
    assert list(reader) == RUN
    assert reader.problem_count == 2 and not reader.torn
    assert "line 4 is not valid JSON" in reader.problems[0]
    assert "line 6 is not a recording line" in reader.problems[1]


def test_problems_kept_are_bounded_but_all_are_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "r.jsonl", RUN)
    with path.open("ab") as fh:
        fh.write(b"nope\n" * 500)
    reader = RecordingReader(path)
    assert list(reader) == RUN
    assert reader.problem_count == 500 and len(reader.problems) == MAX_PROBLEMS
    assert "(and 499 more problems)" in (reader.problem_summary() or "")


def test_unknown_line_types_and_keys_are_kept_for_the_caller_to_ignore(tmp_path: Path) -> None:
    future: dict[str, object] = {
        "type": "annotation",
        "provider": "a",
        "note": "from a newer minor writer",
    }
    path = write(tmp_path / "r.jsonl", [*RUN[:3], future, *RUN[3:]])
    reader = RecordingReader(path)
    assert future in list(reader)
    assert [x["text"] for x in reader.run_lines("a") if x["type"] == "chunk"] == ["Hel", "lo"]


def test_unknown_version_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"format": FORMAT, "version": 99}) + "\n", encoding="utf-8")
    with pytest.raises(RecordingError) as exc:
        RecordingReader(path)
    message = one_line_error(exc)
    assert "version 99" in message and "reads version 1" in message and str(path) in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b'{"hello": "world"}\n', "not an llmstream recording"),
        (b"# a markdown file\n\nhello\n", "not an llmstream recording"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an llmstream recording"),
        (b'{"format":"llmstream-recording","vers', "cut short"),
    ],
    ids=["empty", "blank", "foreign-json", "text", "binary", "torn-header"],
)
def test_empty_foreign_or_torn_header_is_a_one_line_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as exc:
        RecordingReader(path)
    assert expected in one_line_error(exc)
    assert path.read_bytes() == content  # nothing rewritten


def test_missing_file_and_directory_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordingError) as exc:
        RecordingReader(tmp_path / "nope.jsonl")
    assert "no such recording" in one_line_error(exc)
    with pytest.raises(RecordingError) as exc:
        RecordingReader(tmp_path)
    assert "directory" in one_line_error(exc)


# -- views -------------------------------------------------------------------------------------


def test_index_lists_prompts_providers_and_how_runs_ended(tmp_path: Path) -> None:
    lines: list[dict[str, object]] = [
        *RUN,
        {"type": "provider", "provider": "b", "kind": "scripted"},
        {"type": "run", "provider": "b", "turn": 0},
        {"type": "chunk", "provider": "b", "index": 0, "t": 0.1, "text": "x"},
        {"type": "error", "provider": "b", "t": 0.2, "text": "x", "error": {"kind": "timeout"}},
        {"type": "prompt", "turn": 1, "text": "again"},
        {"type": "run", "provider": "a", "turn": 1},
        {"type": "chunk", "provider": "a", "index": 0, "t": 0.1, "text": "y"},
    ]
    index = RecordingReader(write(tmp_path / "r.jsonl", lines)).index()
    assert index.prompts == ["hi", "again"]
    assert list(index.providers) == ["a", "b"]
    assert index.runs == {("a", 0): "done", ("b", 0): "error", ("a", 1): "interrupted"}
    assert index.chunks == {("a", 0): 2, ("b", 0): 1, ("a", 1): 1}


def test_run_lines_follow_interleaved_providers_and_turns(tmp_path: Path) -> None:
    lines: list[dict[str, object]] = [
        {"type": "run", "provider": "a", "turn": 0},
        {"type": "run", "provider": "b", "turn": 0},
        {"type": "chunk", "provider": "b", "index": 0, "t": 0.1, "text": "B0"},
        {"type": "chunk", "provider": "a", "index": 0, "t": 0.1, "text": "A0"},
        {"type": "end", "provider": "a", "t": 0.2, "text": "A0"},
        {"type": "run", "provider": "a", "turn": 1},
        {"type": "chunk", "provider": "a", "index": 0, "t": 0.1, "text": "A1"},
        {"type": "end", "provider": "b", "t": 0.2, "text": "B0"},
        {"type": "end", "provider": "a", "t": 0.2, "text": "A1"},
    ]
    reader = RecordingReader(write(tmp_path / "r.jsonl", lines))
    assert [x.get("text") for x in reader.run_lines("a", 0)] == ["A0", "A0"]
    assert [x.get("text") for x in reader.run_lines("a", 1)] == ["A1", "A1"]
    assert [x.get("text") for x in reader.run_lines("b", 0)] == ["B0", "B0"]
    assert list(reader.run_lines("c", 0)) == []


# -- provider descriptions ---------------------------------------------------------------------


class _SecretiveSpec(ProviderSpec):
    kind: Literal["secretive"] = "secretive"
    api_key: str = "sk-inline-secret"
    client_kwargs: dict[str, object] = Field(
        default_factory=lambda: {"auth_token": "tok-secret", "retries": 3}
    )
    max_tokens_hint: int = 7


def test_description_keeps_the_key_variable_name_never_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_KEY_VAR", "sk-canary-value")
    spec = validate_table(
        {
            "kind": "scripted",
            "model": "m",
            "base_url": "http://h/sk-canary-value",
            "api_key_env": "MY_KEY_VAR",
            "headers": {"Authorization": "Bearer sk-canary-value"},
            "params": {"temperature": 0.5},
            "fail_with": "sk-canary-value leaked?",
        }
    )
    line = describe_provider("p", spec, flavor="chat")
    text = json.dumps(line)
    assert "sk-canary-value" not in text
    assert line["api_key_env"] == "MY_KEY_VAR" and line["headers"] == ["Authorization"]
    assert line["params"] == {"temperature": 0.5} and line["kind"] == "scripted"
    assert line["options"]["fail_with"] == "[redacted] leaked?"


def test_description_drops_option_names_that_look_secret() -> None:
    line = describe_provider("p", _SecretiveSpec())
    text = json.dumps(line)
    assert "sk-inline-secret" not in text and "tok-secret" not in text
    assert line["options"]["client_kwargs"] == {"retries": 3}
    assert line["options"]["max_tokens_hint"] == 7
