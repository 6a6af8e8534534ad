"""``llmstream-tui compare PROMPTS -p A -p B [...]``: the same prompts against several
providers, many times; the statistics table on stdout, a progress bar on stderr.

    llmstream-tui compare (PROMPTS | --builtin) [-p REF]... [--repeat K]
        [--concurrency N | --rate R | --sweep 1,4,16] [--warmup W] [--max-requests N]
        [--duration S] [--seed N] [--format table|json] [--out DIR] [--progress|--no-progress]
        [--live|--no-live]
        [--baseline OLD/summary.json [--threshold PCT] [--fail-on-regression]]
    llmstream-tui compare merge DIR... [--format table|json] [--out DIR]

The runner (``sessions/compare_run.py``) does the work and the core
(``core/compare_stats.py``) the figures; this module parses, shows progress and writes what
``--out DIR`` asks for:

- ``requests/PROVIDER-LEVEL.jsonl``: every counted request as one turn of a recording
  (``core/recording.py``): its prompt, each chunk with its time, its end or error line;
  ``llmstream-tui replay`` plays one;
- ``summary.json``: the run's shape, each group's statistics and every request's raw
  figures (so runs can be merged exactly later);
- ``report.md``: the table and the errors, with the plots;
- plots as SVG and PNG (``pip install 'llmstream-tui[plots]'``, matplotlib): the CDF of
  time to first token per provider, of the inter-chunk gaps, and for a sweep latency and
  throughput against concurrency. Without matplotlib one line says so and the rest is
  written.

In a terminal (stdin and stdout) with ``--format table`` the run is watched on the live
screen (``ui/screens/compare.py``; ``--live``/``--no-live`` force it either way); once the
screen is left, the table is printed and ``--out`` written as a headless run does.

``--baseline`` sets each group's figures beside an earlier run's (``summary.json``): the
relative change of TTFT, gaps and latency (p50, p99), tokens/s per user, request and token
throughput and the error rate, flagging what got worse by more than ``--threshold``
percent (``core.compare_stats.compare_to_baseline``).

Exit codes: 0; 1 when a provider failed every one of its requests (the others are still
reported); 2 for bad usage, a bad prompt file, baseline or configuration; 3 when a figure
regressed and ``--fail-on-regression`` is given; 130 when interrupted (Ctrl+C), after
printing and writing what finished.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .arg_types import whole_number

if TYPE_CHECKING:  # the parser is built on every start: the heavy imports wait for a run
    from ..config import Settings
    from ..core.compare_stats import Change, GroupSummary
    from ..sessions.compare_run import CompareRun, LoadShape

__all__ = ["add_compare_command", "best_cells", "compare_command", "wants_live"]

SUMMARY_FORMAT: Final = "llmstream-compare"
SUMMARY_VERSION: Final = 1
_POSITIVE = whole_number(1)


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {value}")
    return number


def _levels(value: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"concurrency levels as 1,4,16, not {value!r}") from None
    if any(n < 1 for n in levels):
        raise argparse.ArgumentTypeError(f"levels must be 1 or more: {value!r}")
    return levels


def add_compare_command(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``compare`` to the command parser's subparsers; ``common`` adds ``--config`` and
    ``-p`` as every command has them."""
    p = sub.add_parser(
        "compare",
        help="the same prompts against several providers, many times: distributions",
        description="Send a prompt set to every provider (-p, repeatable; default: the "
        "configured default providers) under a load shape, and print per provider and level "
        "the count, errors by kind and avg/min/max/p50/p90/p99/std of TTFT, inter-chunk "
        "gaps, latency, output tokens and tokens/s (AIPerf's metric names; README: Compare).",
    )
    common(p)
    p.add_argument(
        "prompts",
        nargs="*",
        metavar="PROMPTS",
        help="JSON-lines file (prompt or messages, id, params) or a text file of one prompt "
        "per line; `compare merge DIR...` combines earlier runs' --out directories",
    )
    p.add_argument(
        "--builtin",
        action="store_true",
        help="the prompt set shipped in the package (offline on the simulated providers)",
    )
    p.add_argument(
        "--repeat",
        type=_POSITIVE,
        default=1,
        metavar="K",
        help="send the set K times (default 1)",
    )
    p.add_argument(
        "--concurrency",
        type=_POSITIVE,
        metavar="N",
        help="closed loop: N requests in flight per provider (default 1); with "
        "--rate, at most N in flight",
    )
    p.add_argument(
        "--rate",
        type=_positive_float,
        metavar="R",
        help="open loop: Poisson arrivals at R requests/s per provider",
    )
    p.add_argument(
        "--sweep",
        type=_levels,
        default=(),
        metavar="1,4,16",
        help="one closed-loop level per concurrency, in turn",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        metavar="W",
        help="W requests first per provider and level, not counted",
    )
    p.add_argument(
        "--max-requests",
        type=_POSITIVE,
        metavar="N",
        help="count N requests per provider and level (the set cycled)",
    )
    p.add_argument(
        "--duration",
        type=_positive_float,
        metavar="S",
        help="start no request after S seconds per level",
    )
    p.add_argument("--seed", type=int, default=0, help="the order and arrival randomness")
    p.add_argument("-s", "--system", metavar="TEXT", help="the system prompt for this run")
    p.add_argument(
        "-o",
        "--option",
        nargs=2,
        action="append",
        dest="options",
        default=[],
        metavar=("KEY", "VALUE"),
        help="a generation parameter (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or json on stdout",
    )
    p.add_argument(
        "--out", metavar="DIR", help="write requests, summary.json, report.md and plots into DIR"
    )
    p.add_argument(
        "--baseline",
        metavar="SUMMARY",
        help="an earlier run's summary.json (or its --out DIR): print each figure's change",
    )
    p.add_argument(
        "--threshold",
        type=_positive_float,
        default=10.0,
        metavar="PCT",
        help="worse by more than PCT%% is a regression (default 10)",
    )
    p.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 3 when a figure regressed against --baseline (for CI)",
    )
    p.add_argument(
        "--no-history",
        action="store_true",
        help="do not save this comparison to the history database (`compare show ID`)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the progress bar on stderr (default: when stderr is a terminal)",
    )
    p.add_argument(
        "--live",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="watch the run on the live screen (default: when stdin and stdout are "
        "terminals and --format is table)",
    )


