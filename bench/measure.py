"""Run a command as a subprocess and measure its wall time and the peak memory of its tree.

Wall time runs from just before the process is spawned to the moment it is reaped, so it
includes interpreter start-up, as a user would see it. A sampler thread reads, every ~20 ms:

- the RSS of the process and all its descendants (psutil), and keeps the peak of their sum, so
  a poller with a process pool of workers is measured as a whole;
- each one's VmHWM (the kernel's high-water mark of its RSS), and keeps the largest, so a spike
  of one process between two samples is not missed.

`peak_bytes` is the larger of the two. Every fifth sample also sums PSS, which splits pages
that processes share (a process pool's copy-on-write pages) among them instead of counting
them once per process: `peak_pss` tells how much of the RSS sum is sharing.

`ru_maxrss` from `wait4` or `getrusage` is no use here: Linux carries the parent's high-water
mark over `fork`/`vfork` and `exec`, so every child would report this benchmark's own peak.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped, unused-ignore]  # no py.typed in psutil 7

SAMPLE_INTERVAL = 0.02
PSS_EVERY = 5  # samples


@dataclass(frozen=True, slots=True)
class ProcessRun:
    """What one measured subprocess did."""

    argv: tuple[str, ...]
    returncode: int | None  # None when it could not be started
    wall_s: float
    peak_tree_rss: int  # bytes, peak of the sampled RSS sum over the process tree
    max_hwm: int  # bytes, the largest VmHWM any process of the tree reached
    peak_pss: int  # bytes, peak of the PSS sum over the tree, sampled every 100 ms
    samples: int
    sampler_cpu_s: float  # CPU the sampler thread spent in *this* process
    cpu_s: float  # user + system CPU of the whole tree
    stdout: str
    stderr: str
    error: str | None = None  # could not start, or timed out

    @property
    def ok(self) -> bool:
        """Tell whether it started, finished in time and exited 0."""
        return self.error is None and self.returncode == 0

    @property
    def peak_bytes(self) -> int:
        """The larger of the sampled tree peak and the largest single-process high-water mark."""
        return max(self.peak_tree_rss, self.max_hwm)

    def describe_failure(self, tail: int = 40) -> str:
        """Return a message with the error or exit code and the end of stderr."""
        what = self.error or f"exit code {self.returncode}"
        lines = self.stderr.rstrip().splitlines()[-tail:]
        shown = "\n".join("    " + line for line in lines)
        return f"{' '.join(self.argv)}: {what}" + (f"\n  stderr:\n{shown}" if lines else "")


# Reading /proc/PID/task/TID/children costs microseconds; psutil's `children()` reads the stat
# file of every process on the machine, which at 50 samples a second would take CPU from the run.
_PROC_CHILDREN = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _proc_children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found  # exited
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found += [int(child) for child in f.read().split()]
        except OSError:
            pass  # the thread or the process ended
    return found


def descendants(pid: int) -> list[int]:
    """Return the pids of all descendants of a process."""
    if not _PROC_CHILDREN:
        try:
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    result: list[int] = []
    stack = [pid]
    while stack:
        children = _proc_children(stack.pop())
        result += children
        stack += children
    return result


def _proc_field(path: str, name: bytes) -> int:
    """Return a `Name:  N kB` field of a /proc file in bytes, or 0 if it or the process is gone."""
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def vm_hwm(pid: int) -> int:
    """Return a process's RSS high-water mark (VmHWM) in bytes."""
    return _proc_field(f"/proc/{pid}/status", b"VmHWM:")


def pss(pid: int) -> int:
    """Return a process's proportional set size in bytes (shared pages split among sharers)."""
    return _proc_field(f"/proc/{pid}/smaps_rollup", b"Pss:")


@dataclass(frozen=True, slots=True)
class TreeSample:
    """One sample of a process tree."""

    rss: int  # summed over the tree
    hwm: int  # the largest single-process high-water mark
    pss: int | None  # summed over the tree, when asked for
    cpu: dict[int, float]  # pid -> its own user + system CPU seconds so far


def sample_tree(pid: int, with_pss: bool = False) -> TreeSample:
    """Sample the memory and CPU time of a process and its descendants."""
    rss = hwm = pss_sum = 0
    cpu: dict[int, float] = {}
    for member in (pid, *descendants(pid)):
        try:
            process = psutil.Process(member)
            rss += process.memory_info().rss
            times = process.cpu_times()
        except psutil.Error:  # exited between listing and reading
            continue
        cpu[member] = times.user + times.system
        hwm = max(hwm, vm_hwm(member))
        if with_pss:
            pss_sum += pss(member)
    return TreeSample(rss, hwm, pss_sum if with_pss else None, cpu)


def kill_tree(pid: int) -> None:
    """Kill a process we started and its descendants, by pid."""
    for member in (*descendants(pid), pid):
        try:
            psutil.Process(member).kill()
        except psutil.Error:
            pass


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float, deadline: float | None) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.deadline = deadline
        self.peak = 0
        self.hwm = 0
        self.pss = 0
        self.tree_cpu: dict[int, float] = {}
        self.samples = 0
        self.timed_out = False
        self.cpu_s = 0.0  # this thread's own CPU time, to tell it apart from the server's
        self.done = threading.Event()

    def run(self) -> None:
        started = time.thread_time()
        while not self.done.is_set():
            # PSS costs ten times what RSS does to read, so it is sampled every 100 ms only.
            sample = sample_tree(self.pid, with_pss=self.samples % PSS_EVERY == 0)
            self.tree_cpu.update(sample.cpu)
            self.peak = max(self.peak, sample.rss)
            self.hwm = max(self.hwm, sample.hwm)
            self.pss = max(self.pss, sample.pss or 0)
            self.samples += 1
            if self.deadline is not None and time.perf_counter() > self.deadline:
                self.timed_out = True
                kill_tree(self.pid)
                break
            self.done.wait(self.interval)
        self.cpu_s = time.thread_time() - started


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = 600.0,
    interval: float = SAMPLE_INTERVAL,
) -> ProcessRun:
    """Run argv to completion, measuring wall time and peak memory (see the module docstring)."""
    args = tuple(argv)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
            )
        except OSError as exc:
            return ProcessRun(args, None, 0.0, 0, 0, 0, 0, 0.0, 0.0, "", "", f"cannot start: {exc}")
        deadline = None if timeout is None else start + timeout
        sampler = _Sampler(proc.pid, interval, deadline)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not
        sampler.done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    error = f"timed out after {timeout:.0f} s" if sampler.timed_out else None
    return ProcessRun(
        argv=args,
        returncode=proc.returncode,
        wall_s=wall,
        peak_tree_rss=sampler.peak,
        max_hwm=sampler.hwm,
        peak_pss=sampler.pss,
        samples=sampler.samples,
        sampler_cpu_s=sampler.cpu_s,
        # A pool's workers may be reaped by a forkserver we never wait for, so wait4 alone can
        # miss them; the samples miss the last 20 ms of each process. Take the larger.
        cpu_s=max(usage.ru_utime + usage.ru_stime, sum(sampler.tree_cpu.values())),
        stdout=stdout,
        stderr=stderr,
        error=error,
    )
