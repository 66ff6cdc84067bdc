"""What a benchmark helper process reports about itself (standard library only, cheap to import)."""

from __future__ import annotations


def vm_hwm() -> int:
    """This process's RSS high-water mark in bytes (ru_maxrss would count the parent's too)."""
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0
