"""``LLMSTREAM_*`` environment variables (issue 16): a bad value is one line naming the
variable (exit 2, no traceback), hyphenated provider names are reachable with ``_``, and an
unknown ``LLMSTREAM_`` variable is a warning, not silence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.config import load_settings, unknown_env_vars


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("LLMSTREAM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_list_that_is_not_json_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMSTREAM_DEFAULT_PROVIDERS", "swift,steady")
    code, out, err = run(["stream", "hi"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "LLMSTREAM_DEFAULT_PROVIDERS: not a JSON list" in err and "Traceback" not in err


def test_a_list_that_is_not_json_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "LLMSTREAM_DEFAULT_PROVIDERS": "a,b",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", "stream", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "LLMSTREAM_DEFAULT_PROVIDERS" in proc.stderr


def test_a_bad_nested_value_is_blamed_on_the_variable_not_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('delimiter = "/"\n')
    monkeypatch.setenv("LLMSTREAM_UI__EVENTS_VERSION", "v9")
    code, _, err = run(["stream", "--config", str(cfg), "-p", "scripted:x", "hi"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "LLMSTREAM_UI__EVENTS_VERSION: Input should be 'v1' or 'v2'" in err
    assert "c.toml" not in err


def test_a_hyphenated_provider_is_set_with_underscores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.my-local]\nkind = "scripted"\nmodel = "a"\nchunks = ["x"]\n')
    monkeypatch.setenv("LLMSTREAM_PROVIDERS__MY_LOCAL__MODEL", "b")
    monkeypatch.setenv("LLMSTREAM_PROVIDERS__MY_LOCAL__PARAMS__TEMPERATURE", "0.5")
    settings = load_settings(cfg)
    assert list(settings.providers) == ["my-local"]
    assert settings.providers["my-local"]["model"] == "b"
    assert settings.providers["my-local"]["chunks"] == ["x"]
    assert float(settings.providers["my-local"]["params"]["temperature"]) == 0.5


def test_an_unknown_variable_is_a_warning_with_a_suggestion(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMSTREAM_DELIMITR", "/")
    monkeypatch.setenv("LLMSTREAM_UI__TINT", "false")
    monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", "")  # known, if empty
    assert unknown_env_vars() == [
        "LLMSTREAM_DELIMITR is not a setting (ignored; did you mean LLMSTREAM_DELIMITER?)",
        "LLMSTREAM_UI__TINT is not a setting (ignored; did you mean LLMSTREAM_UI__TINTS?)",
    ]
    monkeypatch.delenv("LLMSTREAM_UI__TINT")
    code, out, err = run(["stream", "-p", "scripted:x", "--format", "jsonl", "hi"], capsys)
    assert code == 0 and json.loads(out.splitlines()[-1])["type"] == "end"
    assert "llmstream-tui: warning: LLMSTREAM_DELIMITR is not a setting" in err


def test_an_unknown_key_of_a_table_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMSTREAM_UI__TINT", "false")
    code, _, err = run(["stream", "-p", "scripted:x", "hi"], capsys)
    assert code == 2 and err == "llmstream-tui: error: LLMSTREAM_UI__TINT: unknown key\n"
    monkeypatch.delenv("LLMSTREAM_UI__TINT")
    monkeypatch.setenv("LLMSTREAM_PROVIDERS__SWIFT__KIND", "nope")
    code, _, err = run(["stream", "-p", "swift", "hi"], capsys)
    assert code == 2 and err.startswith("llmstream-tui: error: LLMSTREAM_PROVIDERS__SWIFT__KIND: ")


def test_known_variables_are_not_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSTREAM_DELIMITER", "/")
    monkeypatch.setenv("LLMSTREAM_UI__FPS", "20")
    monkeypatch.setenv("LLMSTREAM_PROVIDERS__ANY_NAME__MODEL", "m")
    monkeypatch.setenv("LLMSTREAM_KEYMAP__QUIT", "ctrl+q")
    assert unknown_env_vars() == []
