"""The ``talkwatch`` command line (see DESIGN.md for the contract).

Builds the config, the store and the poller and hands them down; the TUI is imported lazily,
only by the commands that show it, so ``talkwatch poll`` never loads Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from feeds.config import Config, default_config_path, default_db_path, load_config
from feeds.errors import ConfigError, FeedsError, StoreError
from feeds.humanize import span
from feeds.models import SOURCE_KINDS, WIRE_KEYS, Source, StoredItem, utc_now
from feeds.seeds import SeedSource, load_sources, load_talk_profile

if TYPE_CHECKING:
    # Imported where used: the parser's worker processes import this module again (as the
    # console script's __main__), and `talkwatch --help` should not pay for httpx or SQLite.
    from feeds.poller import PollSummary
    from feeds.profile import Profile
    from feeds.store import Store
    from feeds.tagging import Tagger


class Context:
    """What every command gets: where the database and the config are."""

    def __init__(self, db: Path | None, config: Path | None) -> None:
        self.db_path = db or default_db_path()
        self.db_given = db is not None  # --db or TALKWATCH_DB: `demo` then keeps the database
        self.config_path = config
        self._config: Config | None = None
        self._profile: Profile | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, explicit=self.config_path is not None)
        return self._config

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            config = self.config
            base = config.path.parent if config.path is not None else None
            self._profile = load_talk_profile(config.profile, base)
        return self._profile

    def tagger(self) -> Tagger:
        from feeds.tagging import Tagger

        return Tagger(self.profile)

    def store(self, *, create: bool = True) -> Store:
        from feeds.store import Store

        return Store(self.db_path, create=create)


pass_ctx = click.make_pass_decorator(Context)
# `poll --once` names this many failed sources; `sources list` shows them all.
SHOW_FAILURES = 10


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    envvar="TALKWATCH_DB",
    help="Database file [env TALKWATCH_DB; default: platform data dir].",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    envvar="TALKWATCH_CONFIG",
    help="Config file [env TALKWATCH_CONFIG; default: platform config dir].",
)
@click.version_option("0.1.0", prog_name="talkwatch")
@click.pass_context
def cli(ctx: click.Context, db: Path | None, config: Path | None) -> None:
    """Follow trade talks live: poll news feeds, tag what matters, watch it in the terminal.

    Without a command, runs `watch`.
    """
    ctx.obj = Context(db, config)
    if ctx.invoked_subcommand is None:
        ctx.invoke(watch)


# -- init -------------------------------------------------------------------------------------


@cli.command()
@click.option("--sources/--no-sources", default=True, help="Add the London talks' default sources.")
@pass_ctx
def init(ctx: Context, sources: bool) -> None:
    """Create the database and config, and add the default sources."""
    config_path = ctx.config_path or default_config_path()
    if config_path.exists():
        _ = ctx.config  # a broken config is reported before anything is written
    else:
        try:
            config_path.parent.mkdir(parents=True, exist_ok=True)
            config_path.write_text(_DEFAULT_CONFIG, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{config_path}: cannot write config: {exc.strerror or exc}") from exc
        click.echo(f"wrote {config_path}")
    with ctx.store() as store:
        added, skipped = _add_seed_sources(store, load_sources() if sources else [])
    click.echo(f"database {ctx.db_path}: {added} sources added, {skipped} already present")
    click.echo("next: `talkwatch poll --once` to fetch them, `talkwatch sources list` for health")


_DEFAULT_CONFIG = """\
# talkwatch configuration. Every key is optional; these are the defaults.

# The talk profile to tag items with (a name in seeds/ or a path to a TOML file).
profile = "london-2025"

