"""Short human forms of durations, shared by the command line and the dashboard."""

from __future__ import annotations


def span(seconds: float) -> str:
    """A short duration: ``45s``, ``12m``, ``3.5h``, ``2.0d``."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
