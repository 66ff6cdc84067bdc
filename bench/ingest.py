"""Ingest benchmark: talkwatch `poll --once --all` against lemon24/reader and a bare httpx loop.

Run it from the repository root with the project's venv (the `bench` extra installs reader,
sgmllib3k and psutil):

    .venv/bin/python bench/ingest.py                  # 200 feeds x 50 items, one run
    .venv/bin/python bench/ingest.py --repeat 3       # medians of three runs
    .venv/bin/python bench/ingest.py --skip-reader --json > results.json

What it does:

1. Builds a deterministic corpus (bench/corpus.py): a third each of RSS 2.0, Atom and RSS 1.0
   feeds with realistic headlines and 40-120-word HTML summaries.
2. Serves it from a threaded HTTP/1.1 server on 127.0.0.1 (bench/server.py) with strong ETags,
   Last-Modified, 304s for conditional requests, gzip and keep-alive. Nothing leaves loopback:
   the subprocesses get an environment without proxy variables and NO_PROXY=127.0.0.1.
3. Measures, each on a fresh database:
   - talkwatch: `talkwatch --db DB import-opml feeds.opml` (not timed), then `poll --once --all`
     twice, cold then warm (all 304s), each timed as the wall clock of the whole subprocess,
     start-up included, with the peak RSS of its process tree (summed over the poller and its
     worker processes, sampled every 20 ms). The items stored are counted with
     `search --all --limit 100000 --json` (one JSON object a line).
   - reader: bench/_reader_run.py adds the feeds, then times `update_feeds(workers=8)` cold and
     warm in process (reader's times leave start-up out, which flatters reader).
   - httpx-bare: bench/_httpx_run.py only fetches the same URLs with the same concurrency (16
     overall, 8 per host), cold then warm, each in its own process: timed both as subprocess wall
     (start-up included, compared with talkwatch) and in process.
4. Prints a table, the ratios against the targets (reader cold / talkwatch cold >= 3, talkwatch
   warm / httpx-bare warm <= 1.2, talkwatch peak < 150 MB) and details: requests and
   connections the server saw, CPU used by each tool, the server and the memory sampler, and
   peak PSS (the RSS sum counts pages a process pool shares once per process; PSS does not).

On a 2-core machine anything else running skews every number, so before each timed run the
benchmark measures the machine's load for 0.3 s and warns when other processes keep more than
0.15 CPUs busy. Run it on an otherwise idle machine, and use --repeat 3 or more; on a shared
one, `--wait-idle 60` waits up to a minute before each timed run for the load to go away.

If `.venv/bin/talkwatch` is missing or fails, the error and its stderr are printed and the other
measurements still run. Progress goes to stderr; the table (or --json) to stdout. `--check` makes
the exit code 1 unless every target passes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import psutil  # type: ignore[import-untyped, unused-ignore]  # no py.typed in psutil 7
from corpus import FeedDocument, build_corpus, corpus_digest
from measure import ProcessRun, run_measured
from results import (
    BUSY_WARNING,
    MB,
    Check,
    Load,
    ToolResult,
    evaluate,
    median_result,
    render_table,
)
from server import FeedServer, ServerStats

HERE = Path(__file__).resolve().parent
WALL = "subprocess wall, start-up included"
INPROC_READER = "in process, update_feeds() only"


def background_cpus(interval: float = 0.3) -> float:
    """Return how many CPUs' worth of work other processes do now, while we are idle.

    Measured in the pause before each timed run, when nothing of ours runs, so that all the
    CPU it sees is someone else's.
    """
    percent = float(psutil.cpu_percent(interval=interval))  # averaged over all CPUs
    return percent / 100 * (os.cpu_count() or 1)


def log(message: str) -> None:
    """Print a progress message to stderr."""
    print(message, file=sys.stderr, flush=True)


def loopback_env() -> dict[str, str]:
    """Return the environment for subprocesses: no proxies, so every request stays on 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def write_opml(path: Path, server: FeedServer, documents: Sequence[FeedDocument]) -> None:
    """Write an OPML subscription list of every feed on the server."""
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        "<head><title>talkwatch ingest benchmark</title></head>",
        "<body>",
    ]
    for doc in documents:
        lines.append(
            f'<outline type="rss" text={quoteattr(doc.title)} title={quoteattr(doc.title)}'
            f" xmlUrl={quoteattr(server.url(doc.path))}/>"
        )
    lines += ["</body>", "</opml>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


class Session:
    """What every measurement shares: the server, the inputs and the subprocess settings."""

    def __init__(self, server: FeedServer, workdir: Path, args: argparse.Namespace) -> None:
        self.server = server
        self.workdir = workdir
        self.args = args
        self.env = loopback_env()
        self.urls = workdir / "urls.txt"
        self.opml = workdir / "feeds.opml"
        self.expected = args.feeds * args.items

    def run(
        self, argv: Sequence[str | Path], timed: bool = True
    ) -> tuple[ProcessRun, ServerStats, Load]:
        """Run a subprocess; return it, the server's share of it and where the CPU went."""
        background = background_cpus() if timed else 0.0
        waited = 0.0
        while background > BUSY_WARNING and waited < self.args.wait_idle:
            if waited == 0.0:
                log(f"  waiting up to {self.args.wait_idle:.0f} s for the machine to go idle")
            time.sleep(1.0)
            waited += 1.0 + 0.3
            background = background_cpus()
        if background > BUSY_WARNING:
            log(
                f"  WARNING: other processes keep {background:.2f} CPUs busy;"
                " the next times are not to be trusted"
            )
        before = self.server.stats()
        cpu_before = time.process_time()
        run = run_measured([str(a) for a in argv], env=self.env, timeout=self.args.timeout)
        ours = time.process_time() - cpu_before
        load = Load(
            server_cpu_s=ours - run.sampler_cpu_s,
            sampler_cpu_s=run.sampler_cpu_s,
            background_cpus=background,
        )
        return run, self.server.stats() - before, load

    def fresh_dir(self, name: str) -> Path:
        """Return a new empty folder for one measurement."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
        return path


def measure_talkwatch(session: Session) -> ToolResult:
    """Import the OPML, poll cold and warm, count the stored items."""
    result = ToolResult("talkwatch", WALL)
    exe = Path(session.args.talkwatch)
    if not exe.exists():
        result.errors.append(f"talkwatch: {exe} not found (is the project installed?)")
        return result
    db = session.fresh_dir("talkwatch") / "tw.db"
    base: list[str | Path] = [exe, "--db", db]

    log("  talkwatch: import-opml (not timed)")
    imported, _, _ = session.run([*base, "import-opml", session.opml], timed=False)
    if not imported.ok:
        result.errors.append("talkwatch import-opml failed: " + imported.describe_failure())
        return result

    log("  talkwatch: poll --once --all (cold)")
    cold, cold_stats, cold_load = session.run([*base, "poll", "--once", "--all"])
    if not cold.ok:
        result.errors.append("talkwatch cold poll failed: " + cold.describe_failure())
        return result
    result.cold_s = cold.wall_s
    result.cold_requests = cold_stats.requests
    result.connections = cold_stats.connections
    result.note_load(cold_load, cold)
    peak = cold.peak_bytes

    search, _, _ = session.run(
        [*base, "search", "--all", "--limit", "100000", "--json"], timed=False
    )
    if search.ok:
        lines = [line for line in search.stdout.splitlines() if line.strip()]
        bad = sum(1 for line in lines if not _is_json_object(line))
        result.items = len(lines) - bad
        if bad:
            result.errors.append(f"talkwatch search: {bad} lines are not JSON objects")
        if result.items != session.expected:
            result.errors.append(
                f"talkwatch stored {result.items} items, expected {session.expected}"
            )
    else:
        result.errors.append("talkwatch search failed: " + search.describe_failure())

    log("  talkwatch: poll --once --all (warm)")
    warm, warm_stats, warm_load = session.run([*base, "poll", "--once", "--all"])
    result.note_load(warm_load)
    if warm.ok:
        result.warm_s = warm.wall_s
        result.warm_requests = warm_stats.requests
        result.warm_304 = warm_stats.not_modified
        peak = max(peak, warm.peak_bytes)
        if warm_stats.not_modified != session.args.feeds:
            result.errors.append(
                f"talkwatch warm poll: {warm_stats.not_modified} of {warm_stats.requests}"
                f" requests answered 304, expected {session.args.feeds}"
            )
    else:
        result.errors.append("talkwatch warm poll failed: " + warm.describe_failure())
    result.peak_mb = peak / MB
    result.peak_pss_mb = max(cold.peak_pss, warm.peak_pss) / MB
    return result


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _helper_output(run: ProcessRun, what: str, errors: list[str]) -> dict[str, Any] | None:
    if not run.ok:
        errors.append(f"{what} failed: " + run.describe_failure())
        return None
    try:
        data: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        errors.append(f"{what} printed no JSON result: {run.stdout[-500:]!r}")
        return None
    return data


def measure_reader(session: Session) -> ToolResult:
    """Run bench/_reader_run.py: add the feeds, update_feeds cold, then warm."""
    result = ToolResult("reader", INPROC_READER)
    db = session.fresh_dir("reader") / "reader.sqlite"
    argv: list[str | Path] = [
        sys.executable,
        HERE / "_reader_run.py",
        "--db",
        db,
        "--urls",
        session.urls,
    ]
    log(f"  reader: update_feeds(workers={session.args.workers}) cold, then warm")
    run, stats, load = session.run([*argv, "--workers", str(session.args.workers)])
    result.note_load(load, run)
    data = _helper_output(run, "reader", result.errors)
    if data is None:
        return result
    result.cold_s = result.cold_inproc_s = data["cold_s"]
    result.warm_s = result.warm_inproc_s = data["warm_s"]
    result.items = data["cold_entries"]
    result.peak_mb = run.peak_bytes / MB
    result.peak_pss_mb = run.peak_pss / MB
    # One process does both updates; the cold one sends no validators, so it makes no 304s.
    result.cold_requests = stats.requests - stats.conditional
    result.warm_requests = stats.conditional
    result.warm_304 = stats.not_modified
    result.connections = stats.connections
    if data["cold_entries"] != session.expected:
        result.errors.append(f"reader stored {data['cold_entries']} entries")
    if data["broken_feeds"]:
        result.errors.append(f"reader: {data['broken_feeds']} broken feeds: {data['errors']}")
    return result


def measure_httpx(session: Session) -> ToolResult:
    """Run bench/_httpx_run.py cold, then warm with the validators the cold run got."""
    result = ToolResult("httpx-bare", WALL)
    validators = session.fresh_dir("httpx") / "validators.json"
    argv: list[str | Path] = [
        sys.executable,
        HERE / "_httpx_run.py",
        "--urls",
        session.urls,
        "--validators",
        validators,
        "--concurrency",
        str(session.args.concurrency),
        "--per-host",
        str(session.args.per_host),
    ]
    log("  httpx-bare: fetch all (cold)")
    cold, cold_stats, cold_load = session.run([*argv, "--mode", "cold"])
    result.note_load(cold_load, cold)
    data = _helper_output(cold, "httpx-bare cold", result.errors)
    if data is None:
        return result
    result.cold_s = cold.wall_s
    result.cold_inproc_s = data["inproc_s"]
    result.items = session.expected  # fetched, not parsed
    result.cold_requests = cold_stats.requests
    result.connections = cold_stats.connections
    log("  httpx-bare: fetch all (warm)")
    warm, warm_stats, warm_load = session.run([*argv, "--mode", "warm"])
    result.note_load(warm_load)
    warm_data = _helper_output(warm, "httpx-bare warm", result.errors)
    result.peak_mb = max(cold.peak_bytes, warm.peak_bytes) / MB
    result.peak_pss_mb = max(cold.peak_pss, warm.peak_pss) / MB
    if warm_data is not None:
        result.warm_s = warm.wall_s
        result.warm_inproc_s = warm_data["inproc_s"]
        result.warm_requests = warm_stats.requests
        result.warm_304 = warm_stats.not_modified
    return result


def measure_newsboat(session: Session) -> ToolResult:
    """newsboat ``-x reload`` (its own parallel fetch, ``reload-threads``), cold then warm.

    Each run is a subprocess timed whole, start-up included, as talkwatch is. Skipped with a
    note when ``newsboat`` is not on the PATH (Debian: ``apt-get install newsboat``).
    """
    result = ToolResult("newsboat", WALL)
    exe = shutil.which("newsboat")
    if exe is None:
        result.errors.append("newsboat not installed (apt-get install newsboat); skipped")
        return result
    folder = session.fresh_dir("newsboat")
    config = folder / "config"
    config.write_text(f"reload-threads {session.args.workers}\n", encoding="utf-8")
    cache = folder / "cache.db"
    argv: list[str | Path] = [exe, "-C", config, "-u", session.urls, "-c", cache, "-x", "reload"]
    log(f"  newsboat: -x reload with reload-threads {session.args.workers} (cold)")
    cold, cold_stats, cold_load = session.run(argv)
    result.note_load(cold_load, cold)
    if not cold.ok:
        result.errors.append("newsboat cold reload failed: " + cold.describe_failure())
        return result
    result.cold_s = cold.wall_s
    result.cold_requests = cold_stats.requests
    result.connections = cold_stats.connections
    with contextlib.closing(sqlite3.connect(cache)) as conn:
        result.items = conn.execute("SELECT count(*) FROM rss_item").fetchone()[0]
    if result.items != session.expected:
        result.errors.append(f"newsboat stored {result.items} items, expected {session.expected}")
    log("  newsboat: -x reload (warm)")
    warm, warm_stats, warm_load = session.run(argv)
    result.note_load(warm_load)
    result.peak_mb = max(cold.peak_bytes, warm.peak_bytes) / MB
    result.peak_pss_mb = max(cold.peak_pss, warm.peak_pss) / MB
    if warm.ok:
        result.warm_s = warm.wall_s
        result.warm_requests = warm_stats.requests
        result.warm_304 = warm_stats.not_modified
    else:
        result.errors.append("newsboat warm reload failed: " + warm.describe_failure())
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark talkwatch's poll against reader and a bare httpx loop."
    )
    parser.add_argument("--feeds", type=int, default=200, help="feeds in the corpus")
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the medians are reported")
    parser.add_argument("--seed", type=int, default=20250610, help="corpus seed")
    parser.add_argument("--skip-reader", action="store_true", help="do not measure reader")
    parser.add_argument(
        "--skip-newsboat", action="store_true", help="do not measure newsboat (if installed)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="httpx-bare requests in flight (16)"
    )
    parser.add_argument("--per-host", type=int, default=8, help="httpx-bare per host (8)")
    parser.add_argument("--workers", type=int, default=8, help="reader's update_feeds workers")
    parser.add_argument(
        "--talkwatch",
        default=str(Path(sys.executable).parent / "talkwatch"),
        help="the talkwatch executable (default: next to this Python)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="per subprocess, seconds")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each timed run, wait up to this long for other processes to go quiet",
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.feeds < 1 or args.items < 1:
        parser.error("--repeat, --feeds and --items must be at least 1")
    return args


@dataclass(frozen=True, slots=True)
class Benchmark:
    """Everything one invocation measured."""

    config: dict[str, Any]
    runs: dict[str, list[ToolResult]]
    summary: dict[str, ToolResult]
    checks: list[Check]

    def to_json(self) -> dict[str, Any]:
        """Return the results as plain data for --json."""
        return {
            "config": self.config,
            "median": {
                name: {**asdict(r), "items_per_s": r.items_per_s}
                for name, r in self.summary.items()
            },
            "checks": [{**asdict(c), "verdict": c.verdict} for c in self.checks],
            "runs": {name: [asdict(r) for r in results] for name, results in self.runs.items()},
        }

    def header(self) -> list[str]:
        """Return the lines that say what was measured."""
        c = self.config
        return [
            f"talkwatch ingest benchmark: {c['feeds']} feeds x {c['items']} items"
            f" = {c['expected_items']} items, {c['corpus_bytes'] / MB:.1f} MB"
            f" (corpus {c['corpus_digest']}), {c['cpus']} CPUs",
            f"{c['repeat']} run(s), medians; httpx-bare {c['concurrency']} in flight /"
            f" {c['per_host']} per host; reader workers={c['reader_workers']};"
            " peak MB = RSS summed over the process tree",
        ]


def run_benchmark(args: argparse.Namespace, workdir: Path) -> Benchmark:
    """Build, serve and measure."""
    log(f"building corpus: {args.feeds} feeds x {args.items} items (seed {args.seed})")
    documents = build_corpus(args.feeds, args.items, args.seed)
    measurements: list[tuple[str, Callable[[Session], ToolResult]]] = [
        ("httpx-bare", measure_httpx),
        ("talkwatch", measure_talkwatch),
    ]
    if not args.skip_reader:
        measurements.append(("reader", measure_reader))
    if not args.skip_newsboat and shutil.which("newsboat"):
        measurements.append(("newsboat", measure_newsboat))
    runs: dict[str, list[ToolResult]] = {name: [] for name, _ in measurements}
    server = FeedServer(documents)
    server.start()
    log(f"serving on {server.base_url}")
    try:
        session = Session(server, workdir, args)
        session.urls.write_text("\n".join(server.url(doc.path) for doc in documents) + "\n")
        write_opml(session.opml, server, documents)
        for i in range(args.repeat):
            log(f"run {i + 1} of {args.repeat}")
            for name, measure in measurements:
                result = measure(session)
                for error in result.errors:
                    log(f"  ERROR {error}")
                runs[name].append(result)
    finally:
        server.stop()

    order = ("talkwatch", "reader", "newsboat", "httpx-bare")
    summary = {name: median_result(runs[name]) for name in order if runs.get(name)}
    expected = args.feeds * args.items
    config = {
        "feeds": args.feeds,
        "items": args.items,
        "expected_items": expected,
        "seed": args.seed,
        "corpus_bytes": sum(len(doc.body) for doc in documents),
        "corpus_digest": corpus_digest(documents),
        "repeat": args.repeat,
        "concurrency": args.concurrency,
        "per_host": args.per_host,
        "reader_workers": args.workers,
        "talkwatch": args.talkwatch,
        "cpus": os.cpu_count(),
        "timing": {
            "talkwatch": WALL,
            "reader": INPROC_READER,
            "newsboat": WALL + f"; reload-threads {args.workers}",
            "httpx-bare": WALL + "; *_inproc_s: around the fetch loop only",
        },
    }
    return Benchmark(config, runs, summary, evaluate(summary, expected, args.feeds))


def compile_project() -> None:
    """Byte-compile talkwatch's sources, as `pip install` does for an installed package.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (as on our machines) would otherwise
    recompile every module on every start, which no installed copy does.
    """
    root = HERE.parent
    log("byte-compiling feeds/ and tui/ (as an installed package would be)")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(root / "feeds"), str(root / "tui")],
        check=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    compile_project()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        bench = run_benchmark(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="talkwatch-bench-") as tmp:
            bench = run_benchmark(args, Path(tmp))
    if args.json:
        print(json.dumps(bench.to_json(), indent=2))
    else:
        print(render_table(bench.summary, bench.checks, bench.header()))
    if args.check and not all(c.passed for c in bench.checks):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
