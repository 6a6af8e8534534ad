"""CLI conventions (issue 16): unknown commands, the app's terminal check, exit codes, the
options ``llm`` users reach for, ``models``, ``providers --check``, missing keys, history."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from llmstream_tui.cli import main
from tests.support.loopback import LoopbackServer, RecordedRequest, Reply


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """argparse's exit 2; its message."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


# -- unknown words and the app -----------------------------------------------------------------


def test_a_misspelt_command_is_an_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["strem", "hi"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown command 'strem'" in err
    assert "did you mean 'stream'?" in err


def test_a_word_far_from_every_command_names_the_explicit_app_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(["hello there"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "did you mean" not in err and "llmstream-tui app PROMPT" in err


def _fake_app(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_app(settings: Any, *, providers: Any = None, prompt: Any = None) -> int:
        calls.append({"providers": providers, "prompt": prompt})
        return 0

    monkeypatch.setattr("llmstream_tui.ui.app.run_app", run_app)
    monkeypatch.setattr("llmstream_tui.cli.terminal_problem", lambda: None)
    return calls


def test_a_prompt_after_a_provider_or_app_opens_the_app_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _fake_app(monkeypatch)
    assert main(["-p", "swift", "strem hi"]) == 0
    assert main(["app", "-p", "swift", "write a haiku"]) == 0
    assert main(["app", "write a haiku"]) == 0
    assert main([]) == 0
    assert calls == [
        {"providers": ["swift"], "prompt": "strem hi"},
        {"providers": ["swift"], "prompt": "write a haiku"},
        {"providers": None, "prompt": "write a haiku"},
        {"providers": None, "prompt": None},
    ]


@pytest.mark.parametrize("argv", [[], ["app"], ["-p", "swift", "hi"]])
def test_the_app_refuses_to_start_without_a_terminal(tmp_path: Path, argv: list[str]) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "needs a terminal" in proc.stderr
    assert time.monotonic() - started < 10  # a second of its own; the rest is Python starting


def test_replay_without_a_terminal_plays_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.jsonl"
    argv = ["stream", "-p", "scripted:x", "--no-history", "--record", str(path), "hi"]
    assert run(argv, capsys)[0] == 0
    proc = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", "replay", str(path), "--speed", "0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Spark|ling| water|") and "\x1b[" not in proc.stdout
    assert "needs a terminal" in proc.stderr and "replaying here" in proc.stderr


def test_an_explicit_textual_driver_lets_the_app_start_over_pipes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []

    def run_app(settings: Any, **kw: Any) -> int:
        calls.append(kw)
        return 0

    monkeypatch.setattr("llmstream_tui.ui.app.run_app", run_app)
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert main(["app"]) == 0 and calls == [{"providers": None, "prompt": None}]
    monkeypatch.delenv("TEXTUAL_DRIVER")
    assert main(["app"]) == 2 and len(calls) == 1


# -- exit codes ----------------------------------------------------------------------------------


def test_an_unknown_provider_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["stream", "-p", "nope", "hi"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "unknown provider 'nope'" in err


def test_a_misspelt_provider_name_gets_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.gpt4o]\nkind = "scripted"\n')
    code, _, err = run(["stream", "--config", str(cfg), "-m", "gpt4", "hi"], capsys)
    assert code == 2 and err.count("\n") == 1 and err.endswith("; did you mean 'gpt4o'?\n")


def test_a_missing_replay_file_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["stream", "-p", f"replay:{tmp_path}/none.jsonl", "hi"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "no such recording" in err
    code, _, err = run(["replay", str(tmp_path / "none.jsonl")], capsys)
    assert code == 2 and "no such recording" in err


# -- the options llm users reach for --------------------------------------------------------------

ANSWER = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
]


def _chat_sse() -> Reply:
    return Reply.sse("".join(f"data: {x}\n\n" for x in [*map(json.dumps, ANSWER), "[DONE]"]))


def _completion_json() -> Reply:
    return Reply.json(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Whole"}}]}
    )


def _reply(request: RecordedRequest) -> Reply:
    if request.route.endswith("/models"):
        return Reply.json({"data": [{"id": "m1"}, {"id": "m2"}]})
    body = request.json()
    return _chat_sse() if body.get("stream") else _completion_json()


async def _cli(server: LoopbackServer, argv: list[str], config: Path | None = None) -> int:
    cfg = ["--config", str(config)] if config else []
    code: int = await asyncio.to_thread(main, [argv[0], *cfg, *argv[1:]])
    return code


def _local(server: LoopbackServer) -> str:
    return f"openai-chat:m1@{server.url}/v1"


async def test_system_and_options_go_into_the_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with LoopbackServer(_reply) as server:
        argv = ["stream", "-m", _local(server), "-s", "be brief", "-o", "temperature", "0.2"]
        code = await _cli(server, [*argv, "-o", "max_tokens", "9", "hi"])
    assert code == 0 and capsys.readouterr().out == "Hel|lo|\n"
    body = server.requests[0].json()
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert body["temperature"] == 0.2 and body["max_completion_tokens"] == 9


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["-o", "temprature", "1"], "-o temprature: unknown parameter (one of max_tokens, seed, "),
        (["-o", "max_tokens", "many"], "-o max_tokens: "),
        (["-o", "max_tokens", "0"], "-o max_tokens: "),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["stream", "-p", "scripted:x", *option, "hi"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


async def test_no_stream_asks_for_one_whole_answer(capsys: pytest.CaptureFixture[str]) -> None:
    async with LoopbackServer(_reply) as server:
        code = await _cli(
            server, ["stream", "--no-history", "-p", _local(server), "--no-stream", "hi"]
        )
    assert code == 0 and capsys.readouterr().out == "Whole|\n"
    assert server.requests[0].json().get("stream") in (False, None)


@pytest.fixture
def pipe_stdin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Makes stdin a real pipe holding the text given, its writing end closed."""
    opened: list[TextIO] = []

    def make(text: str) -> None:
        read_fd, write_fd = os.pipe()
        os.write(write_fd, text.encode())
        os.close(write_fd)
        opened.append(open(read_fd, encoding="utf-8"))  # noqa: SIM115  # closed at teardown
        monkeypatch.setattr("sys.stdin", opened[-1])

    yield make
    for f in opened:
        f.close()


async def test_piped_stdin_and_the_prompt_are_sent_together(
    pipe_stdin: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    pipe_stdin("line one\nline two\n")
    async with LoopbackServer(_reply) as server:
        code = await _cli(server, ["stream", "-p", _local(server), "summarise this"])
    assert code == 0
    user = server.requests[0].json()["messages"][-1]
    assert user == {"role": "user", "content": "line one\nline two\n\nsummarise this"}


def test_empty_stdin_is_an_error(
    pipe_stdin: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    pipe_stdin("")
    code, out, err = run(["stream", "-p", "scripted:x", "-"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "stdin is empty" in err
    pipe_stdin("")
    code, out, err = run(["stream", "-p", "scripted:x"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no prompt" in err


def test_continue_and_session_carry_the_conversation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["stream", "-p", "scripted:x", "first question"], capsys)[0] == 0
    code, out, _ = run(["history", "--json"], capsys)
    (first,) = [json.loads(line) for line in out.splitlines()]
    assert run(["stream", "-p", "scripted:x", "-c", "second question"], capsys)[0] == 0
    code, out, _ = run(["history", "--json"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [first["id"]] and rows[0]["turns"] == 2
    assert run(["stream", "--session", str(first["id"]), "third"], capsys)[0] == 0
    code, out, _ = run(["export", str(first["id"])], capsys)
    assert "second question" in out and "third" in out
    code, out, _ = run(["history", "--json"], capsys)
    assert [json.loads(line)["turns"] for line in out.splitlines()] == [3]
    code, _, err = run(["stream", "--session", "999", "x"], capsys)
    assert code == 2 and err.count("\n") == 1 and "999" in err


# -- models, providers --check, keys ----------------------------------------------------------------


async def test_models_lists_what_the_server_offers(capsys: pytest.CaptureFixture[str]) -> None:
    async with LoopbackServer(_reply) as server:
        code = await _cli(server, ["models", "-p", _local(server)])
    assert code == 0 and capsys.readouterr().out == "m1\nm2\n"


def test_models_of_a_kind_that_cannot_list_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["models", "-p", "scripted:x"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "cannot list models" in err and "scripted" in err


async def test_providers_check_fails_when_the_model_is_not_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with LoopbackServer(_reply) as server:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.served]\nkind = "openai-chat"\nmodel = "m2"\nbase_url = "{server.url}/v1"\n'
            f'[providers.gone]\nkind = "openai-chat"\nmodel = "m9"\nbase_url = "{server.url}/v1"\n'
        )
        code = await _cli(server, ["providers", "--check"], cfg)
    out = capsys.readouterr().out
    assert code == 1
    served = next(line for line in out.splitlines() if line.startswith("served"))
    gone = next(line for line in out.splitlines() if line.startswith("gone"))
    assert "ok" in served and "model 'm9' is not served" in gone
    assert out.splitlines()[0].split() == ["NAME", "KIND", "MODEL", "BASE_URL", "CHECK"]


async def test_providers_check_fails_when_the_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_PROVIDER_KEY", "sk-wrong-key-123456")
    refused = Reply.json({"error": {"message": "Incorrect API key provided"}}, status=401)
    async with LoopbackServer(refused) as server:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[providers.keyed]\nkind = "openai-chat"\nmodel = "m1"\nbase_url = "{server.url}/v1"\n'
            'api_key_env = "TEST_PROVIDER_KEY"\n'
        )
        code = await _cli(server, ["providers", "--check"], cfg)
    out = capsys.readouterr().out
    keyed = next(line for line in out.splitlines() if line.startswith("keyed"))
    assert code == 1 and keyed.endswith("auth: HTTP 401 Unauthorized: Incorrect API key provided")
    assert "sk-wrong-key-123456" not in out
    assert server.requests[0].headers["authorization"] == "Bearer sk-wrong-key-123456"


def test_providers_table_aligns_long_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    long = "a-provider-with-a-very-long-name"
    cfg.write_text(f'[providers.{long}]\nkind = "scripted"\nmodel = "x"\n')
    code, out, _ = run(["providers", "--config", str(cfg)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("NAME")
    columns = {line.index(" scripted") if "scripted" in line else None for line in lines[1:]}
    kind_col = lines[0].index("KIND")
    assert all(line[kind_col - 1] == " " and line[kind_col] != " " for line in lines[1:])
    assert columns


def test_a_missing_api_key_is_reported_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["stream", "-p", "openai-chat:gpt-4o-mini", "hi"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "set OPENAI_API_KEY (provider 'openai-chat:gpt-4o-mini')" in err


# -- history ---------------------------------------------------------------------------------------


def test_history_json_provider_count_and_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stream", "-p", "scripted:x", "one"], capsys)[0] == 0
    assert run(["stream", "-p", "swift", "two"], capsys)[0] == 0
    code, out, _ = run(["history"], capsys)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "UPDATED", "STATUS"]
    code, out, _ = run(["history", "--json", "--provider", "swift"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["title"] for r in rows] == ["two"] and rows[0]["providers"] == ["swift"]
    code, out, _ = run(["history", "--count"], capsys)
    assert out == "2\n"
    assert "--limit" in usage_error(["history", "--limit", "-1"], capsys)


# -- small ---------------------------------------------------------------------------------------


def test_a_failed_stream_prints_no_empty_stdout_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.bad]\nkind = "scripted"\nchunks = ["a"]\nfail_at = 0\n')
    code, out, err = run(["stream", "--config", str(cfg), "-p", "bad", "hi"], capsys)
    assert code == 1 and out == "" and "scripted failure" in err


def test_format_options_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stream", "--help"])
    text = capsys.readouterr().out
    assert "--format {text,jsonl}" in text and "JSON lines" in text


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_ctrl_c_ends_the_output_cleanly(tmp_path: Path, fmt: str) -> None:
    import signal

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[providers.slow]\nkind = "scripted"\nchunks = ["one\\n", "two"]\nrepeat = 1000\n'
        "delay_ms = 20\n"
    )
    argv = ["stream", "--config", str(cfg), "-p", "slow", "--no-history", "--format", fmt, "hi"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmstream_tui", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the run has started: something arrived
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err
    out = first + rest
    assert out.endswith("\n")
    if fmt == "jsonl":
        last = json.loads(out.splitlines()[-1])
        assert last["type"] == "cancelled" and last["provider"] == "slow"
        assert last["text"].startswith("one\n")


# -- the README's headless section -----------------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def _headless_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Headless use") : text.index("## Python API")]


def _sh_examples(section: str) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it as ``# ...``) of every ``sh`` block."""
    examples: list[tuple[str, list[str]]] = []
    for block in section.split("```sh\n")[1:]:
        for line in block.split("```")[0].splitlines():
            if line.startswith("# ") and examples:
                examples[-1][1].append(line[2:])
            elif line.strip():
                examples.append((line, []))
    return examples


def _shows(expected: list[str], output: str) -> bool:
    """Whether ``output`` starts with the lines shown (``...`` ends a line's or the
    listing's match early)."""
    lines = output.splitlines()
    for i, want in enumerate(expected):
        if want == "...":
            return True
        got = lines[i] if i < len(lines) else ""
        if not (got.startswith(want[:-3]) if want.endswith("...") else got == want):
            return False
    return True


def test_every_headless_readme_command_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    section = _headless_section()
    examples = _sh_examples(section)
    assert len(examples) >= 12
    (tmp_path / "README.md").write_text("Tea is a drink.\n")
    config = tmp_path / "xdg" / "llmstream-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    fast = 'kind = "simulated"\nmax_words = 6\nttft_ms = 0\nchunks_per_s = 5000\n'
    # the offline defaults at full speed: their output is not shown, only their exit codes
    config.write_text(f"[providers.swift]\n{fast}[providers.steady]\n{fast}")
    marker = "=== end of command: "
    script = "".join(f'{{ {cmd}\n}} 2>&1\necho "{marker}$?"\n' for cmd, _ in examples)
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path, PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin"),
        timeout=120,
        check=False,
    )
    pieces = proc.stdout.split(marker)
    assert len(pieces) == len(examples) + 1, proc.stderr
    # piece i+1 starts with command i's exit code, then command i+1's output
    outputs = [pieces[0]] + [p.split("\n", 1)[1] for p in pieces[1:-1]]
    codes = [int(p.split("\n", 1)[0]) for p in pieces[1:]]
    for (cmd, expected), output, code in zip(examples, outputs, codes, strict=True):
        errors = "error:" in " ".join(expected)
        assert code == (2 if errors else 0), (cmd, output)
        assert _shows(expected, output), (cmd, expected, output)
    # the missing-key sentence shows what test_a_missing_api_key_is_reported... checks
    sentence = (
        '`llmstream-tui stream -p openai-chat:gpt-4o-mini "hi"` prints\n`llmstream-tui: '
        "error: set OPENAI_API_KEY (provider 'openai-chat:gpt-4o-mini')` and exits 2"
    )
    assert sentence in section
    # the --show all listing printed in the section is that command's output
    shown = section.split("```text\n")[1].split("```")[0]
    assert any(output.endswith(shown) for output in outputs), shown
