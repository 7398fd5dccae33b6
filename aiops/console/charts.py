"""Inline SVG charts of the incident page: a metric anomaly against its expected band, root-cause factor bars.

`anomaly_chart` draws an episode's `SampleWindow` (observed line and points, expected line, the band between
lower and upper where both are known, a marker at the onset) with a text alternative and a table of the
samples; `factor_bars` draws each ranked candidate's score as a bar split into its factors' shares. Plain
SVG with classes the stylesheet colours (no script, no library). Builds strings only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from aiops.console.markup import Markup, join, tag
from aiops.incidents import RootCauseCandidate
from aiops.signals import Evidence, SampleWindow

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 560, 180, 56, 12, 16
FACTOR_ORDER = ("graph", "onset", "strength", "learned")


def _scale(low: float, high: float, out_low: float, out_high: float) -> tuple[float, float]:
    """(factor, offset) mapping [low, high] onto [out_low, out_high] (a flat range onto its middle)."""
    if high <= low:
        return 0.0, (out_low + out_high) / 2
    factor = (out_high - out_low) / (high - low)
    return factor, out_low - low * factor


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """An SVG path through the points, broken where a point is None."""
    parts, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _band(xs: Sequence[float], lows: Sequence[float | None], highs: Sequence[float | None], y: tuple[float, float]
          ) -> list[str]:
    """Polygons between lower and upper over each run of samples that has both."""
    runs: list[list[int]] = [[]]
    for index, (low, high) in enumerate(zip(lows, highs, strict=True)):
        if low is None or high is None:
            runs.append([])
        else:
            runs[-1].append(index)
    polygons = []
    for run in (run for run in runs if len(run) > 1):
        upper = [f"{xs[i]:.1f},{highs[i] * y[0] + y[1]:.1f}" for i in run]  # type: ignore[operator]
        lower = [f"{xs[i]:.1f},{lows[i] * y[0] + y[1]:.1f}" for i in reversed(run)]  # type: ignore[operator]
        polygons.append(" ".join(upper + lower))
    return polygons


def anomaly_chart(name: str, evidence: Evidence) -> Markup:
    """The chart of one metric anomaly member; a short note when its evidence has no window."""
    window = evidence.window
    if window is None or not window.observed:
        return tag("p", "No samples in this member's evidence (detection.metric.evidence_window_points).",
                   class_="muted")
    values = [v for column in (window.observed, window.expected, window.lower, window.upper)
              for v in column if v is not None]
    low, high = min(values), max(values)
    margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    sx = _scale(0.0, window.seconds[-1], PAD_LEFT, WIDTH - PAD_RIGHT)
    sy = _scale(low - margin, high + margin, HEIGHT - PAD_Y, PAD_Y)
    xs = [s * sx[0] + sx[1] for s in window.seconds]
    observed = [(x, v * sy[0] + sy[1]) for x, v in zip(xs, window.observed, strict=True)]
    expected = [None if v is None else (x, v * sy[0] + sy[1]) for x, v in zip(xs, window.expected, strict=True)]
    onset_seconds = (evidence.onset - window.start).total_seconds()
    shapes = [tag("polygon", points=points, class_="band") for points in _band(xs, window.lower, window.upper, sy)]
    shapes.append(tag("path", d=_path(expected), class_="expected"))
    shapes.append(tag("path", d=_path(observed), class_="observed"))
    shapes += [tag("circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r="2", class_="point") for x, y in observed]
    if 0.0 <= onset_seconds <= window.seconds[-1]:
        x = onset_seconds * sx[0] + sx[1]
        shapes.append(tag("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=str(PAD_Y), y2=str(HEIGHT - PAD_Y),
                          class_="onset"))
        shapes.append(tag("text", "onset", x=f"{x + 3:.1f}", y=str(PAD_Y + 10), class_="label"))
    for value in (low, high):
        shapes.append(tag("text", f"{value:.4g}", x=str(PAD_LEFT - 4), y=f"{value * sy[0] + sy[1] + 4:.1f}",
                          class_="axis", text_anchor="end"))
    summary = (f"{name}: {len(window.observed)} samples from {window.start:%H:%M:%S} UTC; observed "
               f"{window.observed[0]:.4g} to {window.observed[-1]:.4g}, peak {evidence.observed} vs expected "
               f"{evidence.expected} (band {evidence.lower} to {evidence.upper})")
    svg = tag("svg", tag("title", summary), *shapes, viewBox=f"0 0 {WIDTH} {HEIGHT}", role="img",
              aria_label=summary, class_="chart anomaly")
    legend = tag("p", tag("span", "observed", class_="key observed"), " ",
                 tag("span", "expected", class_="key expected"), " ",
                 tag("span", "expected band", class_="key band"), class_="legend")
    return join([svg, legend, _sample_table(window)])


def _sample_table(window: SampleWindow) -> Markup:
    rows = [tag("tr", tag("td", f"{window.start + timedelta(seconds=s):%H:%M:%S}"), tag("td", f"{o:.6g}"),
                tag("td", "" if e is None else f"{e:.6g}"),
                tag("td", "" if lo is None or hi is None else f"{lo:.6g} .. {hi:.6g}"))
            for s, o, e, lo, hi in zip(window.seconds, window.observed, window.expected, window.lower, window.upper,
                                       strict=True)]
    head = tag("tr", *(tag("th", text, scope="col") for text in ("time (UTC)", "observed", "expected", "band")))
    return tag("details", tag("summary", "Samples"), tag("table", tag("thead", head), tag("tbody", *rows)))


def factor_bars(candidates: Sequence[RootCauseCandidate]) -> Markup:
    """One bar per candidate: its length the score, its segments the factors' shares."""
    if not candidates:
        return tag("p", "No root-cause candidates.", class_="muted")
    row_height, label_width, bar_width = 26, 170, 340
    shapes: list[Markup] = []
    names = sorted({f for c in candidates for f in c.factors}, key=lambda f: (*FACTOR_ORDER, f).index(f))
    for row, candidate in enumerate(candidates):
        y = row * row_height + 4
        label = f"{row + 1}. {candidate.service}" + (f"/{candidate.host}" if candidate.host else "")
        shapes.append(tag("text", label[:28], x="0", y=str(y + 14), class_="label"))
        x = float(label_width)
        for factor in names:
            width = bar_width * max(0.0, min(candidate.score, 1.0)) * candidate.factors.get(factor, 0.0)
            if width > 0:
                shapes.append(tag("rect", tag("title", f"{factor}: {candidate.factors[factor]:.0%} of the score"),
                                  x=f"{x:.1f}", y=str(y), width=f"{width:.1f}", height="18",
                                  class_=f"factor {factor if factor in FACTOR_ORDER else 'other'}"))
                x += width
        shapes.append(tag("text", f"{candidate.score:.2f}", x=f"{x + 4:.1f}", y=str(y + 14), class_="axis"))
    height = len(candidates) * row_height + 8
    text = "; ".join(f"{c.service} score {c.score:.2f} (" + ", ".join(
        f"{name} {share:.0%}" for name, share in c.factors.items()) + ")" for c in candidates)
    svg = tag("svg", tag("title", "Root-cause candidates: " + text), *shapes, viewBox=f"0 0 580 {height}",
              role="img", aria_label="Root-cause candidates: " + text, class_="chart factors")
    legend = tag("p", *(join([tag("span", name, class_=f"key factor {name}"), " "]) for name in names), class_="legend")
    return join([svg, legend])

