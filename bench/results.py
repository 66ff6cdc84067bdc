"""Results of the ingest benchmark: the numbers per tool, the targets, the plain-text report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from measure import ProcessRun

MB = 1_000_000
TARGET_SPEEDUP = 3.0  # reader cold / talkwatch cold
TARGET_WARM_RATIO = 1.2  # talkwatch warm / httpx-bare warm
TARGET_PEAK_MB = 150.0

BUSY_WARNING = 0.15  # CPUs kept busy by other processes just before a timed run


@dataclass(slots=True)
class ToolResult:
    """One tool's numbers from one run (or the medians of several)."""

    tool: str
    timing: str
    cold_s: float | None = None
    warm_s: float | None = None
    cold_inproc_s: float | None = None
    warm_inproc_s: float | None = None
    items: float | None = None
    peak_mb: float | None = None
    peak_pss_mb: float | None = None
    cold_requests: float | None = None
    warm_requests: float | None = None
    warm_304: float | None = None
    connections: float | None = None
    cold_cpu_s: float | None = None  # user + system CPU of the tool's processes, cold run
    server_cpu_s: float | None = None  # the server's CPU during the cold run
    sampler_cpu_s: float | None = None
    background_cpus: float | None = None  # worst load of others before a timed run, in CPUs
    errors: list[str] = field(default_factory=list)

    def note_load(self, load: Load, run: ProcessRun | None = None) -> None:
        """Record where the CPU went during a timed run (the first one counts for the server)."""
        if run is not None:
            self.cold_cpu_s = run.cpu_s
            self.server_cpu_s = load.server_cpu_s
            self.sampler_cpu_s = load.sampler_cpu_s
        self.background_cpus = max(self.background_cpus or 0.0, load.background_cpus)

    @property
    def items_per_s(self) -> float | None:
        """Items stored (or fetched) per second of cold time."""
        if self.items is None or not self.cold_s:
            return None
        return self.items / self.cold_s


@dataclass(frozen=True, slots=True)
class Load:
    """Where the machine's CPU went while one subprocess ran."""

    server_cpu_s: float  # this process less the sampler: the feed server
    sampler_cpu_s: float
    background_cpus: float  # CPUs busy just before the run, while nothing of ours ran


def median_result(results: Sequence[ToolResult]) -> ToolResult:
    """Combine repeated runs: the median of every number, all the errors."""
    merged = ToolResult(results[0].tool, results[0].timing)
    for f in fields(ToolResult):
        if f.name in ("tool", "timing", "errors"):
            continue
        values = [v for r in results if (v := getattr(r, f.name)) is not None]
        if values:  # the background load warns, so its worst run counts
            combine = max if f.name == "background_cpus" else statistics.median
            setattr(merged, f.name, combine(values))
    merged.errors = [e for r in results for e in r.errors]
    return merged