def _shape(args: argparse.Namespace) -> LoadShape:
    from ..sessions.compare_run import LoadShape

    return LoadShape(
        repeat=args.repeat,
        concurrency=args.concurrency,
        rate=args.rate,
        sweep=tuple(args.sweep),
        warmup=args.warmup,
        max_requests=args.max_requests,
        duration=args.duration,
        seed=args.seed,
    )


def _targets(args: argparse.Namespace, settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(unique display name, table) per ``-p``: the same reference twice gets ``#2``."""
    from .stream import run_tables

    args.providers = args.providers or list(settings.default_providers)
    seen: dict[str, int] = {}
    out = []
    for name, table in run_tables(args, settings):
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}#{seen[name]}", table))
    return out


def compare_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``compare``; ``ConfigError`` (exit 2) for bad usage, found before any request."""
    from ..core.compare_stats import compare_to_baseline, summarise
    from ..errors import ConfigError
    from ..sessions.compare_run import CompareRun, builtin_prompts, load_prompts, run_compare

    if args.prompts[:1] == ["merge"]:
        return _merge_command(args.prompts[1:], args)
    if args.prompts[:1] == ["show"]:
        return _show_command(args.prompts[1:], args)
    if args.builtin == bool(args.prompts):
        raise ConfigError("compare: give a prompt file or --builtin (one of them)")
    if len(args.prompts) > 1:
        raise ConfigError("compare: one prompt file (to combine runs: compare merge DIR...)")
    if args.warmup < 0:
        raise ConfigError("--warmup must be 0 or more")
    shape = _shape(args)
    baseline = _read_baseline(args.baseline) if args.baseline else None
    if args.fail_on_regression and baseline is None:
        raise ConfigError("--fail-on-regression needs --baseline")
    prompts = builtin_prompts() if args.builtin else load_prompts(args.prompts[0])
    targets = _targets(args, settings)
    out = _prepare_out(args.out) if args.out else None
    # saved to the history (issue 18): headless, every request's chunks are kept for it;
    # the live screen keeps its newest requests' (its own memory bound), and those are saved
    save = settings.history and not getattr(args, "no_history", False)
    run = CompareRun()
    if wants_live(args, terminal=sys.stdin.isatty() and sys.stdout.isatty()):
        _run_live(run, targets, prompts, shape, settings, keep_chunks=out is not None)
    else:
        show = sys.stderr.isatty() if args.progress is None else args.progress
        with _Progress(show, run) as progress:
            try:
                asyncio.run(
                    run_compare(
                        targets,
                        prompts,
                        shape,
                        run=run,
                        on_request=progress.advance,
                        keep_chunks=out is not None or save,
                    )
                )
            except KeyboardInterrupt:
                run.interrupted = True
    summaries = summarise(run.records)
    summary = _summary(run, shape, summaries)
    changes: list[Change] = []
    if baseline is not None:
        changes = compare_to_baseline(summary["groups"], baseline, args.threshold / 100)
        summary["baseline"] = {
            "path": args.baseline,
            "threshold_pct": args.threshold,
            "changes": [c.to_dict() for c in changes],
        }
    if args.format == "json":
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        _print_table(summaries, interrupted=run.interrupted)
        if baseline is not None:
            _print_changes(changes, args.threshold)
    for line in _lag_warnings(summary):
        print(f"llmstream-tui: {line}", file=sys.stderr)
    if out is not None:
        _write_out(out, run, targets, summary, summaries, shape)
    if save:
        _save_to_history(run, targets, summary)
    return _exit_code(run, summaries, changes, args)


def wants_live(args: argparse.Namespace, *, terminal: bool) -> bool:
    """Whether the run is watched on the live screen: ``--live``/``--no-live`` when given,
    else in a terminal (``terminal``: stdin and stdout are) with the table format; a pipe
    or ``--format json`` always gets the headless run."""
    if args.live is not None:
        return bool(args.live)
    return terminal and args.format == "table"


def _run_live(
    run: CompareRun,
    targets: Sequence[tuple[str, dict[str, Any]]],
    prompts: Sequence[Any],
    shape: LoadShape,
    settings: Settings,
    *,
    keep_chunks: bool,
) -> None:
    """Run the comparison on the live screen until the user leaves it; ``run`` holds what
    finished (``interrupted`` when cancelled there or by Ctrl+C). With ``--out``
    (``keep_chunks``) every request keeps its chunks for the recordings."""
    from ..ui.compare_live import CompareLive, runner
    from ..ui.screens.compare import CompareApp, CompareScreen

    live = CompareLive(run, bounded=not keep_chunks)
    names = ", ".join(name for name, _ in targets)
    screen = CompareScreen(
        live,
        runner(live, targets, prompts, shape, keep_chunks=keep_chunks),
        title=f"compare {names} · {', '.join(shape.levels())}",
        delimiter=settings.delimiter,
        tints=settings.ui.tints,
    )
    try:
        CompareApp(screen, theme=settings.theme, keymap=dict(settings.keymap)).run()
    except KeyboardInterrupt:
        run.interrupted = True
    if screen.failure is not None:
        raise screen.failure  # reported as a headless run's would be


def _prepare_out(path: str) -> Path:
    """``--out DIR`` made (with ``requests/``) before any request, so a bad path is exit 2
    up front; a directory holding a comparison already is refused, never overwritten."""
    from ..errors import ConfigError

    out = Path(path)
    if (out / "summary.json").exists():
        raise ConfigError(f"--out {out}: already holds a comparison (summary.json)")
    try:
        (out / "requests").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create ({exc.strerror})") from None
    return out


def _exit_code(
    run: CompareRun,
    summaries: Sequence[GroupSummary],
    changes: Sequence[Change],
    args: argparse.Namespace,
) -> int:
    if run.interrupted:
        print("llmstream-tui: interrupted: reported what finished", file=sys.stderr)
        return 130
    failed = [s.provider for s in summaries if s.request_count == 0]
    for name in dict.fromkeys(failed):
        print(f"llmstream-tui: error: {name}: every request failed", file=sys.stderr)
    if failed:
        return 1
    regressed = [c for c in changes if c.regression]
    if regressed:
        print(
            f"llmstream-tui: {len(regressed)} figure(s) regressed beyond {args.threshold:g}% "
            "against the baseline",
            file=sys.stderr,
        )
    return 3 if regressed and args.fail_on_regression else 0


def _read_summary(path: str, flag: str) -> dict[str, Any]:
    """An earlier run's ``summary.json`` (a directory means the one in it), checked;
    ``ConfigError`` naming ``flag`` and the file for anything else."""
    from ..errors import ConfigError

    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{flag} {p}: cannot read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise ConfigError(f"{flag} {p}: not JSON") from None
    if not isinstance(data, dict) or data.get("format") != SUMMARY_FORMAT:
        raise ConfigError(f"{flag} {p}: not a compare summary.json")
    if data.get("version") != SUMMARY_VERSION:
        raise ConfigError(f"{flag} {p}: summary version {data.get('version')!r} unknown")
    groups = data.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"{flag} {p}: 'groups' is not a list of objects")
    data["_path"] = str(p)
    return data


def _read_baseline(path: str) -> list[dict[str, Any]]:
    """The baseline's groups: a ``summary.json`` (or its directory) when ``path`` exists,
    else a comparison saved in the history (``last``, an ID or uid prefix from ``history``)."""
    if Path(path).exists():
        groups: list[dict[str, Any]] = _read_summary(path, "--baseline")["groups"]
        return groups
    from ..errors import ConfigError, RecordingError
    from ..sessions.compare_history import load_comparison

    try:
        sid, summary = load_comparison(path)
    except RecordingError as exc:
        raise ConfigError(f"--baseline {path}: no such file, and {exc}") from None
    saved = summary.get("groups")
    if not isinstance(saved, list) or not all(isinstance(g, dict) for g in saved):
        raise ConfigError(f"--baseline {path}: comparison {sid}'s groups are not readable")
    return saved


def _show_command(refs: Sequence[str], args: argparse.Namespace) -> int:
    """``compare show ID|last``: a comparison saved in the history, its table printed as at
    the end of its run (summarised again from its requests' raw figures, so exactly the
    same), or its summary with ``--format json``."""
    from ..core.compare_stats import RequestRecord, summarise
    from ..errors import ConfigError, RecordingError
    from ..sessions.compare_history import load_comparison

    if len(refs) != 1:
        raise ConfigError("compare show: name one comparison (an ID from `history`, or last)")
    try:
        sid, summary = load_comparison(refs[0])
        records = [RequestRecord.from_dict(entry) for entry in summary.get("requests") or []]
    except RecordingError as exc:
        raise ConfigError(f"compare show: {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"compare show: comparison {sid}'s requests are not readable") from None
    if args.format == "json":
        shown = {k: v for k, v in summary.items() if k != "requests"}
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
    else:
        _print_table(summarise(records), interrupted=bool(summary.get("interrupted")))
    return 0


def _save_to_history(
    run: CompareRun, targets: Sequence[tuple[str, dict[str, Any]]], summary: dict[str, Any]
) -> None:
    """Save the run as a comparison (``sessions/compare_history.py``); a history that
    cannot be written is one line on stderr, never the run's failure."""
    from ..core.recording_lines import describe_provider
    from ..errors import LLMStreamError
    from ..providers.registry import validate_table
    from ..sessions.compare_history import save_comparison

    try:
        descriptions = {
            name: describe_provider(name, validate_table(table, where=f"provider {name!r}"))
            for name, table in targets
        }
        full = {**summary, "requests": [q.record.to_dict() for q in run.requests]}
        save_comparison(run, full, descriptions)
    except LLMStreamError as exc:
        print(f"llmstream-tui: note: comparison not saved to history: {exc}", file=sys.stderr)


