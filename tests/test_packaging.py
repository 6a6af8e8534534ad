"""What users install: dependency ranges (not pins), the test set-up's constraints, the wheel's
and the sdist's contents, the metadata an index shows, and one version everywhere.

The distributions are built once for the module (``python -m build --no-isolation``: the sdist,
then the wheel from the sdist, as an index's users and packagers get them), with the build
backend from the test extra, so nothing is downloaded.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = ROOT / "constraints" / "test.txt"


def _dependency_lines() -> list[str]:
    """The lines of pyproject.toml's runtime ``dependencies`` list, comments included."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[\n(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert block is not None
    return block.group(1).splitlines()


# ----------------------------------------------------------------------------- dependencies


def test_runtime_dependencies_are_ranges_not_pins() -> None:
    """A user installing us beside another Textual app must be able to pick a nearby
    Textual: no ``==`` (or ``~=``, ``===``) on any runtime dependency."""
    for line in PYPROJECT["project"]["dependencies"]:
        req = Requirement(line)
        assert req.specifier, f"{req.name}: no lower bound"
        for spec in req.specifier:
            assert spec.operator in {">=", "<", "!="}, f"{line}: {spec.operator} pins"


def test_textual_admits_the_next_patch_and_minor_releases() -> None:
    (textual,) = (
        Requirement(d)
        for d in PYPROJECT["project"]["dependencies"]
        if Requirement(d).name == "textual"
    )
    for version in ("8.2.8", "8.2.9", "8.3.0", "8.9.1"):
        assert textual.specifier.contains(version), version
    assert not textual.specifier.contains("9.0.0")


def test_every_runtime_bound_has_its_reason_beside_it() -> None:
    """Each dependency line is preceded by a comment (or carries one) saying why its bounds
    are what they are."""
    lines = _dependency_lines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith('"'):
            continue
        before = lines[index - 1].strip() if index else ""
        assert "#" in stripped or before.startswith("#"), f"no reason beside {stripped}"


def test_shell_completion_comes_with_the_package() -> None:
    """``llmstream-tui completion bash`` must work right after ``pipx install``: argcomplete
    is a runtime dependency, not only the test extra's."""
    names = {Requirement(d).name for d in PYPROJECT["project"]["dependencies"]}
    assert "argcomplete" in names


def test_every_exact_pin_or_upper_bound_of_an_extra_has_its_reason_beside_it() -> None:
    """In the extras too, an ``==`` or ``<`` says why, on its line or the line above."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text[text.index("[project.optional-dependencies]") : text.index("[project.scripts]")]
    lines = section.splitlines()
    for index, line in enumerate(lines):
        requirement = re.search(r'"([A-Za-z0-9_.\[\]-]+[=<>!~][^"]*)"', line)
        if requirement is None or not re.search(r"==|<", requirement.group(1)):
            continue
        before = lines[index - 1].strip()
        assert "#" in line or before.startswith("#"), f"no reason beside {requirement.group(1)}"


def _constraints() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints/test.txt: {line!r} is not NAME==VERSION"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_constraints_pin_what_the_snapshots_depend_on_to_what_is_installed() -> None:
    pins = _constraints()
    for name in ("textual", "rich", "pytest-textual-snapshot", "syrupy", "pygments"):
        assert pins[name] == distribution(name).version, name


def test_constraints_satisfy_every_declared_range() -> None:
    """The pinned set covers what ``make test`` installs and is one that pyproject's ranges
    admit (else ``make deps-test`` cannot resolve). The bench extra, installed by hand with
    ``make bench``, is not pinned beyond what the test extra shares with it."""
    pins = _constraints()
    declared = [*PYPROJECT["project"]["dependencies"]]
    for extra in ("test", "langchain"):
        declared += PYPROJECT["project"]["optional-dependencies"][extra]
    for line in declared:
        req = Requirement(line)
        key = req.name.lower().replace("_", "-")
        assert key in pins, f"constraints/test.txt lacks {req.name}"
        assert req.specifier.contains(pins[key], prereleases=True), (line, pins[key])


def test_make_installs_with_the_constraints() -> None:
    """``make run``, ``make test`` (``deps-test``) and ``make bench`` install through one
    command, and that command passes the constraints file."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^CONSTRAINTS := constraints/test\.txt$", makefile, re.MULTILINE)
    definition = re.search(r"^PIP_INSTALL = (.*)$", makefile, re.MULTILINE)
    assert definition is not None and "pip install" in definition.group(1)
    assert "-c $(CONSTRAINTS)" in definition.group(1)
    recipes = [line.strip() for line in makefile.splitlines() if line.startswith("\t")]
    installs = [line for line in recipes if "pip install" in line or "PIP_INSTALL" in line]
    assert len(installs) == 3 and all(line.startswith("$(PIP_INSTALL) -e ") for line in installs)


def test_readme_tells_how_the_pins_are_kept() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`constraints/test.txt`" in readme and "`make constraints`" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^constraints: ", makefile, re.MULTILINE)


# ----------------------------------------------------------------------------- the builds


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def wheel_names(dists: dict[str, Path]) -> set[str]:
    with zipfile.ZipFile(dists["wheel"]) as whl:
        return set(whl.namelist())


@pytest.fixture(scope="module")
def sdist_names(dists: dict[str, Path]) -> set[str]:
    with tarfile.open(dists["sdist"]) as tar:
        root = tar.getnames()[0].split("/")[0]
        return {name.removeprefix(root + "/") for name in tar.getnames()}


