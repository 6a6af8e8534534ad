"""The public API is typed by flavour: mypy, run on a user's script (tests/typed_api/), reveals
``AIMessage``/``AIMessageChunk`` for a chat model and ``str`` for a text LLM, never ``Any``;
and running the same script gives objects of those very types."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "typed_api" / "user_script.py"


def expectations() -> dict[int, str]:
    """line number -> the type its ``# expect:`` comment names."""
    out = {}
    for number, line in enumerate(SCRIPT.read_text(encoding="utf-8").splitlines(), start=1):
        if "reveal_type(" in line and "# expect:" in line:
            out[number] = line.split("# expect:")[1].strip()
    return out


def short(mypy_type: str) -> str:
    """``builtins.list[llmstream_tui.core.messages.AIMessage]`` -> ``list[AIMessage]``."""
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", mypy_type)


def test_mypy_reveals_the_flavour_types_and_no_any(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(SCRIPT),
        ],
        cwd=tmp_path,  # not the project's config: a user's script, checked on its own
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    revealed: dict[int, str] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r".*user_script\.py:(\d+): note: Revealed type is \"(.*)\"$", line)
        if m:
            revealed[int(m.group(1))] = m.group(2)
        else:
            assert ": error:" not in line, proc.stdout
    expected = expectations()
    assert revealed.keys() == expected.keys(), proc.stdout
    for number, want in expected.items():
        assert "Any" not in revealed[number], (number, revealed[number])
        assert short(revealed[number]) == want, (number, revealed[number])


def test_the_script_runs_and_its_runtime_types_match() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=True
    )
    runtime = re.findall(r"Runtime type is '(\w+)'", proc.stderr)
    # one runtime line per executed reveal (loops run once per item): each names a class the
    # static type allows
    allowed = {name for want in expectations().values() for name in re.findall(r"\w+", want)}
    assert runtime, proc.stderr
    assert set(runtime) <= allowed, runtime
    assert {"AIMessage", "AIMessageChunk", "str", "list"} <= set(runtime)
