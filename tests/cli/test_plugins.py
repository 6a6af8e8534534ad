"""Third-party provider kinds, installed as a distribution with an entry point in
``llmstream_tui.providers``, work from the command line like built-in ones; a broken plugin
is one line naming it, and the built-in kinds keep working beside it.

tests/plugins/site/ holds three "installed" distributions (``*.dist-info`` with
``entry_points.txt``): ``llmstream-echo`` (the kind ``echo``), ``llmstream-broken`` (its
module raises on import) and ``llmstream-clash`` (claims the built-in ``scripted``). Each test
runs the CLI as a whole process with that folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs the CLI as a whole process

SITE = Path(__file__).resolve().parents[1] / "plugins" / "site"


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SITE),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "llmstream_tui", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_plugin_kind_streams_from_the_command_line(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "stream", "-p", "echo:x", "--no-history", "say hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "say| hi|\n"


def test_a_plugin_kind_takes_its_own_options_in_a_config_table(tmp_path: Path) -> None:
    config = tmp_path / "llmstream.toml"
    config.write_text('[providers.loud]\nkind = "echo"\nupper = true\n', encoding="utf-8")
    proc = run_cli(tmp_path, "stream", "--config", str(config), "-p", "loud", "say hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "SAY| HI|\n"
    config.write_text('[providers.loud]\nkind = "echo"\nloud = true\n', encoding="utf-8")
    proc = run_cli(tmp_path, "stream", "--config", str(config), "-p", "loud", "say hi")
    assert proc.returncode == 2
    assert "providers.loud.loud: unknown key" in proc.stderr


def test_a_broken_plugin_is_one_line_naming_it(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "stream", "-p", "broken:x", "--no-history", "hi")
    assert proc.returncode == 2  # a kind that cannot be loaded: bad configuration
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "plugin 'llmstream-broken 0.1'" in lines[0]
    assert "RuntimeError: this plugin is broken on purpose" in lines[0]


def test_built_in_kinds_work_beside_broken_and_clashing_plugins(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "stream", "-p", "scripted:x", "-p", "echo:y", "--no-history", "say hi")
    assert proc.returncode == 0, proc.stderr
    assert "[scripted:x] Spark|ling| water|" in proc.stdout  # the built-in, not the clash
    assert "[echo:y] say| hi|" in proc.stdout


def test_unknown_kind_lists_plugin_kinds_and_providers_warns_of_a_clash(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, "stream", "-p", "nope:x", "--no-history", "hi")
    assert proc.returncode == 2
    assert "broken, echo, gemini" in proc.stderr
    proc = run_cli(tmp_path, "providers")
    assert proc.returncode == 0, proc.stderr
    assert "swift" in proc.stdout
    assert (
        "warning: plugin 'llmstream-clash 0.1' (entry point scripted = 'llmstream_echo:EchoModel')"
        ": kind 'scripted' is a built-in kind; the plugin's is ignored"
    ) in proc.stderr
