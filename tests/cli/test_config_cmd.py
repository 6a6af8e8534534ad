"""``llmstream-tui config init|path|show``: write the documented example where settings are
read, say where they come from, and show the effective values with their sources, keys and
header values masked."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from llmstream_tui import load_settings
from llmstream_tui.cli import main
from llmstream_tui.locations import bundled_config_example

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-4f1c9a0e7b3d2c5a"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for var in list(os.environ):
        if var.upper().startswith("LLMSTREAM_") and var != "LLMSTREAM_DATA_DIR":
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LLMSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def user_config(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "llmstream-tui" / "config.toml"


# ----------------------------------------------------------------------------- init


def test_bundled_example_is_the_repository_file() -> None:
    assert bundled_config_example().read_bytes() == (ROOT / "config.example.toml").read_bytes()


def test_init_writes_the_example_to_the_user_config_path_creating_its_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = user_config(tmp_path)
    code, out, err = run(["config", "init"], capsys)
    assert (code, err) == (0, "")
    assert out == f"{target}\n"
    assert target.read_bytes() == (ROOT / "config.example.toml").read_bytes()
    # the file written is the one read next time, and it loads
    assert load_settings().delimiter == "|"


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = user_config(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_text('delimiter = "mine"\n', encoding="utf-8")
    code, out, err = run(["config", "init"], capsys)
    assert code == 2 and out == ""
    assert err == f"llmstream-tui: error: {target}: already exists (--force replaces it)\n"
    assert target.read_text(encoding="utf-8") == 'delimiter = "mine"\n'
    code, out, _ = run(["config", "init", "--force"], capsys)
    assert code == 0 and out == f"{target}\n"
    assert target.read_bytes() == (ROOT / "config.example.toml").read_bytes()


def test_init_writes_where_config_or_the_env_variable_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    explicit = tmp_path / "a" / "b" / "mine.toml"
    code, out, _ = run(["config", "init", "--config", str(explicit)], capsys)
    assert code == 0 and out == f"{explicit}\n" and explicit.is_file()
    by_env = tmp_path / "env" / "c.toml"
    monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", str(by_env))
    code, out, _ = run(["config", "init"], capsys)
    assert code == 0 and out == f"{by_env}\n" and by_env.is_file()


def test_init_into_an_unwritable_place_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code, out, err = run(["config", "init", "--config", str(blocker / "config.toml")], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"llmstream-tui: error: {blocker / 'config.toml'}: cannot write: ")
    assert err.count("\n") == 1 and "Traceback" not in err


# ----------------------------------------------------------------------------- path


def test_path_names_the_config_file_its_origin_and_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["config", "path"], capsys)
    assert code == 0
    assert out.splitlines() == [
        f"config file: {user_config(tmp_path)} (user config dir; not found: defaults apply)",
        f"data dir: {tmp_path / 'data'} ($LLMSTREAM_DATA_DIR)",
    ]
    run(["config", "init"], capsys)
    _, out, _ = run(["config", "path"], capsys)
    assert out.splitlines()[0] == f"config file: {user_config(tmp_path)} (user config dir)"


def test_path_with_config_or_env_says_so_and_does_not_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("this is not toml = = =\n", encoding="utf-8")
    code, out, _ = run(["config", "path", "--config", str(broken)], capsys)
    assert code == 0 and out.splitlines()[0] == f"config file: {broken} (--config)"
    monkeypatch.setenv("LLMSTREAM_CONFIG_FILE", str(broken))
    monkeypatch.delenv("LLMSTREAM_DATA_DIR")
    code, out, _ = run(["config", "path"], capsys)
    assert code == 0
    assert out.splitlines()[0] == f"config file: {broken} ($LLMSTREAM_CONFIG_FILE)"
    assert out.splitlines()[1].endswith("(user data dir)")


# ----------------------------------------------------------------------------- show


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


CONFIG = f"""
theme = "llmstream-light"
[ui]
fps = 20
[keymap]
send = "ctrl+s"
[providers.gpt]
kind = "openai-chat"
model = "gpt-4o-mini"
headers = {{ Authorization = "Bearer {SECRET}", "X-Team" = "{SECRET}" }}
[providers.gpt.params]
temperature = 0.2
"""


def test_show_prints_effective_toml_with_each_values_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, CONFIG)
    monkeypatch.setenv("LLMSTREAM_DELIMITER", "¦")
    monkeypatch.setenv("llmstream_ui__events_version", "v1")  # names are case-insensitive
    code, out, err = run(["config", "show", "--config", str(path)], capsys)
    assert (code, err) == (0, "")
    shown = tomllib.loads(out)
    settings = load_settings(path)
    assert shown["delimiter"] == "¦" == settings.delimiter
    assert shown["theme"] == "llmstream-light"
    assert shown["default_providers"] == ["swift", "steady"]
    assert shown["ui"] == settings.ui.model_dump()
    assert shown["keymap"] == {"send": "ctrl+s"}
    lines = out.splitlines()

    def line(prefix: str) -> str:
        return next(x for x in lines if x.startswith(prefix))

    assert line("delimiter = ").endswith("# env LLMSTREAM_DELIMITER")
    assert line("theme = ").endswith("# file")
    assert line("default_providers = ").endswith("# default")
    assert line("events_version = ").endswith("# env LLMSTREAM_UI__EVENTS_VERSION")
    assert line("fps = ").endswith("# file")
    assert line("tints = ").endswith("# default")
    assert line("send = ").endswith("# file")


def test_show_gives_each_providers_effective_options_with_secrets_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, CONFIG)
    code, out, _ = run(["config", "show", "--config", str(path)], capsys)
    assert code == 0
    assert SECRET not in out and "Bearer" not in out
    gpt = tomllib.loads(out)["providers"]["gpt"]
    assert gpt["kind"] == "openai-chat" and gpt["model"] == "gpt-4o-mini"
    assert gpt["headers"] == {"Authorization": "***", "X-Team": "***"}
    assert gpt["params"] == {"temperature": 0.2}
    assert gpt["timeout"] == 60.0 and gpt["max_retries"] == 2  # the kind's defaults, filled in
    lines = out.splitlines()
    assert next(x for x in lines if x.startswith("timeout = ")).endswith("# default")
    assert next(x for x in lines if x.startswith('model = "gpt-4o-mini"')).endswith("# file")
    # the key is read from the environment: show says where, and whether it is set
    assert "# key: $OPENAI_API_KEY, not set" in out
    # the built-in offline providers are listed too
    assert tomllib.loads(out)["providers"]["swift"]["kind"] == "simulated"


def test_show_says_a_key_is_set_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = write_config(tmp_path, CONFIG)
    code, out, _ = run(["config", "show", "--config", str(path)], capsys)
    assert code == 0 and SECRET not in out
    assert "# key: $OPENAI_API_KEY, set" in out


def test_show_with_no_file_is_all_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "show"], capsys)
    assert code == 0
    assert out.splitlines()[0].endswith("(user config dir; not found: defaults apply)")
    assert tomllib.loads(out)["delimiter"] == "|"
    assert "# file" not in out


def test_show_of_a_bad_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "[ui]\nfps = 1000\n")
    code, out, err = run(["config", "show", "--config", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"llmstream-tui: error: {path}: ui.fps: ")
    assert err.count("\n") == 1


def test_config_without_an_action_is_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["config"])
    assert exc.value.code == 2
    assert "init" in capsys.readouterr().err


def test_show_of_the_example_loads_back_as_the_same_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``show`` prints is a config: loaded again, every provider (scripted chunk lists
    of tables, nested usage, Ollama options) and every other value is what it was."""
    from llmstream_tui.providers.registry import validate_table

    example = ROOT / "config.example.toml"
    code, out, _ = run(["config", "show", "--config", str(example)], capsys)
    assert code == 0
    again = load_settings(write_config(tmp_path, out))
    before = load_settings(example)
    assert again.model_dump(exclude={"providers"}) == before.model_dump(exclude={"providers"})
    assert set(again.provider_names()) == set(before.provider_names())
    for name in before.provider_names():
        first, second = before.provider_table(name), again.provider_table(name)
        assert first is not None and second is not None
        assert validate_table(second) == validate_table(first), name


