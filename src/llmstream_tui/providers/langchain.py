"""``langchain``: any LangChain runnable (a chain, a chat model, a LangGraph graph) as a backend.

The reference names the user's own object as uvicorn names an app: ``langchain:MODULE:ATTR``
(``langchain:my_app.chains:qa_chain``, the attribute is the runnable) or
``langchain:MODULE:FACTORY()`` (``langchain:my_app.graph:build()``, called once with no
arguments when the provider is built); in a config table ``kind = "langchain"``,
``target = "my_app.chains:qa_chain"``. The current directory is put on ``sys.path`` first, so
an app beside the user's shell is found. A target that cannot be loaded (no such module, no
such attribute, not a runnable, a factory that raises) is one ``ConfigError`` line naming it.

``astream_events`` is the wrapped runnable's own: our config (callbacks, tags, metadata,
run name, run id) and the include/exclude filters are handed to it, so every nested run
(prompts, chat models, LLMs, tools, retrievers, parsers, LangGraph nodes) arrives exactly as
LangChain emits it, v1 and v2: same events, names, run ids, parent ids, tags, metadata, data;
the root run has the target's own name. Nothing is added. The only thing of ours is the
timeline: a ``timeline`` in the config gets the start, the first byte (the first stream
event of any run inside) and the root run's chunks (what the application outputs).

``flavor`` says what the application takes, since a pane sends its conversation (unset, it
is read from the runnable's input schema: ``llm`` for a string, or a prompt with one
variable; ``chat`` otherwise): ``chat`` sends the conversation as langchain-core messages,
wrapped as ``{input_key: messages}`` when ``input_key`` is set or the runnable's input schema is a
mapping with a ``messages`` field (a LangGraph ``MessagesState`` graph, a prompt with a
``messages`` placeholder), where a prompt string (``stream``'s) goes as one human message;
``llm`` sends the prompt as one string (a conversation flattened, as for our text LLMs). Any
other input a caller passes goes to the runnable as given, but our own message objects,
which become langchain-core's. What the application outputs may be
anything; as text (the pane, ``astream``, the CLI) it reads:

- ``str`` (a text LLM, a chain ending in ``StrOutputParser``): the text itself.
- a message chunk (``AIMessageChunk``): ``content`` (a string, or a list of content blocks
  whose ``text`` blocks are the answer and ``thinking``/``reasoning`` blocks the REASONING
  channel); ``additional_kwargs["reasoning_content"]`` (or ``reasoning``) to REASONING and
  ``["refusal"]`` to REFUSAL; each of ``tool_call_chunks`` to TOOL_CALL; ``usage_metadata``
  as the usage delta (LangChain chunks already carry deltas: they add up with ``+``);
  ``response_metadata``'s ``finish_reason`` (or ``stop_reason``/``done_reason``, as the
  Anthropic and Ollama integrations name it) as the finish reason, the rest as metadata.
- anything else (a dict of a graph's state update, a list): compact JSON (messages inside
  as their content), so a chain of any output type shows something readable.

``astream``/``ainvoke`` give the runnable's ``astream``/``ainvoke`` items converted so
(``stream = false``: ``ainvoke`` once; a whole ``AIMessage``'s ``tool_calls`` become one
tool-call chunk each). An exception from the runnable becomes an ``UpstreamError`` naming
its type, with the root's text so far as its partial text.

Nothing here imports ``langchain_core`` at import time (an optional extra): the wrapped
object is used through its public methods, and the message classes are imported only when
our messages have to be handed over, by which time the user's runnable has imported them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Literal, cast

from pydantic import Field

from ..core.backend import ModelInput, ModelRequest, RunContext, RunnableConfig, aclosing
from ..core.events import StreamEvent, compact_json
from ..core.inert import escape_controls
from ..core.message_io import to_messages, to_prompt
from ..core.messages import (
    LC_AUTO_PREFIX,
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    UsageMetadata,
)
from ..core.metrics import StreamTimeline
from ..core.parts import META, REASONING, REFUSAL, TEXT, TOOL_CALL, StreamPart
from ..core.runnable import LanguageModel
from ..errors import ConfigError, ProviderError, UpstreamError
from .spec import ProviderSpec

#: Keys of ``response_metadata`` that name the stop reason, by integration.
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason")
#: Longest piece of a user exception's message put in a one-line error.
_MESSAGE_MAX = 300


class LangChainSpec(ProviderSpec):
    """Options of the ``langchain`` kind."""

    kind: Literal["langchain"] = "langchain"
    #: ``"package.module:attribute"`` (the runnable) or ``"package.module:factory()"`` (a
    #: callable taking no argument that returns one, so building it may read its settings).
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(\(\))?$")
    #: ``chat``: a pane sends its conversation as messages; ``llm``: as one prompt string.
    #: Unset: ``llm`` when the runnable's input schema is a string (or a mapping of one
    #: string field, which a one-variable prompt fills from a bare string), else ``chat``.
    flavor: Literal["llm", "chat"] | None = None
    #: Send the messages as ``{input_key: messages}`` (default: ``"messages"`` when the
    #: runnable's input schema is a mapping with that field, else the bare list).
    input_key: str | None = None

    #: A reference's part after ``langchain:`` is the target, not a model name.
    reference_field: ClassVar[str] = "target"


def one_line(exc: BaseException) -> str:
    """``TypeName: message`` of a user exception, on one line, inert and bounded."""
    message = escape_controls(" ".join(str(exc).split()))[:_MESSAGE_MAX]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def is_runnable(value: object) -> bool:
    """Whether ``value`` streams events as a LangChain runnable does (duck typing: no
    ``langchain_core`` import needed to tell)."""
    return callable(getattr(value, "astream_events", None)) and callable(
        getattr(value, "astream", None)
    )


#: target -> the runnable it named, inside ``targets_loaded_once`` (else None: no memo)
_loaded: dict[str, Any] | None = None


@contextmanager
def targets_loaded_once() -> Iterator[None]:
    """Inside, each target is loaded (imported, its factory called) once and reused: the
    command line checks its references before running them, and the run must get what the
    check loaded, not call a factory a second time. Outside, every build loads afresh, so
    each pane gets its own runnable from a factory."""
    global _loaded
    outer = _loaded
    _loaded = {} if outer is None else outer
    try:
        yield
    finally:
        _loaded = outer


def load_target(target: str) -> Any:
    """Import ``module:attribute`` (dotted attributes allowed) and return the runnable; with
    a trailing ``()`` the attribute is a factory, called with no arguments. The current
    directory goes first on ``sys.path``, as uvicorn does for ``module:app``.

    Inside ``targets_loaded_once`` a target already loaded is reused.

    ``ConfigError``, one line naming the target, when the module cannot be imported, the
    attribute does not exist, the factory raises, or what is found is not a runnable."""
    memo = _loaded
    if memo is None:
        return _load(target)
    if target not in memo:
        memo[target] = _load(target)
    return memo[target]


def _load(target: str) -> Any:
    where = f"langchain target {target!r}"
    module_name, _, attribute = target.partition(":")
    factory = attribute.endswith("()")
    attribute = attribute.removesuffix("()")
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{where}: no module named {exc.name or module_name!r}") from None
    except Exception as exc:  # noqa: BLE001  # importing user code: whatever it raises, one line
        raise ConfigError(f"{where}: importing {module_name!r} failed: {one_line(exc)}") from None
    for name in attribute.split("."):
        try:
            value = getattr(value, name)
        except AttributeError:
            raise ConfigError(f"{where}: no attribute {name!r}") from None
    if factory:
        if not callable(value):
            raise ConfigError(f"{where}: {attribute} is {type(value).__name__}, not a factory")
        try:
            value = value()
        except Exception as exc:  # noqa: BLE001  # the factory is user code: one line, any error
            raise ConfigError(f"{where}: the factory failed: {one_line(exc)}") from None
    if not is_runnable(value):
        what = "the factory returned" if factory else "is"
        hint = " (write it with () to call a factory)" if callable(value) and not factory else ""
        raise ConfigError(f"{where}: {what} {type(value).__name__}, not a runnable{hint}")
    return value


def compact_text(value: Any) -> str:
    """An output that is neither text nor a message, as one compact JSON text (messages
    inside as their content; see ``core.events.compact_json``)."""
    return value if isinstance(value, str) else compact_json(value)


def convert(item: Any, *, whole: bool = False) -> list[StreamPart]:  # noqa: C901  # per chunk: one flat pass over a chunk's fields
    """The parts one item from the runnable stands for (``whole``: a complete ``AIMessage``,
    whose parsed ``tool_calls`` are turned back into chunks)."""
    if type(item) is str:
        return [StreamPart(item)]
    content = getattr(item, "content", None)
    if content is None:
        return [StreamPart(compact_text(item))] if item is not None else []
    out: list[StreamPart] = []
    part_id = getattr(item, "id", None)
    if part_id and part_id.startswith(LC_AUTO_PREFIX):
        part_id = None  # LangChain's run id for the inner run: ours takes its place
    extra: Mapping[str, Any] = getattr(item, "additional_kwargs", None) or {}
    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(StreamPart(reasoning, REASONING, id=part_id))
    if isinstance(content, str):
        if content:
            out.append(StreamPart(content, id=part_id))
    else:
        for block in content:
            out.extend(_block(block, part_id))
    refusal = extra.get("refusal")
    if isinstance(refusal, str) and refusal:
        out.append(StreamPart(refusal, REFUSAL, id=part_id))
    chunks = list(getattr(item, "tool_call_chunks", None) or ())
    if whole and not chunks:
        for index, call in enumerate(getattr(item, "tool_calls", None) or ()):
            chunks.append(
                {
                    "name": call.get("name"),
                    "args": json.dumps(call.get("args") or {}),
                    "id": call.get("id"),
                    "index": index,
                }
            )
    for chunk in chunks:
        out.append(
            StreamPart(
                "",
                TOOL_CALL,
                id=part_id,
                tool_call={
                    "name": chunk.get("name"),
                    "args": chunk.get("args"),
                    "id": chunk.get("id"),
                    "index": chunk.get("index"),
                },
            )
        )
    last = getattr(item, "chunk_position", None) == "last"
    if not out and not chunks:
        out.append(StreamPart("", id=part_id))  # an empty chunk is still a chunk boundary
    usage = getattr(item, "usage_metadata", None)
    meta = dict(getattr(item, "response_metadata", None) or {})
    finish = None
    for key in _FINISH_KEYS:
        if meta.get(key) is not None:
            finish = str(meta.pop(key))
            break
    if usage or finish is not None or meta:
        usage_delta = cast("UsageMetadata | None", dict(usage) if usage else None)
        if out and out[-1].channel == TEXT:
            last = out[-1]  # ride on the text: one chunk in, one chunk out
            last.usage, last.finish_reason, last.metadata = usage_delta, finish, meta or None
        else:
            out.append(
                StreamPart(
                    "",
                    META,
                    usage=usage_delta,
                    finish_reason=finish,
                    metadata=meta or None,
                    id=part_id,
                )
            )
    if last:
        out[-1].last = True  # the model closed its own stream: no closing chunk is added
    return out


def _block(block: Any, part_id: str | None) -> list[StreamPart]:
    """One content block of a list-valued ``content`` (Anthropic-style integrations)."""
    if isinstance(block, str):
        return [StreamPart(block, id=part_id)] if block else []
    if not isinstance(block, Mapping):
        return []
    kind = block.get("type")
    if kind == "text" and block.get("text"):
        return [StreamPart(str(block["text"]), id=part_id)]
    if kind in ("thinking", "reasoning"):
        text = block.get(kind) or block.get("text") or ""
        return [StreamPart(str(text), REASONING, id=part_id)] if text else []
    return []


def output_text(chunk: Any) -> str:
    """The answer text one output item shows (its TEXT parts), as the pane and the CLI
    read an application's chunks."""
    if type(chunk) is str:
        return chunk
    return "".join(p.text for p in convert(chunk) if p.channel == TEXT)


