"""``llmstream-tui render``: a recording replayed into the headless app, drawn as SVG/PNG."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.cli.render import render_svg

RECORDING = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "two-panes.jsonl"


@pytest.fixture
def config(tmp_path: Path) -> str:
    """An empty config: the built-in settings, not the user's."""
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    return str(path)


def test_finished_comparison_has_both_answers_recorded_timing_and_is_stable() -> None:
    first = asyncio.run(render_svg(RECORDING, size=(100, 30)))
    again = asyncio.run(render_svg(RECORDING, size=(100, 30)))
    assert first == again  # byte for byte: no blinking cursor, no random ids
    assert first.startswith("<svg")
    for text in ("Snow", "generations", "simulated:swift", "done"):
        assert text in first
    # the recorded times, not the replay's: TTFT 167 ms and 383 ms, totals 359 ms and 991 ms
    for figure in ("167ms", "383ms", "359ms", "991ms"):
        assert figure in first


def test_at_seconds_shows_what_had_arrived_then(tmp_path: Path, config: str) -> None:
    out = tmp_path / "half.svg"
    argv = ["--config", config, "render", str(RECORDING), "-o", str(out), "--at", "0.5"]
    code = main([*argv, "--size", "100x30"])
    assert code == 0
    svg = out.read_text(encoding="utf-8")
    # swift had finished by 0.359 s; steady had 3 chunks (up to " which" at 0.455 s)
    assert "which" in svg
    assert "is&#160;how" not in svg and "generations" not in svg
    assert "streaming" in svg and "done" in svg  # steady still open, swift finished


def test_theme_draws_with_that_themes_colours() -> None:
    svg = asyncio.run(render_svg(RECORDING, size=(60, 20), theme="llmstream-light"))
    assert "#f4f5f7" in svg.lower()  # llmstream-light's background
    assert "#0f1419" not in svg.lower()  # not llmstream-dark's (the default)


def test_png_through_cairosvg(tmp_path: Path, config: str) -> None:
    out = tmp_path / "out.png"
    assert (
        main(["--config", config, "render", str(RECORDING), "-o", str(out), "--size", "60x20"]) == 0
    )
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_png_without_cairosvg_is_one_line_exit_2(
    tmp_path: Path, config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # import cairosvg raises ImportError
    out = tmp_path / "out.png"
    assert main(["--config", config, "render", str(RECORDING), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cairosvg" in err and "llmstream-tui[render]" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["missing.jsonl", "-o", "x.svg"], "missing.jsonl"),
        ([str(RECORDING), "-o", "x.gif"], "write .svg or .png"),
        ([str(RECORDING), "-o", "x.svg", "--theme", "nope"], "no theme 'nope'"),
        ([str(RECORDING), "-o", "x.svg", "--size", "wide"], "not a size: 'wide'"),
        ([str(RECORDING), "-o", "x.svg", "--at", "soon"], "not 'done' or seconds"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    argv: list[str], says: str, config: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["--config", config, "render", *argv])
    except SystemExit as exc:  # argparse's own usage error
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not list(tmp_path.glob("x.*"))
