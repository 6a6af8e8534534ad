"""``llmstream-tui serve``: the app in a web page (textual-serve), driven by a real headless
Chromium (Debian's ``chromium`` and ``chromium-driver``, through selenium); plus the
refusals and the warning, without a browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmstream_tui.cli import main
from llmstream_tui.cli.serve import is_loopback_host

CONFIG = """\
default_providers = ["left", "right"]
history = false

[ui]
cursor_blink = false
events_open = "no"

[providers.left]
kind = "scripted"
chunks = ["Fizz", "y", " pop"]
delay_ms = 20

[providers.right]
kind = "scripted"
chunks = ["Bub", "bles", " rise"]
delay_ms = 30

[providers.gpt]
kind = "openai-chat"
model = "gpt-4o-mini"
"""
#: Chromium flags that work in a container without a display, GPU or network
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,800",
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_a_public_host_needs_public(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--public" in err and "API keys" in err


def test_public_warns_naming_the_keys_never_their_values(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual_serve.server import Server

    served: list[tuple[str, str, int]] = []
    monkeypatch.setattr(
        Server, "serve", lambda self: served.append((self.command, self.host, self.port))
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-1234")
    code = main(
        ["serve", "--config", str(config), "--host", "0.0.0.0", "--port", "8123", "--public"]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "warning" in err and "anyone who can reach it" in err and "OPENAI_API_KEY" in err
    assert "sk-secret" not in err
    ((command, host, port),) = served
    assert (host, port) == ("0.0.0.0", 8123)
    assert "-m llmstream_tui app --config" in command and str(config) in command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(config: Path, tmp_path: Path) -> Iterator[str]:
    """``llmstream-tui serve`` on a free loopback port, as a user starts it; its URL once
    it says it is serving."""
    port = _free_port()
    env = {**os.environ, "LLMSTREAM_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmstream_tui",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # the banner ends with the URL, then "Press Ctrl+C"
            seen.append(line)
            if "Ctrl+C" in line:
                break
        else:
            pytest.fail("serve ended before serving:\n" + "".join(seen))
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("no Chromium here: apt-get install -y chromium chromium-driver")
    return browser, driver


#: Run in the page before its own scripts: every byte the app sends the terminal is kept
#: (decoded as UTF-8) in ``window.__screen``, the text the page draws on its canvas.
RECORD_SCREEN = """
window.__screen = [];
const decoder = new TextDecoder();
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__screen.push(decoder.decode(event.data, {stream: true}));
      }
    });
  }
};
"""
#: escape sequences (CSI, OSC, charset and keypad modes): what is left is the drawn text
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>NOM78c])")


def test_the_app_streams_two_panes_in_chromium(served: str, tmp_path: Path) -> None:
    browser, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_SCREEN})
        driver.get(served)

        def drawn(d: webdriver.Chrome) -> str:
            return ANSI.sub("", "".join(d.execute_script("return window.__screen")))

        wait = WebDriverWait(driver, 60, poll_frequency=0.2)
        wait.until(lambda d: "Ask every pane" in drawn(d))  # the app is up, the prompt empty
        keyboard = driver.find_element(By.CSS_SELECTOR, "textarea.xterm-helper-textarea")
        keyboard.send_keys("Write a verse")
        keyboard.send_keys(Keys.ENTER)
        # the compare summary is drawn once both panes have finished
        wait.until(lambda d: "compare" in drawn(d) and drawn(d).count("done") >= 2)
        text = drawn(driver)
        shot = tmp_path / "browser.png"
        assert driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert "Write a verse" in text
    for answer in ("|Fizz|", "|y|", "|Bub|", "|bles|"):  # each chunk between delimiters
        assert answer in text, answer
    assert "pop" in text and "rise" in text
