"""Kinds by table, ``register_kind`` and entry points; ``build_llm``'s flavour check."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from llmstream_tui.errors import ConfigError
from llmstream_tui.providers import registry
from llmstream_tui.providers.registry import (
    BUILTIN_KINDS,
    KindTable,
    backend_class,
    build_llm,
    kind_names,
    plugin_problems,
    register_kind,
    validate_table,
)
from llmstream_tui.providers.scripted import ScriptedModel


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    """A fresh kind table whose installed plugins are the entry points the test appends."""
    found: list[EntryPoint] = []
    monkeypatch.setattr(registry, "KINDS", KindTable(BUILTIN_KINDS))
    monkeypatch.setattr(registry, "entry_points", lambda group: list(found))
    return found


class EchoScripted(ScriptedModel):
    """A registered kind reusing the scripted backend (its own Spec is not needed here)."""


def test_register_kind_with_a_class_is_usable_in_references_and_tables(
    plugins: list[EntryPoint],
) -> None:
    register_kind("echo-class", EchoScripted)
    assert "echo-class" in kind_names()
    assert backend_class("echo-class") is EchoScripted
    spec = validate_table({"kind": "scripted", "chunks": ["a"]})
    assert spec.kind == "scripted"


def test_register_kind_with_an_import_path_imports_on_first_use(
    plugins: list[EntryPoint],
) -> None:
    register_kind("later", "llmstream_tui.providers.scripted:ScriptedModel")
    assert backend_class("later") is ScriptedModel


@pytest.mark.parametrize(
    ("kind", "target", "error"),
    [
        ("has:colon", "m:C", ValueError),
        ("", "m:C", ValueError),
        ("ok", "no_colon", ValueError),
        ("ok", "a:b:c", ValueError),
        ("ok", object, TypeError),
        ("scripted", "m:C", ValueError),  # a built-in kind
    ],
)
def test_register_kind_refuses_bad_names_and_targets(
    plugins: list[EntryPoint], kind: str, target: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        register_kind(kind, target)


def test_registering_twice_needs_replace(plugins: list[EntryPoint]) -> None:
    register_kind("twice", EchoScripted)
    with pytest.raises(ValueError, match="already registered"):
        register_kind("twice", ScriptedModel)
    register_kind("twice", ScriptedModel, replace=True)
    assert backend_class("twice") is ScriptedModel


def test_entry_points_are_discovered_once_and_only_for_kinds_not_built_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def fake_entry_points(group: str) -> list[EntryPoint]:
        calls.append(group)
        return [EntryPoint("plug", "llmstream_tui.providers.scripted:ScriptedModel", group)]

    monkeypatch.setattr(registry, "KINDS", KindTable(BUILTIN_KINDS))
    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert backend_class("scripted") is ScriptedModel
    assert calls == []  # a built-in kind needs no scan
    assert backend_class("plug") is ScriptedModel
    assert "plug" in kind_names()
    assert calls == ["llmstream_tui.providers"]


def test_a_plugin_that_fails_to_import_is_one_config_error_line(
    plugins: list[EntryPoint],
) -> None:
    plugins.append(EntryPoint("gone", "no_such_module_xyz:Model", "llmstream_tui.providers"))
    plugins.append(EntryPoint("notamodel", "llmstream_tui.errors:ConfigError", "g"))
    with pytest.raises(ConfigError) as info:
        backend_class("gone")
    assert "\n" not in str(info.value)
    assert "'gone'" in str(info.value) and "no_such_module_xyz" in str(info.value)
    with pytest.raises(ConfigError, match="not a LanguageModel subclass"):
        backend_class("notamodel")
    assert backend_class("simulated").__name__ == "SimulatedModel"


def test_malformed_and_clashing_entry_points_are_ignored_with_a_problem(
    plugins: list[EntryPoint],
) -> None:
    plugins.append(EntryPoint("simulated", "x:Y", "llmstream_tui.providers"))
    plugins.append(EntryPoint("nocls", "just_a_module", "llmstream_tui.providers"))
    problems = plugin_problems()
    assert len(problems) == 2
    assert "kind 'simulated' is a built-in kind" in problems[0]
    assert "expected KIND = 'module:Class'" in problems[1]
    assert "nocls" not in kind_names()
    assert backend_class("simulated").__name__ == "SimulatedModel"


def test_build_llm_checks_the_flavour_asked_for() -> None:
    chat = build_llm({"kind": "scripted", "chunks": ["a"]}, flavor="chat")
    assert chat.invoke("hi").content == "a"
    text = build_llm({"kind": "scripted", "flavor": "llm", "chunks": ["a"]}, flavor="llm")
    assert text.invoke("hi") == "a"
    with pytest.raises(ConfigError) as info:
        build_llm("swift", flavor="llm")
    assert str(info.value) == (
        "provider 'swift' is a chat model, not a text LLM (flavor='llm' was asked for)"
    )
    assert build_llm("swift").flavor == "chat"  # no flavour asked: either
