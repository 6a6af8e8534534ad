"""The parameter rules every kind shares (providers/params.py): merge order, what is never
sent, stop as a list, nesting, where the system prompt goes. Each kind's own table is pinned by
the request tests of its module (test_openai.py, test_anthropic.py...)."""

from __future__ import annotations

import dataclasses
from typing import Any

from llmstream_tui.core.messages import HumanMessage, SystemMessage
from llmstream_tui.core.runnable import ModelRequest
from llmstream_tui.providers.params import OUR_NAMES, ParamMap, map_params, system_texts
from llmstream_tui.providers.spec import Params


def request(
    *, stop: list[str] | None = None, overrides: dict[str, Any] | None = None
) -> ModelRequest:
    return ModelRequest("hi", [HumanMessage("hi")], stop, overrides or {})


def test_a_map_names_every_one_of_our_parameters() -> None:
    assert set(Params.model_fields) == OUR_NAMES
    assert {f.name for f in dataclasses.fields(ParamMap)} >= OUR_NAMES


def test_overrides_win_over_the_configured_params_and_request_stop_over_both() -> None:
    params = {"temperature": 0.1, "stop": ["a"], "max_tokens": 5}
    fields, _ = map_params(
        ParamMap(max_tokens="max_completion_tokens"),
        params,
        request(stop=["c"], overrides={"temperature": 0.9, "stop": ["b"]}),
    )
    assert fields == {"temperature": 0.9, "stop": ["c"], "max_completion_tokens": 5}


def test_an_empty_request_stop_leaves_the_configured_one() -> None:
    fields, _ = map_params(ParamMap(), {"stop": ["a"]}, request(stop=[]))
    assert fields == {"stop": ["a"]}


def test_none_is_never_sent_nor_a_parameter_the_api_lacks() -> None:
    fields, _ = map_params(
        ParamMap(seed=None),
        {"seed": 7, "top_p": 0.5},
        request(overrides={"top_p": None, "user": None, "tools": []}),
    )
    assert fields == {"tools": []}


def test_stop_is_a_list_and_an_empty_one_is_not_sent() -> None:
    pmap = ParamMap(stop="stop_sequences")
    assert map_params(pmap, {}, request(overrides={"stop": "\n"})).fields == {
        "stop_sequences": ["\n"]
    }
    assert map_params(pmap, {}, request(overrides={"stop": ("x", "y")})).fields == {
        "stop_sequences": ["x", "y"]
    }
    assert map_params(pmap, {"stop": []}, request()).fields == {}


def test_nested_params_sit_over_the_kinds_own_and_an_empty_nest_is_not_sent() -> None:
    pmap = ParamMap(max_tokens="num_predict", nest="options")
    fields, _ = map_params(
        pmap, {"max_tokens": 9}, request(), nested={"num_ctx": 4096, "num_predict": 1}
    )
    assert fields == {"options": {"num_ctx": 4096, "num_predict": 9}}
    assert map_params(pmap, {}, request()).fields == {}


def test_pass_through_keys_come_last_over_the_kinds_own_fields() -> None:
    fields, _ = map_params(
        ParamMap(nest="generationConfig"),
        {"temperature": 0.2},
        request(overrides={"thinking": {"type": "disabled"}, "generationConfig": {"x": 1}}),
        extra={"thinking": {"type": "enabled"}, "keep_alive": "5m"},
    )
    assert fields == {
        "thinking": {"type": "disabled"},
        "keep_alive": "5m",
        "generationConfig": {"x": 1},
    }


def test_the_system_prompt_goes_where_the_map_says_and_always_back_to_the_adapter() -> None:
    sent = map_params(ParamMap(system="instructions"), {"system": "Be brief."}, request())
    assert sent == ({"instructions": "Be brief."}, "Be brief.")
    kept = map_params(ParamMap(), {"system": "Be brief."}, request())
    assert kept == ({}, "Be brief.")
    assert map_params(ParamMap(system="system"), {"system": ""}, request()) == ({}, None)


def test_a_required_max_tokens_gets_its_default_only_when_unset() -> None:
    pmap = ParamMap(default_max_tokens=1024)
    assert map_params(pmap, {}, request()).fields == {"max_tokens": 1024}
    assert map_params(pmap, {"max_tokens": 5}, request()).fields == {"max_tokens": 5}


def test_system_messages_win_over_the_configured_system_prompt() -> None:
    messages = [SystemMessage("From the chat."), HumanMessage("hi")]
    assert system_texts(messages, "Configured.") == ["From the chat."]
    assert system_texts([HumanMessage("hi")], "Configured.") == ["Configured."]
    assert system_texts([HumanMessage("hi")], None) == []
