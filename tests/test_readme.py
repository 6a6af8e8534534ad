"""The README's examples run: every ```python block is executed, and the headless commands
shown with the offline providers work."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_a_python_example() -> None:
    assert python_blocks()


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_example_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(python_blocks()[index], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    block = python_blocks()[index]
    # a block says what it prints in ``# prints: TEXT`` comments; the first one (the Python
    # API) streams the origin example and reports its metrics
    printed = re.findall(r"^# prints: (.*)$", block, re.MULTILINE)
    if index == 0:
        printed += ["Spark|ling| water||", "TTFT"]
    assert printed, "a README example must say what it prints"
    for text in printed:
        assert text in proc.stdout, (text, proc.stdout)


def test_python_examples_type_check(tmp_path: Path) -> None:
    """The examples are what a user's typed script looks like: mypy --strict accepts them."""
    files = []
    for index, block in enumerate(python_blocks()):
        files.append(tmp_path / f"readme_example_{index}.py")
        files[-1].write_text(block, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache")]
        + [str(f) for f in files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_targets_named_in_readme_exist() -> None:
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test", "test-fast", "lint", "bench"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
    assert "make test" in (README.parent / ".ci" / "run").read_text()


def shell_examples() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if "llmstream-tui " in command and "127.0.0.1" not in command:
                lines.append(command)
    return lines


@pytest.mark.slow
def test_readme_shell_examples_run_offline(tmp_path: Path) -> None:
    """Every headless command shown in the README (but those needing a server) runs, in
    order, in a fresh directory, with exit code 0."""
    commands = shell_examples()
    assert any(c.startswith("llmstream-tui stream") for c in commands)
    bin_dir = Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    for command in commands:
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"{command}\n{proc.stderr}"
        assert proc.stdout.strip(), command


def test_readme_key_table_lists_every_binding_with_its_default_key() -> None:
    from llmstream_tui.ui.keys import KEYS

    text = README.read_text(encoding="utf-8")
    rows = {
        line.split("|")[2].strip(): line
        for line in text.splitlines()
        if line.startswith("| ") and line.count("|") >= 4
    }
    for spec in KEYS:
        row = next((line for ids, line in rows.items() if f"`{spec.id}`" in ids), None)
        assert row is not None, f"README's key table lacks {spec.id}"
        first_key = spec.keys.split(",")[0].split("+")[-1]
        assert first_key.lower() in row.lower(), (spec.id, spec.keys, row)
