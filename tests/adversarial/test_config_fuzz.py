"""Config fuzz: random and invalid TOML and values give one clear error line and exit
code 2, never a traceback."""

from __future__ import annotations

import contextlib
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstream_tui import load_settings
from llmstream_tui.cli import main
from llmstream_tui.errors import ConfigError

KEYS = [
    "default_providers",
    "delimiter",
    "theme",
    "history",
    "ui",
    "keymap",
    "providers",
    "bogus",
    "ui.tints",
    "ui.events_version",
    "providers.p.kind",
    "providers.p.chunks",
    "providers.p.delay_ms",
    "providers.p.params.temperature",
    "providers.p.timeout",
    "providers.p.model",
    "providers.p.fail_at",
    "providers.p.nonsense",
]

toml_scalars = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(alphabet=string.printable, max_size=12).map(
        lambda s: (
            '"'
            + s.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
            .replace("\x0b", "\\u000b")
            .replace("\x0c", "\\f")
            + '"'
        )
    ),
    st.sampled_from(
        [
            '"scripted"',
            '"simulated"',
            '"openai-chat"',
            '"v1"',
            '"v3"',
            "[]",
            '["a", 1]',
            "{}",
            '{ kind = "scripted" }',
            "[1, 2]",
        ]
    ),
)


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(KEYS))
        lines.append(f"{key} = {draw(toml_scalars)}")
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=20)))  # anything at all, often invalid TOML
    return "\n".join(lines) + "\n"


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=toml_documents())
def test_any_document_loads_or_fails_with_one_config_error_line(doc: str, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path))
        assert "\n" not in message
        assert "Traceback" not in message


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=64))
def test_random_bytes_never_escape_as_anything_but_config_error(
    data: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "bytes.toml"
    path.write_bytes(data)
    with contextlib.suppress(ConfigError):
        load_settings(path)


@pytest.mark.parametrize(
    "doc",
    [
        "delimiter = [\n",
        "[providers.x]\nkind = 1\n",
        "ui = 3\n",
        "\udcff = 1\n".encode("utf-8", "surrogatepass").decode("latin-1"),
    ],
)
def test_cli_exits_2_with_one_line_and_no_traceback(
    doc: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(doc, encoding="utf-8")
    assert main(["stream", "--config", str(path), "hi"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("llmstream-tui: error: ") and err.count("\n") == 1


def test_bad_config_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[providers.a]\nkind = "scripted"\ndelay_ms = "soon"\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "providers.a.delay_ms" in proc.stderr