def lc_message(message: BaseMessage) -> Any:
    """One of our messages as langchain-core's (imported now: only a LangChain runnable is
    handed messages, so langchain-core is there)."""
    from langchain_core import messages as lc

    kind = message.type
    if kind == "system":
        return lc.SystemMessage(message.content)
    if kind == "human":
        return lc.HumanMessage(message.content)
    if isinstance(message, ToolMessage):
        return lc.ToolMessage(message.content, tool_call_id=message.tool_call_id)
    if isinstance(message, AIMessage):
        return lc.AIMessage(
            message.content,
            id=message.id,
            tool_calls=[
                {"name": c.get("name") or "", "args": c.get("args") or {}, "id": c.get("id")}
                for c in message.tool_calls
            ],
            additional_kwargs=dict(message.additional_kwargs),
            response_metadata=dict(message.response_metadata),
        )
    return lc.ChatMessage(content=message.content, role=message.role or kind)


def _input_schema(runnable: Any) -> Mapping[str, Any]:
    """The runnable's input JSON schema, or an empty one when it cannot be built (a type
    hint pydantic cannot resolve: nothing is then known of the input)."""
    try:
        schema = runnable.get_input_jsonschema()
    except Exception:  # noqa: BLE001  # user code's schema: whatever fails, nothing known
        return {}
    return schema if isinstance(schema, Mapping) else {}