[poll]
interval = 300          # seconds between polls of a source (a source may set its own)
concurrency = 16        # requests in flight overall
per_host = 4            # requests in flight to one host
connect_timeout = 5.0
read_timeout = 10.0     # longest silence between two reads
deadline = 30.0         # longest one request may take in all
max_body_mb = 10.0      # cap on a decompressed feed body
max_redirects = 5
max_backoff = 21600.0   # longest wait after repeated failures (6 h)
jitter = 0.1            # +/- share of the interval
workers = 0             # parser processes (0 = one per core, 1 = none)
"""


def _add_seed_sources(store: Store, seeds: Sequence[SeedSource]) -> tuple[int, int]:
    added = skipped = 0
    now = utc_now()
    taken_names = {s.name for s in store.get_sources()}
    for seed in seeds:
        if store.get_source(seed.url) is not None:
            skipped += 1
            continue
        name = _unique_name(seed.name, taken_names)
        store.add_source(
            seed.url,
            name=name,
            kind=seed.kind,
            interval=seed.interval,
            tier=seed.tier,
            options=seed.options,
            now=now,
        )
        taken_names.add(name)
        added += 1
    return added, skipped


def _unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


# -- sources ----------------------------------------------------------------------------------


@cli.group()
def sources() -> None:
    """List, add and remove sources."""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
def sources_list(ctx: Context, as_json: bool) -> None:
    """Show every source with its health."""
    if not ctx.db_path.exists():
        rows: list[Source] = []
    else:
        with ctx.store(create=False) as store:
            rows = store.get_sources()
    now = utc_now()
    if as_json:
        for source in rows:
            click.echo(json.dumps(_source_json(source), ensure_ascii=False))
        return
    if not rows:
        click.echo(
            "no sources yet: `talkwatch init` adds the defaults, `talkwatch sources add URL`"
        )
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    # Every column but the name and the error keeps its full width; those two share the rest.
    widths = {"kind": 4, "health": 10, "last poll": 9, "HTTP": 4, "new": 3, "next": 7}
    table.add_column("name", no_wrap=True, overflow="ellipsis", min_width=12, max_width=22)
    for column, width in widths.items():
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("last error", no_wrap=True, overflow="ellipsis", ratio=1, min_width=8)
    for source in rows:
        table.add_row(
            Text(source.name),
            source.kind,
            _health_text(source),
            _ago(source.last_poll_at, now),
            str(source.last_status or "-"),
            str(source.last_new),
            "-" if source.retired_at else _until(source.next_due, now),
            Text(source.last_error or "", style="red"),
        )
    Console().print(table)


def _health(source: Source) -> str:
    if source.retired_at:
        return f"retired ({source.retired_reason or 'gone'})"
    if source.last_poll_at is None:
        return "new"
    if source.failures:
        return f"failing x{source.failures}"
    return "ok"


def _health_text(source: Source) -> Any:
    from rich.text import Text

    health = _health(source)
    style = {"ok": "green", "new": "dim"}.get(health, "red" if source.failures else "yellow")
    return Text(health, style=style)


def _source_json(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "url": source.url,
        "kind": source.kind,
        "tier": source.tier,
        "interval": source.interval,
        "health": _health(source),
        "last_poll": _iso(source.last_poll_at),
        "last_ok": _iso(source.last_ok_at),
        "last_status": source.last_status,
        "last_error": source.last_error,
        "failures": source.failures,
        "next_due": _iso(source.next_due),
        "retired": _iso(source.retired_at),
        "last_new": source.last_new,
    }


@sources.command("add")
@click.argument("url")
@click.option("--name", help="Display name (default: the URL's host and path).")
@click.option("--kind", type=click.Choice(SOURCE_KINDS), default="rss", show_default=True)
@click.option("--interval", type=click.FloatRange(min=10), help="Seconds between polls.")
@click.option("--tier", default="", help="official, wire, press or aggregator.")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=PATH",
    help=f"Wire field mapping ({', '.join(sorted(WIRE_KEYS))}), e.g. items=data.articles.",
)
@pass_ctx
def sources_add(
    ctx: Context,
    url: str,
    name: str | None,
    kind: str,
    interval: float | None,
    tier: str,
    mapping: tuple[str, ...],
) -> None:
    """Add a source by URL; it is polled at the next round."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URL")
    options: dict[str, str] = {}
    for item in mapping:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in WIRE_KEYS:
            raise click.BadParameter(
                f"{item!r}: expected FIELD=PATH with FIELD one of {', '.join(sorted(WIRE_KEYS))}",
                param_hint="--map",
            )
        options[key.strip()] = value.strip()
    if options and kind != "wire":
        raise click.BadParameter("a field mapping only applies to --kind wire", param_hint="--map")
    with ctx.store() as store:
        source = store.add_source(
            url,
            name=name or _default_name(url),
            kind=kind,
            interval=interval,
            tier=tier,
            options=options,
            now=utc_now(),
        )
    click.echo(f"added {source.name!r} ({source.kind}) {source.url}")