@dataclass(frozen=True, slots=True)
class Check:
    """One target and whether this run met it."""

    name: str
    value: float | None
    target: str
    passed: bool
    note: str = ""

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or FAIL with the reason there is no value."""
        if self.value is None:
            return f"FAIL ({self.note or 'not measured'})"
        return ("PASS" if self.passed else "FAIL") + (f" ({self.note})" if self.note else "")


def evaluate(summary: dict[str, ToolResult], expected: int, feeds: int) -> list[Check]:
    """Judge the three targets from the median results."""
    tw, reader, bare = summary["talkwatch"], summary.get("reader"), summary["httpx-bare"]
    why = "talkwatch did not run" if tw.cold_s is None else ""
    checks: list[Check] = []

    speedup = None
    note = why or ("reader skipped" if reader is None else "")
    if tw.cold_s and reader is not None and reader.cold_s is not None:
        speedup = reader.cold_s / tw.cold_s
    complete = tw.items == expected
    if speedup is not None and not complete:
        note = f"talkwatch stored {tw.items} of {expected} items"
    checks.append(
        Check(
            "reader cold / talkwatch cold",
            speedup,
            f">= {TARGET_SPEEDUP:g}",
            speedup is not None and complete and speedup >= TARGET_SPEEDUP,
            note,
        )
    )

    warm_ratio = None
    if tw.warm_s is not None and bare.warm_s:
        warm_ratio = tw.warm_s / bare.warm_s
    all_304 = tw.warm_304 == feeds
    note = why if tw.warm_s is None else ""
    if warm_ratio is not None and not all_304:
        note = f"only {tw.warm_304} of {feeds} were 304"
    checks.append(
        Check(
            "talkwatch warm / httpx-bare warm",
            warm_ratio,
            f"<= {TARGET_WARM_RATIO:g}",
            warm_ratio is not None and all_304 and warm_ratio <= TARGET_WARM_RATIO,
            note,
        )
    )
    newsboat = summary.get("newsboat")
    if newsboat is not None:
        # The issue's softer aim ("beat newsboat too"); only judged when newsboat ran.
        ratio = newsboat.cold_s / tw.cold_s if tw.cold_s and newsboat.cold_s else None
        checks.append(
            Check(
                "newsboat cold / talkwatch cold",
                ratio,
                "> 1",
                ratio is not None and complete and ratio > 1,
                why,
            )
        )
    checks.append(
        Check(
            "talkwatch peak MB (process tree)",
            tw.peak_mb,
            f"< {TARGET_PEAK_MB:g}",
            tw.peak_mb is not None and tw.peak_mb < TARGET_PEAK_MB,
            why,
        )
    )
    return checks


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _fraction(part: float | None, whole: float | None) -> str:
    return "n/a" if part is None or whole is None else f"{part:.0f}/{whole:.0f}"


def render_table(
    summary: dict[str, ToolResult], checks: Sequence[Check], header: Sequence[str]
) -> str:
    """Return the plain-text report."""
    out = [*header, ""]
    row = "{:<12} {:>8} {:>9} {:>8} {:>8} {:>10}   {}"
    out.append(row.format("tool", "cold s", "items/s", "warm s", "peak MB", "warm 304s", "timing"))
    for result in summary.values():
        out.append(
            row.format(
                result.tool,
                _fmt(result.cold_s, ".2f"),
                _fmt(result.items_per_s, ".0f"),
                _fmt(result.warm_s, ".2f"),
                _fmt(result.peak_mb, ".1f"),
                _fraction(result.warm_304, result.warm_requests),
                result.timing,
            )
        )
        if result.tool == "httpx-bare":
            out.append(
                row.format(
                    "  in process",
                    _fmt(result.cold_inproc_s, ".2f"),
                    "",
                    _fmt(result.warm_inproc_s, ".2f"),
                    "",
                    "",
                    "time around the fetch loop only",
                )
            )
    out.append("")
    check_row = "{:<36} {:>8} {:>8}   {}"
    out.append(check_row.format("target", "value", "target", "result"))
    for check in checks:
        out.append(
            check_row.format(check.name, _fmt(check.value, ".2f"), check.target, check.verdict)
        )
    out.append("")
    out.append("details (cold run; reader: its one process, both updates):")
    for result in summary.values():
        if result.cold_requests is None:
            continue
        out.append(
            f"  {result.tool:<11} {_fmt(result.cold_requests, '.0f')} req /"
            f" {_fmt(result.connections, '.0f')} conn, tool CPU {_fmt(result.cold_cpu_s, '.2f')} s,"
            f" peak PSS {_fmt(result.peak_pss_mb, '.1f')} MB,"
            f" server CPU {_fmt(result.server_cpu_s, '.2f')} s,"
            f" sampler CPU {_fmt(result.sampler_cpu_s, '.2f')} s"
        )
    busy = max((r.background_cpus or 0.0 for r in summary.values()), default=0.0)
    out.append(
        f"  other processes on this machine kept up to {busy:.2f} CPUs busy before a timed run"
        + (" -- the times above are not to be trusted" if busy > BUSY_WARNING else "")
    )
    errors = [e for r in summary.values() for e in r.errors]
    if errors:
        out.append("")
        out.append("errors:")
        out += [f"  {e}" for e in errors]
    return "\n".join(out)