def _input_key_of(runnable: Any) -> str | None:
    """``"messages"`` when the runnable takes a mapping with a ``messages`` field."""
    schema = _input_schema(runnable)
    if schema.get("type") != "object":
        return None
    return "messages" if "messages" in (schema.get("properties") or {}) else None


def _flavor_of(runnable: Any) -> Literal["llm", "chat"]:
    """``llm`` for a runnable taking a string (or a one-string-field mapping, as a prompt
    with one variable does, which LangChain fills from a bare string), else ``chat``."""
    schema = _input_schema(runnable)
    if schema.get("type") == "string":
        return "llm"
    fields = schema.get("properties") or {}
    if schema.get("type") == "object" and len(fields) == 1 and "messages" not in fields:
        (field,) = fields.values()
        if isinstance(field, Mapping) and field.get("type") == "string":
            return "llm"
    return "chat"


class AppRequest(ModelRequest):
    """A request to an application: the caller's input as given (``value``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any, stop: list[str] | None, overrides: dict[str, Any]) -> None:
        super().__init__("", [], stop, overrides)
        self.value = value


class LangChainModel(LanguageModel):
    """A LangChain runnable behind our interface (``target`` imported when built)."""

    ls_provider = "langchain"
    Spec = LangChainSpec

    def __init__(self, spec: LangChainSpec, *, name: str, runnable: Any = None) -> None:
        runnable = runnable if runnable is not None else load_target(spec.target)
        super().__init__(
            name=name,
            model=spec.model or spec.target,
            flavor=spec.flavor or _flavor_of(runnable),
            streaming=spec.stream,
            tags=spec.tags,
            params=spec.params.model_dump(),
        )
        self.spec = spec
        self.runnable = runnable
        self._input_key: str | None | Literal[False] = spec.input_key or False

    @classmethod
    def from_spec(cls, name: str, spec: LangChainSpec, client: Any = None) -> LangChainModel:
        """Imports ``target`` now, so a wrong name is a ``ConfigError`` before any run."""
        return cls(spec, name=name)

    def output_text(self, chunk: Any) -> str:
        """The text a chunk of any run inside shows (see the module docstring). Having it
        says this backend's events are a whole run tree (``ui.run_sources.RunsNested``)."""
        return output_text(chunk)

    # -- input -------------------------------------------------------------------------------

    def app_input(self, value: Any) -> Any:
        """What the runnable is handed for ``value`` (see the module docstring): our messages
        become langchain-core's, a conversation a prompt for ``flavor = "llm"``, and a
        message list goes under ``input_key``, as does a prompt string (one human message)
        when the runnable takes messages that way; anything else as given."""
        if isinstance(value, str):
            if self.flavor == "chat" and self._key() is not None:
                return self._keyed([lc_message(HumanMessage(value))])
            return value
        if isinstance(value, BaseMessage):
            value = [value]
        if not (isinstance(value, list | tuple) and value and isinstance(value[0], BaseMessage)):
            return value
        if self.flavor == "llm":
            return to_prompt(list(value))
        return self._keyed([lc_message(m) for m in value])

    def _key(self) -> str | None:
        """``input_key``, or the one the runnable's input schema asks for (read once)."""
        key = self._input_key
        if key is False:
            key = self._input_key = _input_key_of(self.runnable)
        return key

    def _keyed(self, messages: list[Any]) -> Any:
        key = self._key()
        return {key: messages} if key else messages

    def _request(self, value: ModelInput, stop: list[str] | None, kw: dict[str, Any]) -> AppRequest:
        """The caller's input kept as given: an application's input need not be a prompt
        or messages (a graph takes its state), so nothing is converted up front."""
        return AppRequest(value, stop, kw)

    def _input(self, request: ModelRequest) -> Any:
        """What ``astream``/``ainvoke`` hand the runnable: as ``astream_events`` does, but a
        chat app's message list (ours, LangChain's, tuples or dicts) gets the configured
        ``system`` prompt first when it has none."""
        value = request.value if isinstance(request, AppRequest) else request.prompt
        system = self.params.get("system")
        if self.flavor == "chat" and system and isinstance(value, list | tuple):
            try:
                messages = to_messages(value)
            except TypeError:  # not messages: the app's own kind of input
                return self.app_input(value)
            if not any(m.type == "system" for m in messages):
                messages.insert(0, SystemMessage(system))
            return self.app_input(messages)
        return self.app_input(value)

    def _kwargs(self, stop: list[str] | None) -> dict[str, Any]:
        stop = stop or self.params.get("stop")
        return {"stop": stop} if stop else {}

    # -- events: the runnable's own ----------------------------------------------------------

    async def astream_events(
        self,
        input: ModelInput | Mapping[str, Any],
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2"] = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[StreamEvent[Any]]:
        """The runnable's ``astream_events`` with our config: its events as they come."""
        lc_config: dict[str, Any] = dict(config or {})
        timeline = cast("StreamTimeline | None", lc_config.pop("timeline", None))
        if self.tags:
            lc_config["tags"] = [*(lc_config.get("tags") or []), *self.tags]
        events = self.runnable.astream_events(
            self.app_input(input),
            config=lc_config,
            version=version,
            include_names=include_names,
            include_types=include_types,
            include_tags=include_tags,
            exclude_names=exclude_names,
            exclude_types=exclude_types,
            exclude_tags=exclude_tags,
            **self._kwargs(stop),
            **kwargs,
        )
        received: list[str] = []
        if timeline is not None and timeline.start_ns is None:
            timeline.start()
        root: str | None = None
        try:
            async with aclosing(events):
                async for ev in events:
                    if root is None and not ev.get("parent_ids"):
                        root = ev["run_id"]  # the first run at the top: the root's start
                    if ev["event"].endswith("_stream"):
                        if timeline is not None:
                            timeline.first_byte()
                        if ev["run_id"] == root:
                            _root_chunk(ev["data"]["chunk"], timeline, received)
                    yield ev
        except ProviderError:
            raise
        except Exception as exc:
            raise _upstream(exc, self.name, "".join(received)) from exc
        finally:
            if timeline is not None:
                timeline.finish()

    # -- astream / ainvoke: the runnable's items as our parts --------------------------------

    async def _astream(self, request: ModelRequest, ctx: RunContext) -> AsyncIterator[StreamPart]:
        first = True
        stream = self.runnable.astream(self._input(request), **self._kwargs(request.stop))
        try:
            async with aclosing(stream):  # closing ours closes the runnable's at once
                async for item in stream:
                    if first:
                        ctx.first_byte()
                        first = False
                    for part in convert(item):
                        yield part
        except ProviderError:
            raise
        except Exception as exc:
            raise _upstream(exc) from exc

    async def _agenerate(self, request: ModelRequest, ctx: RunContext) -> list[StreamPart]:
        try:
            result = await self.runnable.ainvoke(self._input(request), **self._kwargs(request.stop))
        except ProviderError:
            raise
        except Exception as exc:
            raise _upstream(exc) from exc
        ctx.first_byte()
        return convert(result, whole=True)


def _root_chunk(chunk: Any, timeline: StreamTimeline | None, received: list[str]) -> None:
    """One chunk of the root run (what the application outputs): its text kept for a
    failure's partial text and, as the core stamps a backend's parts, on the timeline:
    answer text as a chunk, other channels as side parts, usage added."""
    for part in convert(chunk):
        channel = part.channel
        if channel == TEXT:
            received.append(part.text)
            if timeline is not None:
                timeline.chunk(part.text)
        elif timeline is None:
            continue
        elif channel != META:
            timeline.side(channel, part.text)
        usage = part.usage
        if usage is not None and timeline is not None:
            details = usage.get("output_token_details")
            timeline.add_usage(
                usage.get("output_tokens"), details.get("reasoning") if details else None
            )


def _upstream(exc: BaseException, provider: str = "", partial: str = "") -> UpstreamError:
    """The runnable's exception as one line: its type and the start of its message."""
    return UpstreamError(one_line(exc), provider=provider, partial_text=partial)
