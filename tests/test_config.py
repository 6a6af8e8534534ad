"""Settings: precedence, the example file, and one-line errors naming file, key, problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmstream_tui import load_settings
from llmstream_tui.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "LLMSTREAM_CONFIG_FILE",
        "LLMSTREAM_DELIMITER",
        "LLMSTREAM_UI__EVENTS_VERSION",
        "LLMSTREAM_DEFAULT_PROVIDERS",
        "LLMSTREAM_THEME",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_builds_every_provider() -> None:
    from llmstream_tui.providers.registry import validate_table

    settings = load_settings(ROOT / "config.example.toml")
    assert settings.default_providers == ["swift", "steady"]
    assert settings.delimiter == "|"
    for name, table in settings.providers.items():
        assert validate_table(table, where=name).kind == table["kind"]


def test_no_config_file_gives_defaults_with_two_simulated_providers() -> None:
    settings = load_settings()
    assert settings.default_providers == ["swift", "steady"]
    tables = [settings.provider_table(n) for n in settings.default_providers]
    assert None not in tables
    assert {t["kind"] for t in tables if t is not None} == {"simulated"}


def test_precedence_code_over_env_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'delimiter = "F"\ntheme = "from-file"\n[ui]\nevents_version = "v1"\n')
    assert load_settings(path).delimiter == "F"
    monkeypatch.setenv("LLMSTREAM_DELIMITER", "E")
    monkeypatch.setenv("LLMSTREAM_UI__EVENTS_VERSION", "v2")
    settings = load_settings(path)
    assert settings.delimiter == "E"
    assert settings.ui.events_version == "v2"
    assert settings.theme == "from-file"
    assert load_settings(path, delimiter="C").delimiter == "C"


def test_config_file_env_var_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'delimiter = "·"\n')
    monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", str(path))
    assert load_settings().delimiter == "·"
    monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        load_settings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('delimter = "|"\n', r"config.toml: delimter: unknown key"),
        ("delimiter = 3\n", r"config.toml: delimiter: Input should be a valid string"),
        ('[ui]\nevents_version = "v9"\n', r"config.toml: ui.events_version: Input should be"),
        ("delimiter = \n", r"config.toml: TOML syntax error: .*line 1"),
        (
            '[providers.a]\nkind = "scripted"\nchunkz = []\n',
            r"config.toml: providers.a.chunkz: unknown key",
        ),
        ('[providers.a]\nkind = "warp"\n', r"providers.a.kind: unknown provider kind 'warp'"),
        ('[providers.a]\nmodel = "x"\n', r"providers.a.kind: missing"),
        (
            '[providers.a]\nkind = "scripted"\ndelay_ms = -1\n',
            r"providers.a.delay_ms: Input should be greater than or equal to 0",
        ),
        ('default_providers = ["ghost"]\n', r"default_providers: unknown provider 'ghost'"),
    ],
)
def test_bad_config_is_one_line_naming_file_key_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_settings(path)
    assert "\n" not in str(info.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_example_config_mentions_every_option_of_every_kind() -> None:
    from llmstream_tui.config import UISettings
    from llmstream_tui.providers.registry import KINDS, backend_class

    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    missing = []
    for kind in KINDS:
        for field in backend_class(kind).Spec.model_fields:
            if f"{field} =" not in text and f".{field}]" not in text:
                missing.append(f"{kind}.{field}")
    for field in UISettings.model_fields:
        if f"{field} =" not in text:
            missing.append(f"ui.{field}")
    assert not missing, f"config.example.toml does not document: {missing}"