def test_show_masks_credentials_in_a_base_url_and_secret_named_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path,
        "[providers.proxy]\n"
        'kind = "openai-chat"\nmodel = "m"\n'
        f'base_url = "https://bob:{SECRET}@proxy.example/v1?key={SECRET}&region=eu"\n'
        f'[providers.llama]\nkind = "ollama-chat"\nmodel = "m"\n'
        f'options = {{ auth_token = "{SECRET}", num_ctx = 4096 }}\n',
    )
    code, out, _ = run(["config", "show", "--config", str(path)], capsys)
    assert code == 0 and SECRET not in out
    shown = tomllib.loads(out)["providers"]
    assert shown["proxy"]["base_url"] == "https://***@proxy.example/v1?key=***&region=eu"
    assert shown["llama"]["options"] == {"auth_token": "***", "num_ctx": 4096}


def test_readme_cli_reference_has_a_row_for_config_and_version() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("### CLI reference") :]
    reference = reference[: reference.index("\n\n", reference.index("|---|"))]
    for command in ("config init", "config path", "--version"):
        assert f"| `llmstream-tui {command}" in reference, command


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "--config", "{path}", "init"],
        ["--config", "{path}", "config", "init"],
        ["config", "init", "--config", "{path}"],
    ],
)
def test_config_option_may_come_before_or_after_the_action(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "here.toml"
    code, out, _ = run([a.format(path=target) for a in argv], capsys)
    assert code == 0 and out == f"{target}\n" and target.is_file()
