"""Theme files: parsing, checking, the shipped ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmstream_tui.locations import bundled_themes_dir
from llmstream_tui.ui.themes import (
    APP_VARIABLE_NAMES,
    DEFAULT_THEME,
    ThemeFileError,
    choose_theme,
    load_theme_file,
    load_themes,
    theme_from_table,
)


def test_shipped_themes_are_valid_carry_every_app_variable_and_one_is_light() -> None:
    themes, problems = load_themes([bundled_themes_dir()])
    assert problems == []
    assert len(themes) >= 3
    assert any(not t.dark for t in themes)
    for theme in themes:
        assert set(theme.variables) >= APP_VARIABLE_NAMES, theme.name


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"primary": "#fff"}, "name: missing"),
        ({"name": "x"}, "primary: missing"),
        ({"name": "x", "primary": "nope"}, "primary: not a colour"),
        ({"name": "x", "primary": "#fff", "colour": "#fff"}, "unknown key 'colour'"),
        (
            {"name": "x", "primary": "#fff", "variables": {"delimiter": "#ff0000 140%"}},
            "bad opacity",
        ),
        ({"name": "x", "primary": "#fff", "dark": "yes"}, "dark: expected bool"),
    ],
)
def test_problems_name_the_file_and_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ThemeFileError, match=message) as info:
        theme_from_table(table, "mine.toml")
    assert str(info.value).startswith("mine.toml: ")


def test_bad_files_are_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text('name = "good"\nprimary = "#123456"\n')
    (tmp_path / "syntax.toml").write_text("name = \n")
    themes, problems = load_themes([tmp_path, tmp_path / "missing"])
    assert [t.name for t in themes] == ["good"]
    assert len(problems) == 1 and "syntax.toml: TOML syntax error" in problems[0]


def test_a_user_theme_overrides_a_shipped_one_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "llmstream-dark"\nprimary = "#ff0000"\n')
    themes, _ = load_themes([bundled_themes_dir(), tmp_path])
    dark = [t for t in themes if t.name == "llmstream-dark"]
    assert len(dark) == 1 and dark[0].primary == "#ff0000"


def test_load_theme_file_reads_variables(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('name = "t"\nprimary = "#000"\n[variables]\nchunk-tint-a = "#102030 40%"\n')
    assert load_theme_file(path).variables == {"chunk-tint-a": "#102030 40%"}


def test_the_theme_set_in_the_config_wins_over_the_remembered_one() -> None:
    available = {"llmstream-dark", "llmstream-light", "textual-dark"}
    assert choose_theme(available, "llmstream-light", "x", explicit=True) == (
        "llmstream-light",
        None,
    )
    assert choose_theme(available, DEFAULT_THEME, "llmstream-light", explicit=False) == (
        "llmstream-light",
        None,
    )
    assert choose_theme(available, DEFAULT_THEME, None, explicit=False) == (DEFAULT_THEME, None)


def test_a_missing_theme_falls_back_and_says_so() -> None:
    name, problem = choose_theme({"llmstream-dark"}, "nope", None, explicit=True)
    assert name == "llmstream-dark"
    assert problem == "theme 'nope' not found; using llmstream-dark"
    assert choose_theme({"textual-dark"}, "nope", None, explicit=True)[0] == "textual-dark"
