"""SVG geometry for the run timelines, computed here so templates only print numbers.

The page's Content-Security-Policy forbids inline styles, so bar sizes are SVG attributes
(x, y, width, height), which the policy allows; colours come from CSS classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from controller.dashboard import rows

__all__ = ["Bar", "Segment", "run_bars", "stage_segments"]


@dataclasses.dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    css: str
    title: str


@dataclasses.dataclass(frozen=True)
class Segment:
    x: int
    width: int
    css: str
    title: str


def _took(seconds: float | None) -> str:
    if seconds is None:
        return "duration unknown"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def run_bars(runs: Sequence[rows.Run], *, height: int = 24, step: int = 14) -> list[Bar]:
    """One bar per run, oldest on the left, height by duration (a run without one: full)."""
    longest = max((r.seconds or 0.0 for r in runs), default=0.0)
    bars = []
    for i, run in enumerate(reversed(runs)):
        if run.seconds is None or longest <= 0:
            tall = height
        else:
            tall = max(3, round(height * run.seconds / longest))
        label = " ".join(p for p in (run.revision[:24], run.outcome, run.reason,
                                     _took(run.seconds)) if p)
        bars.append(Bar(x=i * step, y=height - tall, width=step - 4, height=tall,
                        css=f"run-{run.state.value}", title=label))
    return bars


def stage_segments(run: rows.Run, *, longest: float, width: int = 400) -> list[Segment]:
    """A run's stages side by side, scaled so the longest run of the page fills `width`."""
    if longest <= 0:
        return []
    out, x = [], 0
    for stage in run.stages:
        span = max(1, round(width * stage.seconds / longest))
        out.append(Segment(x=x, width=span, css=stage.css,
                           title=f"{stage.name} {_took(stage.seconds)}"))
        x += span
    return out


def longest(runs: Sequence[rows.Run]) -> float:
    """The longest run (its total, or its stages' sum when the total is missing)."""
    return max((r.seconds if r.seconds is not None else sum(s.seconds for s in r.stages)
                for r in runs), default=0.0)