@pytest.fixture(scope="module")
def metadata(dists: dict[str, Path], wheel_names: set[str]) -> Message:
    (name,) = (n for n in wheel_names if n.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(dists["wheel"]) as whl:
        return Parser().parsestr(whl.read(name).decode("utf-8"))


def test_wheel_carries_license_themes_and_the_example_config(wheel_names: set[str]) -> None:
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel_names)
    for theme in (ROOT / "themes").glob("*.toml"):
        assert f"llmstream_tui/themes/{theme.name}" in wheel_names
    assert "llmstream_tui/data/config.example.toml" in wheel_names
    assert "llmstream_tui/ui/app.tcss" in wheel_names
    assert "llmstream_tui/py.typed" in wheel_names
    assert not [n for n in wheel_names if "__pycache__" in n or n.startswith("tests/")]


def test_wheel_example_config_is_the_repository_one(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as whl:
        shipped = whl.read("llmstream_tui/data/config.example.toml")
    assert shipped == (ROOT / "config.example.toml").read_bytes()


def test_sdist_holds_the_source_tests_and_license(sdist_names: set[str]) -> None:
    for name in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "config.example.toml",
        "constraints/test.txt",
        "Makefile",
        "src/llmstream_tui/__init__.py",
        "src/llmstream_tui/ui/app.tcss",
        "tests/conftest.py",
        "tests/test_packaging.py",
        "themes/llmstream-dark.toml",
        "bench/__main__.py",
    ):
        assert name in sdist_names, name


def test_sdist_leaves_out_team_documents_results_and_caches(sdist_names: set[str]) -> None:
    unwanted = re.compile(
        r"^(docs/|bench/results/|\.import_linter_cache/|snapshot_report\.html$|\.venv/)"
        r"|__pycache__|\.pyc$|\.mypy_cache|\.ruff_cache|\.pytest_cache|\.hypothesis"
    )
    assert sorted(n for n in sdist_names if unwanted.search(n)) == []
    assert "docs/CONTRIBUTING-HELPERS.md" not in sdist_names


def test_metadata_an_index_shows(metadata: Message) -> None:
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "llmstream-tui authors" in (metadata["Author"] or metadata["Author-email"] or "")
    keywords = (metadata["Keywords"] or "").split(",")
    assert {"llm", "streaming", "textual", "tui"} <= set(keywords)
    classifiers = metadata.get_all("Classifier") or []
    assert "Environment :: Console" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX field says it
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert metadata["Requires-Python"] == ">=3.11"


def test_long_description_has_no_links_an_index_cannot_follow(metadata: Message) -> None:
    """The index shows the README alone: a relative link (a file of the repository) or a
    relative image would be a dead link there."""
    body = metadata.get_payload()
    assert isinstance(body, str) and "# llmstream-tui" in body
    targets = re.findall(r"\]\(([^)\s]+)", body)
    assert targets, "no links at all: the pattern is wrong"
    relative = [t for t in targets if not t.startswith(("#", "https://", "http://"))]
    assert relative == []


def test_long_description_renders_as_the_index_renders_it(metadata: Message) -> None:
    """PyPI renders the description with readme_renderer (what ``twine check`` runs): it
    must render, keep the sections, and hold no relative link or image."""
    from readme_renderer.markdown import render

    assert metadata["Description-Content-Type"] == "text/markdown"
    body = metadata.get_payload()
    assert isinstance(body, str)
    html = render(body)
    assert html is not None
    for section in ("Install", "Quick start with real providers", "Configuration"):
        assert re.search(rf"<h2[^>]*>\s*{re.escape(section)}\s*<", html), section
    relative = re.findall(r'(?:href|src)="(?![a-z]+:|#)([^"]*)"', html)
    assert relative == []


def test_license_is_mit_by_the_llmstream_tui_authors() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) \d{4} llmstream-tui authors", text)
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


# ----------------------------------------------------------------------------- the version


def test_version_is_written_once_in_version_py() -> None:
    assert PYPROJECT["project"].get("version") is None
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/llmstream_tui/version.py"
    from llmstream_tui.version import VERSION

    written = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("src/**/*.py"), ROOT / "pyproject.toml", ROOT / "README.md"]
        if re.search(rf"\b{re.escape(VERSION)}\b", path.read_text(encoding="utf-8"))
    ]
    assert written == ["src/llmstream_tui/version.py"]


def test_built_version_equals_the_package_and_the_cli(
    dists: dict[str, Path], metadata: Message
) -> None:
    import llmstream_tui

    assert metadata["Version"] == llmstream_tui.__version__
    assert dists["wheel"].name.startswith(f"llmstream_tui-{llmstream_tui.__version__}-")
    proc = subprocess.run(
        [sys.executable, "-m", "llmstream_tui", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"llmstream-tui {llmstream_tui.__version__}\n"


def test_installed_wheel_writes_its_example_config_and_knows_its_version(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    """What a ``pipx install`` user has: the wheel alone, no repository beside it.
    ``config init`` writes the example the wheel carries."""
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
        + ["--no-compile", "--target", str(site), str(dists["wheel"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    script = (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); import llmstream_tui; "
        "print(llmstream_tui.__file__, file=sys.stderr); "
        "from llmstream_tui.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    outputs = []
    for argv in (["config", "init"], ["--version"]):
        proc = subprocess.run(
            [sys.executable, "-c", script, str(site), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(str(site)), "imported from the repository, not the wheel"
        outputs.append(proc.stdout)
    written = tmp_path / "llmstream-tui" / "config.toml"
    assert outputs[0] == f"{written}\n"
    assert written.read_bytes() == (ROOT / "config.example.toml").read_bytes()
    from llmstream_tui.version import VERSION

    assert outputs[1] == f"llmstream-tui {VERSION}\n"
