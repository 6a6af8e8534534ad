"""Bad input in the config file and on stdin (issue 15, items 14-16): an impossible port, a
``base_url`` that is not a URL, a header name HTTP cannot carry, a file starting with a BOM, a
prompt that is not UTF-8. Each is one line naming what is wrong (file and key for the
config), exit 2 for bad configuration; nothing is lost and the run is still saved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.config import load_settings
from llmstream_tui.errors import ConfigError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMSTREAM_CONFIG_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))


def provider_config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[providers.p]\nkind = "openai-chat"\nmodel = "m"\n{body}\n')
    return config


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('base_url = "http://127.0.0.1:99999/v1"', "base_url", "port out of range"),
        ('base_url = "http://127.0.0.1:80x/v1"', "base_url", "port is not a number"),
        ('base_url = "not a url"', "base_url", "not an http(s) URL"),
        ('base_url = "ftp://host/v1"', "base_url", "not an http(s) URL"),
        ('base_url = "http:///v1"', "base_url", "no host"),
        ('headers = { "x bad" = "v" }', "headers", "'x bad' is not a valid header name"),
        ('headers = { "x-ok" = "a\\nb" }', "headers", "the value of 'x-ok' has a line break"),
    ],
)
def test_bad_url_or_header_is_one_line_naming_file_and_key_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, key: str, problem: str
) -> None:
    config = provider_config(tmp_path, body)
    code = main(["stream", "--config", str(config), "-p", "p", "hi"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"llmstream-tui: error: {config}: providers.p.{key}: {problem}")


def test_a_header_value_is_never_shown_in_its_error(tmp_path: Path) -> None:
    config = provider_config(tmp_path, 'headers = { "x-api-key" = "sk-abcdef0123456789\\r" }')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "sk-abcdef" not in str(caught.value) and "x-api-key" in str(caught.value)


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("openai-chat:m@http://127.0.0.1:99999/v1", "base_url: port out of range"),
        ("openai-chat:m@not-a-url", "base_url: not an http(s) URL"),
    ],
)
def test_an_ad_hoc_reference_with_a_bad_url_is_exit_2(
    capsys: pytest.CaptureFixture[str], ref: str, problem: str
) -> None:
    code = main(["stream", "-p", ref, "hi"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and problem in err and "internal error" not in err


def test_valid_urls_still_load(tmp_path: Path) -> None:
    config = provider_config(
        tmp_path, 'base_url = "https://u:p@[::1]:8443/v1?key=k"\nheaders = { "X-Title" = "t" }'
    )
    settings = load_settings(config)
    assert settings.providers["p"]["base_url"] == "https://u:p@[::1]:8443/v1?key=k"


def test_a_config_file_starting_with_a_bom_loads(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'\xef\xbb\xbfdelimiter = "~"\n[providers.p]\nkind = "scripted"\n')
    settings = load_settings(config)
    assert settings.delimiter == "~" and settings.providers["p"]["kind"] == "scripted"


def test_a_binary_prompt_on_stdin_runs_and_is_saved_with_replacements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "LLMSTREAM_DATA_DIR": str(tmp_path / "data"),
        "LC_ALL": "C",
    }
    proc = subprocess.run(  # a real process: its stdin is bytes, as from a pipe
        [sys.executable, "-m", "llmstream_tui", "stream", "-p", "scripted:x", "-"],
        input=b"\xff\xfehi \xe2\x82\xac",
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"" and proc.stdout.startswith(b"Spark|")
    assert main(["history"]) == 0  # the same data dir (the fixture's)
    rows = capsys.readouterr().out.splitlines()
    assert "\ufffd\ufffdhi \u20ac" in rows[-1]  # the session is there, its title readable
    assert main(["export", rows[-1].split()[0], "--format", "md"]) == 0
    assert "\ufffd\ufffdhi \u20ac" in capsys.readouterr().out  # bad bytes replaced, rest kept


def test_a_bad_port_from_ollama_host_is_one_line_not_an_exception_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:99999")
    code = main(["stream", "--no-history", "-p", "ollama-chat:m", "hi"])
    _, err = capsys.readouterr()
    assert code in (1, 2) and err.count("\n") == 1
    assert "port out of range" in err and "ExceptionGroup" not in err


def test_an_empty_base_url_still_means_the_kinds_default(tmp_path: Path) -> None:
    settings = load_settings(provider_config(tmp_path, 'base_url = ""'))
    assert settings.providers["p"]["base_url"] == ""