def _default_name(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return f"{parts.netloc}{path}"[:80] or url


@sources.command("remove")
@click.argument("name")
@pass_ctx
def sources_remove(ctx: Context, name: str) -> None:
    """Remove a source (by name or URL) and its items."""
    with ctx.store(create=False) as store:
        source, count = store.remove_source(name)
    click.echo(f"removed {source.name!r} and its {count} items")


@sources.command("enable")
@click.argument("name")
@pass_ctx
def sources_enable(ctx: Context, name: str) -> None:
    """Bring back a retired source (e.g. after HTTP 410) and poll it at the next round."""
    with ctx.store(create=False) as store:
        source = store.get_source(name)
        if source is None:
            raise StoreError(f"no source named {name!r} (see `talkwatch sources list`)")
        store.update_source(
            source.id, retired_at=None, retired_reason=None, failures=0, next_due=utc_now()
        )
    click.echo(f"enabled {source.name!r}")


# -- OPML -------------------------------------------------------------------------------------


@cli.command("import-opml")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def import_opml(ctx: Context, file: Path) -> None:
    """Add every feed listed in an OPML file (known URLs are skipped)."""
    from feeds.opml import read_opml

    unfetchable: list[str] = []
    seeds = read_opml(file, unfetchable)
    with ctx.store() as store:
        added, skipped = _add_seed_sources(store, seeds)
    note = f"; {len(unfetchable)} skipped, not http(s)" if unfetchable else ""
    click.echo(f"imported {added} sources from {file} ({skipped} already present{note})")
    for url in unfetchable[:SHOW_FAILURES]:
        click.echo(f"  skipped: {url[:200]}", err=True)
    if len(unfetchable) > SHOW_FAILURES:
        click.echo(f"  ... and {len(unfetchable) - SHOW_FAILURES} more", err=True)


@cli.command("export-opml")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@pass_ctx
def export_opml(ctx: Context, file: Path | None) -> None:
    """Write every source as OPML (to FILE, or standard output)."""
    from feeds.opml import write_opml

    with ctx.store(create=False) as store:
        text = write_opml(store.get_sources())
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot write: {exc.strerror or exc}") from exc
    click.echo(f"wrote {file}", err=True)


# -- poll -------------------------------------------------------------------------------------


@cli.command()
@click.option("--once", is_flag=True, help="Poll every due source once, then exit.")
@click.option("--all", "all_sources", is_flag=True, help="With --once: every source, due or not.")
@pass_ctx
def poll(ctx: Context, once: bool, all_sources: bool) -> None:
    """Run the poller (until Ctrl-C, or one round with --once)."""
    if all_sources and not once:
        raise click.UsageError("--all only goes with --once")
    config = ctx.config
    tagger = ctx.tagger()  # a broken profile is reported before any fetching
    lower_priority(config.poll.nice)
    with ctx.store() as store:
        if once:
            summary = asyncio.run(_poll_once(store, config, all_sources, tagger))
            click.echo(summary.line())
            failed = [o for o in summary.outcomes if not o.ok]
            for outcome in failed[:SHOW_FAILURES]:
                click.echo(f"  failed: {outcome.source.name}: {outcome.error}", err=True)
            if len(failed) > SHOW_FAILURES:
                click.echo(
                    f"  ... and {len(failed) - SHOW_FAILURES} more: `talkwatch sources list`",
                    err=True,
                )
            return
        click.echo(
            f"polling {len(store.get_sources())} sources into {ctx.db_path} (Ctrl-C to stop)",
            err=True,
        )
        asyncio.run(_poll_forever(store, config, tagger))


def lower_priority(step: int) -> None:
    """Lower this process's CPU priority by ``step`` (``[poll] nice``), workers included.

    The poller is background work that shares the machine with the dashboard: on two cores, a
    poll of 200 feeds otherwise takes the CPU the dashboard needs to repaint
    (bench/ui_stall.py: the longest UI stall went from about 120 ms to about 55 ms). It only
    yields when something else wants the CPU; alone, it runs as fast as before.
    """
    if step > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(step)


async def _poll_once(
    store: Store, config: Config, all_sources: bool, tagger: Tagger
) -> PollSummary:
    from feeds.poller import Poller, SourceOutcome

    chosen = (
        [s for s in store.get_sources() if not s.retired_at]
        if all_sources
        else store.get_due_sources(utc_now())
    )
    async with Poller(store, config.poll, tagger=tagger) as poller:
        if not sys.stderr.isatty() or not chosen:
            return await poller.poll_once(chosen)
        with _progress(len(chosen), "polling") as progress:

            def done(outcome: SourceOutcome) -> None:
                progress.update(
                    progress.task_ids[0], advance=1, description=outcome.source.name[:40]
                )

            return await poller.poll_once(chosen, on_done=done)


async def _poll_forever(store: Store, config: Config, tagger: Tagger) -> None:
    from feeds.poller import Poller

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGHUP too: a closed terminal stops the poller cleanly (its heartbeat removed), and a
    # `watch` that started it as a child forwards nothing, the child gets it directly.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    watchdog = asyncio.create_task(_stop_when_orphaned(stop))
    try:
        async with Poller(store, config.poll, tagger=tagger) as poller:
            await poller.run(stop)
    finally:
        watchdog.cancel()


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """Stop a poller that `watch` or `demo` started once that parent is gone.

    The parent stops its child on the way out, but one killed outright (SIGKILL, a crash) cannot:
    the child would poll on for nobody. It learns its parent's pid from the environment.
    """
    parent = os.environ.get(PARENT_PID_ENV, "")
    if not parent.isdigit():
        return
    while not stop.is_set():
        if os.getppid() != int(parent):
            stop.set()
            return
        await asyncio.sleep(ORPHAN_CHECK_SECONDS)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


# -- retag ------------------------------------------------------------------------------------


@cli.command()
@pass_ctx
def retag(ctx: Context) -> None:
    """Tag every stored item again (after editing the talk profile)."""
    import time

    from feeds.workers import retag_batches

    tagger = ctx.tagger()
    started = time.perf_counter()
    with ctx.store(create=False) as store:
        total = store.count_items()
        progress = _progress(total, "retagging") if sys.stderr.isatty() and total else None
        seen = changed = 0
        with progress or contextlib.nullcontext():
            for batch in retag_batches(store, tagger, workers=ctx.config.poll.workers):
                changed += store.set_tags(batch)
                seen += len(batch)
                if progress is not None:
                    progress.update(progress.task_ids[0], completed=seen)
    seconds = time.perf_counter() - started
    click.echo(
        f"retagged {seen} items with profile {tagger.profile.id!r}: {changed} changed; "
        f"{seconds:.2f}s"
    )


def _progress(total: int, label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        transient=True,
        console=_stderr_console(),
    )
    progress.add_task("", total=total)
    return progress


# -- watch ------------------------------------------------------------------------------------

# How long a poller child gets to stop after SIGTERM before it is killed.
POLLER_STOP_SECONDS = 5.0


@cli.command()
@click.option("--no-poll", is_flag=True, help="Do not start a poller (show what is stored).")
@click.option("--no-bell", is_flag=True, help="No terminal bell on a new alert.")
@pass_ctx
def watch(ctx: Context, no_poll: bool, no_bell: bool) -> None:
    """The live dashboard (the default command); runs a poller beside it unless one runs."""
    profile = ctx.profile  # a broken config or profile is reported before the screen opens
    # Imported by name, at run time: the headless core never imports the TUI (an import-linter
    # contract checks that statically; `watch` is the one place that hands over to it).
    app_module = importlib.import_module("tui.app")
    with ctx.store() as store:
        running = _running_poller(store)
    child: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    note = ""
    if no_poll:
        note = "off (--no-poll)"
    elif running is not None:
        note = f"running (pid {running}, started elsewhere)"
    else:
        log = ctx.db_path.with_name(ctx.db_path.name + ".poller.log")
        child = _start_poller(ctx.db_path, ctx.config_path, log)
    try:
        app = app_module.DashboardApp(
            ctx.db_path,
            profile,
            bell=not no_bell,
            poller=child,
            poller_log=log,
            poller_note=note,
        )
        _run_until_hangup(app)
    finally:
        if child is not None:
            _stop_poller(child)


def _run_until_hangup(app: Any) -> None:
    """Run the dashboard; a closed terminal (SIGHUP) or SIGTERM quits it like `q` does, so the
    caller's clean-up (the child poller, the demo's temporary files) still runs."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda _signum, _frame: app.exit())
    try:
        app.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _running_poller(store: Store) -> int | None:
    """The pid of a poller already writing to this database, if one is alive."""
    now = utc_now()
    host = socket.gethostname()
    for poller in store.get_pollers():
        if not poller.is_fresh(now):
            continue
        if poller.host != host or _pid_alive(poller.pid):
            return poller.pid
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


# Set by `watch`/`demo` for the poller they start, so it can tell when they are gone.
PARENT_PID_ENV = "TALKWATCH_PARENT_PID"
ORPHAN_CHECK_SECONDS = 1.0


def _start_poller(db: Path, config: Path | None, log: Path) -> subprocess.Popen[bytes]:
    """``talkwatch poll`` as a child process, its output appended to ``log``."""
    args = [sys.executable, "-m", "feeds", "--db", str(db)]
    if config is not None:
        args += ["--config", str(config)]
    args.append("poll")
    env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}
    try:
        with open(log, "ab") as out:
            return subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
            )
    except OSError as exc:
        raise ConfigError(f"cannot start the poller: {exc}") from exc


def _stop_poller(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not stopped after a few seconds."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=POLLER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


# -- demo -------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=None,
    help="Replay minutes per real minute [default: 360, the main day in ~2.5 min].",
)
@click.option("--no-tui", is_flag=True, help="Run without the dashboard and print a summary.")
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="With --no-tui: seconds to run.",
)
@click.option("--no-bell", is_flag=True, help="No terminal bell on alerts.")
@pass_ctx
def demo(ctx: Context, speed: float | None, no_tui: bool, duration: float, no_bell: bool) -> None:
    """Replay the London talks on a loopback feed server, with the real poller and dashboard."""
    from feeds import demo as replay_demo

    db = ctx.db_path if ctx.db_given else None  # else a temporary database, removed after
    if no_tui:
        summary = replay_demo.run_demo_headless(db, duration, speed)
        click.echo(replay_demo.format_summary(summary))
        return
    profile = load_talk_profile("london-2025")
    app_module = importlib.import_module("tui.app")  # see `watch`
    with (
        replay_demo.demo_session(db, speed) as session,
        tempfile.TemporaryDirectory(prefix="talkwatch-demo-") as scratch,
    ):
        # The real poller, as `watch` runs it, with the demo's short intervals and backoff.
        config = Path(scratch) / "demo.toml"
        config.write_text(replay_demo.config_toml(), encoding="utf-8")
        log = Path(scratch) / "poller.log"
        child = _start_poller(session.db_path, config, log)
        try:
            app = app_module.DashboardApp(
                session.db_path,
                profile,
                clock=session.clock,
                wall_clock=utc_now,
                bell=not no_bell,
                poller=child,
                poller_log=log,
            )
            _run_until_hangup(app)
        finally:
            _stop_poller(child)


# -- search -----------------------------------------------------------------------------------


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--all", "all_items", is_flag=True, help="Include items not related to the talks.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
def search(ctx: Context, query: str, all_items: bool, limit: int, as_json: bool) -> None:
    """Find stored items, newest first (talk-related only, unless --all)."""
    with ctx.store(create=False) as store:
        items = store.get_items(keyword=query, related_only=not all_items, limit=limit)
        total = store.count_items()
    if as_json:
        for item in items:
            click.echo(json.dumps(_item_json(item), ensure_ascii=False))
    else:
        for item in items:
            when = item.published.strftime("%Y-%m-%d %H:%M")
            click.echo(f"{when}  {item.source[:24]:<24}  {item.title}")
    if not items and total and not all_items:
        click.echo("no related items match; --all includes every item", err=True)


def _item_json(item: StoredItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "source": item.source,
        "title": item.title,
        "url": item.link or item.url,
        "published": _iso(item.published),
        "first_seen": _iso(item.first_seen),
        "updated": _iso(item.updated_at),
        "summary": item.summary,
        "story": item.story_id,
        "story_sources": item.story_sources,
        "revisions": item.revisions,
        "tags": list(item.tags),
        "people": list(item.people),
        "related": item.related,
        "score": item.score,
    }


# -- helpers ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    return span((now - value).total_seconds()) + " ago"


def _until(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "now"
    seconds = (value - now).total_seconds()
    return "now" if seconds <= 0 else "in " + span(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="talkwatch",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except FeedsError as exc:
        click.echo(f"talkwatch: error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
