"""How a ``langchain`` provider names the user's object: ``langchain:MODULE:ATTR`` or
``langchain:MODULE:FACTORY()`` (or a config table's ``target``), found from the current
directory; and what a bad target gives: one line naming it, exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.config import load_settings
from llmstream_tui.errors import ConfigError
from llmstream_tui.providers.langchain import (
    LangChainModel,
    compact_text,
    load_target,
    targets_loaded_once,
)
from llmstream_tui.providers.registry import build_llm, parse_reference
from tests.providers import langchain_fakes, lc_apps

ROOT = Path(__file__).resolve().parents[2]
APPS = "tests.providers.lc_apps"

#: (target, the words its one line has), one per way a target can be wrong
BAD_TARGETS = [
    ("tests.providers.no_such_module:app", "no module named 'tests.providers.no_such_module'"),
    (f"{APPS}:no_such_app", "no attribute 'no_such_app'"),
    (f"{APPS}:not_a_runnable", "is int, not a runnable"),
    (f"{APPS}:broken()", "the factory failed: ValueError: cannot build"),
]


def test_a_reference_after_the_kind_is_the_target_whole() -> None:
    assert parse_reference(f"langchain:{APPS}:graph()") == {
        "kind": "langchain",
        "target": f"{APPS}:graph()",
    }
    assert parse_reference("openai-chat:m@http://h") == {
        "kind": "openai-chat",
        "model": "m",
        "base_url": "http://h",
    }


def test_an_attribute_is_the_runnable_and_a_factory_is_called() -> None:
    instance = build_llm("langchain:tests.providers.langchain_fakes:poem_instance")
    assert isinstance(instance, LangChainModel)
    assert instance.runnable is langchain_fakes.poem_instance
    built = build_llm(f"langchain:{APPS}:graph()")
    assert isinstance(built, LangChainModel)
    assert type(built.runnable).__name__ == "CompiledStateGraph"
    assert built.model == f"{APPS}:graph()"


def test_a_function_named_without_parentheses_is_not_called() -> None:
    with pytest.raises(ConfigError, match=r"is function, not a runnable \(write it with \(\)"):
        build_llm(f"langchain:{APPS}:qa_chain")


def test_a_config_table_names_the_target(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[providers.qa]\nkind = "langchain"\ntarget = "{APPS}:qa_chain()"\nflavor = "llm"\n',
        encoding="utf-8",
    )
    model = build_llm("qa", settings=load_settings(config))
    assert isinstance(model, LangChainModel)
    assert model.name == "qa" and model.flavor == "llm"
    assert model.invoke("q") == "Bubbles dancing, without fear"


def test_the_current_directory_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_lc_app_here.py").write_text(
        "from langchain_core.runnables import RunnableLambda\n"
        "app = RunnableLambda(lambda text: text.upper(), name='upper')\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "my_lc_app_here", raising=False)
    model = build_llm({"kind": "langchain", "target": "my_lc_app_here:app", "flavor": "llm"})
    assert model.invoke("shout") == "SHOUT"


@pytest.mark.parametrize(("target", "words"), BAD_TARGETS)
def test_a_bad_target_is_one_config_error_line_naming_it(target: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_llm(f"langchain:{target}")
    line = str(info.value)
    assert "\n" not in line and f"langchain target {target!r}" in line and words in line


def test_inside_targets_loaded_once_a_factory_is_called_once() -> None:
    target = "tests.providers.langchain_fakes:poem_model()"
    assert load_target(target) is not load_target(target)  # every build its own
    with targets_loaded_once():
        first = load_target(target)
        assert load_target(target) is first
    assert load_target(target) is not first


def cli(*runs: tuple[str, ...], cwd: Path = ROOT) -> list[subprocess.CompletedProcess[str]]:
    """``llmstream-tui stream --no-history ARGS`` for each of ``runs``, as whole processes
    started together (each pays Python's and LangChain's import once: in turn they would
    take seconds more)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "XDG_CONFIG_HOME": str(cwd / ".no-config"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "llmstream_tui", "stream", "--no-history", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in runs
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.slow  # whole processes
def test_the_cli_exits_2_with_one_line_for_each_bad_target() -> None:
    procs = cli(*(("-p", f"langchain:{target}", "hi") for target, _ in BAD_TARGETS))
    for (target, words), proc in zip(BAD_TARGETS, procs, strict=True):
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0] == lines[0].strip() and "Traceback" not in proc.stderr
        assert lines[0].startswith(f"llmstream-tui: error: langchain target {target!r}")
        assert words in lines[0]


@pytest.mark.slow  # whole processes
def test_the_cli_prints_what_the_application_outputs(tmp_path: Path) -> None:
    """The root run's chunks are the answer, printed once; the recording keeps them and the
    application's end (not an inner run's: the prompt ends first)."""
    record = tmp_path / "qa.jsonl"
    qa, loop, graph = cli(
        ("-p", f"langchain:{APPS}:qa_chain()", "--delimiter", "|", "--record", str(record), "hi"),
        ("-p", f"langchain:{APPS}:tool_loop()", "--delimiter", "/", "hi"),
        ("-p", f"langchain:{APPS}:graph()", "--delimiter", "|", "hi"),
    )
    assert qa.returncode == 0, qa.stderr
    assert qa.stdout == "Bubbles| |dancing,| |without| |fear|\n"  # the root's, once
    lines = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [line["text"] for line in lines if line.get("type") == "chunk"] == [
        "Bubbles",
        " ",
        "dancing,",
        " ",
        "without",
        " ",
        "fear",
    ]
    assert [line["text"] for line in lines if line.get("type") == "end"] == [lc_apps.ANSWER]
    assert loop.returncode == 0, loop.stderr
    assert loop.stdout == "It/ /is/ /sunny/ /in/ /Paris/ /today./\n"
    assert graph.returncode == 0, graph.stderr
    updates = [
        {"agent": {"messages": [""]}},
        {"tools": {"messages": ["sunny in Paris"]}},
        {"agent": {"messages": [lc_apps.SUNNY]}},
    ]
    assert graph.stdout == "|".join(compact_text(u) for u in updates) + "|\n"


@pytest.mark.slow  # whole processes
def test_the_cli_finds_an_app_beside_the_user(tmp_path: Path) -> None:
    (tmp_path / "their_app.py").write_text(
        "from langchain_core.runnables import RunnableLambda\n"
        "async def words(text: str):\n"
        "    for word in text.split():\n"
        "        yield word.upper()\n"
        "def build():\n"
        "    return RunnableLambda(words)\n",
        encoding="utf-8",
    )
    (proc,) = cli(
        ("-p", "langchain:their_app:build()", "--delimiter", "+", "two words"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "TWO+WORDS+\n"