def _merge_command(dirs: Sequence[str], args: argparse.Namespace) -> int:
    """``compare merge DIR...``: the runs' raw per-request figures (their ``summary.json``)
    pooled and summarised again, so the statistics are exact, never averages of
    percentiles. Each run's times are moved onto one clock by its recorded wall-clock
    origin, so durations and throughputs span all the runs (several instances driving one
    endpoint at once add up). ``--out DIR`` writes the merged summary.json, report and plots."""
    import dataclasses

    from ..core.compare_stats import RequestRecord, summarise
    from ..errors import ConfigError
    from ..sessions.compare_run import CompareRun, LoadShape, PromptItem, RequestRun

    if not dirs:
        raise ConfigError("compare merge: name the --out directories (or summary.json) to merge")
    runs = [_read_summary(d, "compare merge") for d in dirs]
    origins = [r.get("origin_unix") for r in runs]
    first = min((o for o in origins if isinstance(o, int | float)), default=0.0)
    requests: list[RequestRun] = []
    for data, origin in zip(runs, origins, strict=True):
        shift = origin - first if isinstance(origin, int | float) else 0.0
        entries = data.get("requests")
        if not isinstance(entries, list):
            raise ConfigError(f"compare merge {data['_path']}: no 'requests' (raw figures)")
        for i, entry in enumerate(entries):
            try:
                record = RequestRecord.from_dict(entry, shift_s=shift)
            except (KeyError, TypeError, ValueError):
                raise ConfigError(
                    f"compare merge {data['_path']}: requests[{i}] is not a request's figures"
                ) from None
            requests.append(RequestRun(record, PromptItem(record.prompt_id), []))
    run = CompareRun(
        providers=list(dict.fromkeys(p for r in runs for p in r.get("providers", []))),
        levels=list(dict.fromkeys(lv for r in runs for lv in r.get("levels", []))),
        requests=requests,
        interrupted=any(r.get("interrupted") for r in runs),
    )
    fields = {f.name for f in dataclasses.fields(LoadShape)}
    raw_shape = {k: v for k, v in (runs[0].get("shape") or {}).items() if k in fields}
    raw_shape["sweep"] = tuple(raw_shape.get("sweep") or ())
    shape = LoadShape(**raw_shape)
    summaries = summarise(run.records)
    summary = {**_summary(run, shape, summaries), "merged_from": [r["_path"] for r in runs]}
    summary["origin_unix"] = first or None
    if args.format == "json":
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        _print_table(summaries, interrupted=run.interrupted)
    if args.out:
        out = _prepare_out(args.out)
        full = {**summary, "requests": [q.record.to_dict() for q in requests]}
        (out / "summary.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
        plots = _plots(out, run, summaries, shape)
        (out / "report.md").write_text(_report(summary, summaries, plots), encoding="utf-8")
    return 0


def _print_changes(changes: Sequence[Change], threshold: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "provider",
        "level",
        "metric",
        "baseline",
        "now",
        "change",
        "",
        title=(f"against the baseline (regression: worse by more than {threshold:g}%)"),
    )
    for c in changes:
        change = "-" if c.change is None else f"{c.change * 100:+.1f}%"
        table.add_row(
            c.provider,
            c.level,
            c.metric,
            f"{c.old:.4g}",
            f"{c.new:.4g}",
            change,
            "REGRESSION" if c.regression else "",
        )
    tty = sys.stdout.isatty()
    Console(file=sys.stdout, width=None if tty else 220, highlight=False).print(table)


class _Progress:
    """rich's progress bar on stderr: one bar per provider and level, advanced as each
    request finishes (the bar's total is unknown when only ``--duration`` bounds it)."""

    def __init__(self, show: bool, run: CompareRun) -> None:
        self.show = show
        self._bar: Any = None
        self._tasks: dict[tuple[str, str], Any] = {}
        self._run = run

    def __enter__(self) -> _Progress:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._bar.start()
        return self

    def advance(self, done: Any) -> None:
        if self._bar is None:
            return
        record = done.record
        key = (record.provider, record.level)
        task = self._tasks.get(key)
        if task is None:
            total = self._run.planned.get(key)
            task = self._tasks[key] = self._bar.add_task(f"{key[0]} {key[1]}", total=total)
        self._bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _summary(
    run: CompareRun, shape: LoadShape, summaries: Sequence[GroupSummary]
) -> dict[str, Any]:
    import dataclasses

    from ..version import VERSION

    return {
        "format": SUMMARY_FORMAT,
        "version": SUMMARY_VERSION,
        "generator": f"llmstream-tui {VERSION}",
        "providers": run.providers,
        "levels": run.levels,
        "shape": dataclasses.asdict(shape),
        "interrupted": run.interrupted,
        "origin_unix": run.origin_unix,
        "groups": [s.to_dict() for s in summaries],
        "client_loop_lag_s": _loop_lag(run),
    }


def _loop_lag(run: CompareRun) -> dict[str, dict[str, float | int]]:
    """Per level, the statistics of how late the client's loop woke (seconds)."""
    from ..core.compare_stats import distribution

    return {
        level: d.to_dict()
        for level, lag in run.loop_lag.items()
        if (d := distribution(lag)) is not None
    }


def _lag_warnings(summary: dict[str, Any]) -> list[str]:
    """A line for each level where the client's own delay is large enough to be read as
    the provider's: its loop woke more than ``LAG_WARN_S`` late at p99."""
    from ..sessions.compare_run import LAG_WARN_S

    lines = []
    for level, lag in (summary.get("client_loop_lag_s") or {}).items():
        if lag["p99"] > LAG_WARN_S:
            lines.append(
                f"warning: at {level} this process was busy: its event loop woke "
                f"{lag['p99'] * 1e3:.0f} ms late at p99 (max {lag['max'] * 1e3:.0f} ms), "
                "and chunks arriving meanwhile were stamped that late; for the server's own "
                "figures drive fewer streams per process (several processes, then compare merge)"
            )
    return lines


def _rows(summaries: Sequence[GroupSummary]) -> tuple[list[str], list[list[str]]]:
    from ..sessions.compare_table import table_rows

    return table_rows(summaries)


def best_cells(summaries: Sequence[GroupSummary]) -> set[tuple[int, int]]:
    """The cells the table highlights (``sessions.compare_table.best_cells``, which the
    live screen shares)."""
    from ..sessions.compare_table import best_cells as best

    return best(summaries)


def _print_table(summaries: Sequence[GroupSummary], *, interrupted: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    head, rows = _rows(summaries)
    best = best_cells(summaries)
    table = Table(*head, title="compare" + (" (interrupted)" if interrupted else ""))
    for r, row in enumerate(rows):
        table.add_row(
            *(
                Text(cell, style="bold green") if (r, c) in best else cell
                for c, cell in enumerate(row)
            )
        )
    tty = sys.stdout.isatty()
    Console(file=sys.stdout, width=None if tty else 220, highlight=False).print(table)
    sources = {g.token_source for g in summaries}
    if "chunks" in sources or "mixed" in sources:
        print("tokens: counted as chunks where the provider reports no usage")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "provider"


def _recording_lines(name: str, requests: Sequence[Any]) -> list[dict[str, Any]]:
    from ..core.redaction import mask_urls

    lines: list[dict[str, Any]] = []
    for turn, done in enumerate(requests):
        rec = done.record
        lines.append({"type": "prompt", "turn": turn, "text": done.prompt.text})
        lines.append({"type": "run", "provider": name, "turn": turn})
        for i, (t, text, channel) in enumerate(done.chunks):
            line = {"type": "chunk", "provider": name, "index": i, "t": round(t, 6), "text": text}
            if channel != "text":
                line["channel"] = channel
            lines.append(line)
        t = rec.request_latency or 0.0
        if rec.ok:
            lines.append(
                {
                    "type": "end",
                    "provider": name,
                    "t": t,
                    "text": rec.text,
                    "metrics": rec.to_dict(),
                }
            )
        else:
            message = mask_urls(rec.error_message or "")
            lines.append(
                {
                    "type": "error",
                    "provider": name,
                    "t": t,
                    "text": rec.text,
                    "error": {
                        "kind": rec.error_kind,
                        "message": message,
                        "status": None,
                        "detail": message,
                        "hint": None,
                    },
                    "metrics": rec.to_dict(),
                }
            )
    return lines


def _write_out(
    out: Path,
    run: CompareRun,
    targets: Sequence[tuple[str, dict[str, Any]]],
    summary: dict[str, Any],
    summaries: Sequence[GroupSummary],
    shape: LoadShape,
) -> None:
    from ..core.recording import RecordingWriter
    from ..core.recording_lines import describe_provider
    from ..providers.registry import validate_table

    tables = dict(targets)
    for level in run.levels:
        for name in run.providers:
            mine = [
                q for q in run.requests if q.record.provider == name and q.record.level == level
            ]
            spec = validate_table(tables[name], where=f"provider {name!r}")
            path = out / "requests" / f"{_safe(name)}-{level}.jsonl"
            with RecordingWriter(path, overwrite=True, title=f"compare {name} {level}") as w:
                w.write([describe_provider(name, spec), *_recording_lines(name, mine)])
    full = {**summary, "requests": [q.record.to_dict() for q in run.requests]}
    (out / "summary.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    plots = _plots(out, run, summaries, shape)
    (out / "report.md").write_text(_report(summary, summaries, plots), encoding="utf-8")


def _report(summary: dict[str, Any], summaries: Sequence[GroupSummary], plots: list[str]) -> str:
    head, rows = _rows(summaries)
    shape = ", ".join(f"{k}={v}" for k, v in summary["shape"].items() if v not in (None, (), []))
    lines = [
        "# Comparison",
        "",
        f"Providers: {', '.join(summary['providers'])}. Levels: {', '.join(summary['levels'])}. "
        f"Load: {shape}."
        + (" Interrupted: the figures cover what finished." if summary["interrupted"] else ""),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows),
        "",
        "Metric names and definitions: AIPerf's (README, section Compare). TTFT counts "
        "reasoning; gaps are between answer chunks; tok/s/user is 1 / inter-token latency.",
        "",
    ]
    for g in summaries:
        if g.errors:
            kinds = ", ".join(f"{k}: {n}" for k, n in g.errors.items())
            lines.append(f"- {g.provider} {g.level}: {g.error_request_count} failed ({kinds})")
    for level, lag in (summary.get("client_loop_lag_s") or {}).items():
        lines.append(
            f"- client at {level}: event loop late p50/p99/max "
            f"{lag['p50'] * 1e3:.1f}/{lag['p99'] * 1e3:.1f}/{lag['max'] * 1e3:.1f} ms"
        )
    lines.extend(f"- {w}" for w in _lag_warnings(summary))
    lines.extend(f"\n![{p}]({p}.svg)" for p in plots)
    return "\n".join(lines) + "\n"


def _plots(
    out: Path, run: CompareRun, summaries: Sequence[GroupSummary], shape: LoadShape
) -> list[str]:
    """Write the plots as SVG and PNG; their names, or none (one line) without matplotlib."""
    try:
        # the Figure API without pyplot: no global figure state, and a second less to import
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print(
            "llmstream-tui: plots need matplotlib (pip install 'llmstream-tui[plots]'); "
            "wrote everything else",
            file=sys.stderr,
        )
        return []
    names: list[str] = []

    def figure() -> tuple[Any, Any]:
        fig = Figure(figsize=(7, 4))
        FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.11, bottom=0.13, right=0.97, top=0.96)
        return fig, fig.add_subplot()

    def save(fig: Any, name: str) -> None:
        fig.savefig(out / f"{name}.svg", metadata={"Date": None})
        fig.savefig(out / f"{name}.png", dpi=100)
        names.append(name)

    for metric, name, label in (
        ("time_to_first_token", "ttft_cdf", "time to first token (s)"),
        ("inter_chunk_latency", "inter_chunk_cdf", "inter-chunk gap (s)"),
    ):
        fig, ax = figure()
        for provider in run.providers:
            for level in run.levels:
                values = sorted(
                    v
                    for q in run.requests
                    if q.record.ok and q.record.provider == provider and q.record.level == level
                    for v in q.record.values(metric)
                )
                if values:
                    ys = [(i + 1) / len(values) for i in range(len(values))]
                    ax.step(values, ys, where="post", label=f"{provider} {level}")
        ax.set_xlabel(label)
        ax.set_ylabel("fraction of requests" if metric != "inter_chunk_latency" else "fraction")
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend()
        save(fig, name)
    if len(shape.sweep) > 1:
        for name, label, pick in (
            ("latency_vs_concurrency", "request latency p50 (s)", _latency_p50),
            ("throughput_vs_concurrency", "output tokens/s", _token_rate),
        ):
            fig, ax = figure()
            for provider in run.providers:
                points = [
                    (int(g.level[1:]), pick(g))
                    for g in summaries
                    if g.provider == provider and pick(g) is not None
                ]
                if points:
                    ax.plot(*zip(*points, strict=True), marker="o", label=provider)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("concurrency")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend()
            save(fig, name)
    return names


def _latency_p50(g: GroupSummary) -> float | None:
    dist = g.metrics.get("request_latency")
    return dist.p50 if dist else None


def _token_rate(g: GroupSummary) -> float | None:
    return g.output_token_throughput
