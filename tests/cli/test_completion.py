"""``llmstream-tui completion bash|zsh|fish`` (issue 16): argcomplete's scripts, completing
commands, options, configured provider names and kinds. Bash is run for real (the script
sourced, its completion function called as bash calls it on TAB); zsh and fish are not on
this machine, so their scripts are checked as text."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main

BIN = Path(sys.executable).parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A home with one configured provider whose name has a hyphen, and the venv's
    ``llmstream-tui`` first on PATH (the script runs it to complete)."""
    config = tmp_path / "xdg" / "llmstream-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[providers.my-local]\nkind = "scripted"\nmodel = "x"\n')
    return {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
    }


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def complete_in_bash(env: dict[str, str], line: str) -> list[str]:
    """What bash offers for TAB at the end of ``line``, through the generated script."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    program = (
        'eval "$(llmstream-tui completion bash)"\n'
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}; COMP_TYPE=9\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        f"_python_argcomplete llmstream-tui {shlex.quote(words[-1])} {shlex.quote(words[-2])}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [w.strip() for w in proc.stdout.splitlines() if w.strip()]


def test_bash_completes_commands(env: dict[str, str]) -> None:
    offered = complete_in_bash(env, "llmstream-tui ")
    assert {"stream", "models", "providers", "history", "completion", "config"} <= set(offered)


def test_bash_completes_provider_names_and_kinds_after_p(env: dict[str, str]) -> None:
    offered = complete_in_bash(env, "llmstream-tui stream -p ")
    assert {"my-local", "swift", "steady", "openai-chat:", "scripted:"} <= set(offered)
    assert complete_in_bash(env, "llmstream-tui stream -p my") == ["my-local"]


def test_bash_completes_a_command_s_options(env: dict[str, str]) -> None:
    assert {"--no-stream", "--no-history"} == set(
        complete_in_bash(env, "llmstream-tui stream --no")
    )


def test_zsh_and_fish_scripts_hand_completion_to_the_program(
    capsys: pytest.CaptureFixture[str],
) -> None:
    zsh = script("zsh", capsys)
    assert zsh.startswith("#compdef llmstream-tui") and '_ARGCOMPLETE_SHELL="zsh"' in zsh
    fish = script("fish", capsys)
    assert "complete --command llmstream-tui" in fish and "set -lx _ARGCOMPLETE_SHELL fish" in fish


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["completion", "tcsh"])
    assert info.value.code == 2 and "invalid choice: 'tcsh'" in capsys.readouterr().err
