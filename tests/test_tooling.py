"""The contributor tooling agrees with itself: pre-commit runs the checks `make lint` runs,
with the same binaries, and its config is valid."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _lint_tools() -> set[str]:
    """Tool names in the recipe of the Makefile's ``lint`` target."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "the Makefile has no lint target"
    return {m.group(1) for m in re.finditer(r"\$\(BIN\)/([\w-]+)", recipe.group(1))}


def _hook_tools() -> set[str]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    tools = set()
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            binary = hook["entry"].split()[0]
            assert binary.startswith(".venv/bin/"), hook["id"]
            tools.add(binary.removeprefix(".venv/bin/"))
    return tools


def test_pre_commit_runs_the_tools_make_lint_runs() -> None:
    assert _hook_tools() == _lint_tools()
    assert {"ruff", "mypy", "lint-imports"} <= _lint_tools()


def test_pre_commit_config_is_valid() -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is in the test extra"
    done = subprocess.run(
        [pre_commit, "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
