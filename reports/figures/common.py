"""What every figure family shares: the options, the returned Figure, series of cases per file
and backend, legends, captions, error bars and log axes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import ipcstyle as S
from ipcdata import DataError, merged_registry

TITLES = {
    "throughput-msgs": "Stream throughput (messages/s) vs message size",
    "throughput-bytes": "Stream throughput (bytes/s) vs message size",
    "latency-median": "Round trip (median) vs message size",
    "latency-p99": "Round trip (p99) vs message size",
    "spectrum": "Round-trip percentile spectrum, {size}",
    "cdf": "Round-trip latency CDF, {size}",
    "cpu": "Time and CPU per message, {workload}, {size}",
    "speedup": "Speedup over {reference}, {workload}",
    "farm": "Farm speedup vs workers, grain {grain}",
    "paced": "One-way latency vs offered rate, {size}",
}


class NoData(Exception):
    """A figure family has nothing to draw; the message says why."""


@dataclass
class Options:
    width: str = "single"
    titles: bool = False
    backends: list | None = None
    reference: str | None = None  # None: ipcdata.default_reference
    reference_given: bool = False


@dataclass
class Figure:
    name: str  # file stem
    family: str
    fig: object  # matplotlib.figure.Figure
    caption: str
    extra: dict = field(default_factory=dict)


@dataclass
class Series:
    file_index: int
    result: object
    label: str
    backend: str
    in_process: bool
    floor: bool
    lossy: bool
    cases: list
    position: int | None = None  # in the files' merged registry; None for a floor

    @property
    def colour(self) -> str:
        return S.colour_at(self.position)

    def style(self, file_index: int, multi: bool) -> dict:
        """Axes.plot keywords for this series (see ipcstyle.line_style)."""
        return S.line_style(self.position, self.in_process, file_index, multi, floor=self.floor)

    def plot_label(self, multi: bool) -> str:
        return f"{self.label} [{self.result.tag}]" if multi else self.label


# --- series --------------------------------------------------------------------------------


def filter_backends(results, backends):
    """Keeps only the named backends (floor rows stay: they are the limit every figure is read
    against). A name that no file has is an error."""
    if not backends:
        return results
    present = {c.backend for r in results for c in r.cases}
    missing = [b for b in backends if b not in present]
    if missing:
        files = ", ".join(r.path for r in results)
        raise DataError(f"no rows for backend {', '.join(repr(m) for m in missing)} in {files} "
                        f"(it has: {', '.join(sorted(b for b in present if b))})")
    for r in results:
        r.cases = [c for c in r.cases if c.backend in backends or c.is_floor]
    return results


def collect(results, workload, key=lambda c: c.size, need=None, floor=False):
    """Series of ok cases of one workload, per (file, series label), in registry order, each
    series' cases sorted by key."""
    registry = merged_registry(results)
    groups: dict = {}
    for i, r in enumerate(results):
        for c in r.cases:
            if c.workload != workload or not c.ok or key(c) is None:
                continue
            if need is not None and not need(c):
                continue
            k = (i, c.series)
            if k not in groups:
                groups[k] = Series(file_index=i, result=r, label=c.series, backend=c.backend,
                                   in_process=c.in_process, floor=floor or c.is_floor,
                                   lossy=c.lossy, cases=[],
                                   position=None if floor or c.is_floor
                                   else registry.position(c.backend))
            groups[k].cases.append(c)
            groups[k].lossy = groups[k].lossy or c.lossy
            groups[k].in_process = groups[k].in_process or c.in_process
    out = list(groups.values())
    for s in out:
        s.cases.sort(key=key)
    out.sort(key=lambda s: (registry.rank(s.backend), s.label, s.file_index))
    return out


def histogram_series(results):
    """size -> [(series, case)] of the pingpong cases that carry a latency histogram."""
    series = collect(results, "pingpong", need=lambda c: c.histogram() is not None)
    by_size: dict = {}
    for s in series:
        for c in s.cases:
            by_size.setdefault(c.size, []).append((s, c))
    return by_size


def marked_every(style, multi):
    """Curves drawn from many points: no markers for one file; for several, the file's marker
    at a few places along the line, so that the files stay apart."""
    style = dict(style)
    if multi:
        style["markevery"] = 0.16
    else:
        style["marker"] = None
    return style


# --- legends and figures -------------------------------------------------------------------


def display_label(s: Series) -> str:
    label = s.label
    if s.in_process:
        label += " (in-process)"
    if s.lossy:
        label += " (lossy)"
    return label


def legend_entries(series, multi, results, extra=(), markers=True):
    """(handles, labels): one entry per series label (colour, line style, and the backend's
    marker for one file), then one per file (its marker) when several files are shown, then
    `extra` (handle, label) pairs."""
    handles, labels, seen = [], [], set()
    for s in series:
        text = display_label(s)
        if text in seen:
            continue
        seen.add(text)
        style = s.style(0, False)
        if multi or not markers:
            style["marker"] = None
        handles.append(Line2D([], [], **style))
        labels.append(text)
    for h, text in extra:
        handles.append(h)
        labels.append(text)
    if multi:
        handles.append(S.GROUP_BREAK)
        labels.append(S.GROUP_BREAK)
        for i, r in enumerate(results):
            handles.append(Line2D([], [], color="black", linestyle="none",
                                  marker=S.FILE_MARKERS[i % len(S.FILE_MARKERS)],
                                  markerfacecolor="white" if i % 2 else "black"))
            labels.append(f"{r.tag}: {r.label}")
    return handles, labels


def file_hatch(file_index: int, multi: bool) -> str:
    """The hatching that tells a file's bars apart when several files are shown."""
    return S.FILE_HATCHES[file_index % len(S.FILE_HATCHES)] if multi else ""


def file_hatch_entries(results):
    """Legend entries of a bar chart of several files: a block of its own, one hatch per file."""
    entries = [(S.GROUP_BREAK, S.GROUP_BREAK)]
    for i, r in enumerate(results):
        entries.append((Patch(facecolor="white", edgecolor="black", hatch=file_hatch(i, True)),
                        f"{r.tag}: {r.label}"))
    return entries


def make_figure(opts, labels, ncols=1, panel_height=None, sharey=False, width_ratios=None):
    # A page-wide figure of one panel has its legend at the right; a column-wide one, or one of
    # several panels that need the width, above.
    where = "right" if opts.width == "double" and ncols == 1 else "top"
    return S.new_figure(opts.width, ncols=ncols, legend=where if labels else None,
                        panel_height=panel_height, sharey=sharey, width_ratios=width_ratios)


def finish(fig, lax, handles, labels, opts, title):
    S.legend(lax, handles, labels, opts.width)
    if opts.titles and title:
        fig.suptitle(title)


# --- captions ------------------------------------------------------------------------------


def files_caption(results) -> str:
    if len(results) < 2:
        return ""
    return " Files: " + "; ".join(f"{r.tag} = {r.label}" for r in results) + \
        " (markers or hatching tell them apart)."


def interval_caption(kinds, reps) -> str:
    if not kinds:
        return ""
    if kinds == {"ci"}:
        return " Error bars: 95 % confidence interval of the median."
    n = f"{min(reps)} " if reps and min(reps) == max(reps) else ""
    if kinds == {"range"}:
        return (f" Error bars: min–max of the {n}repetitions (this file has no confidence "
                f"intervals).")
    return (" Error bars: 95 % confidence interval of the median where the file has one, "
            "else the min–max of the repetitions.")


def reps_caption(cases) -> str:
    reps = sorted({c.reps for c in cases})
    if not reps:
        return ""
    if len(reps) == 1:
        return f"median of {reps[0]} repetition{'' if reps[0] == 1 else 's'}"
    return f"median of {reps[0]}–{reps[-1]} repetitions"


def lossy_caption(series) -> str:
    parts = []
    for s in series:
        losses = [c.loss_pct() for c in s.cases if c.loss_pct() is not None]
        if losses:
            parts.append(f"{s.label}: {min(losses):.1f}–{max(losses):.1f} % lost"
                         if len(losses) > 1 else f"{s.label}: {losses[0]:.1f} % lost")
    if not parts:
        return ""
    return (" Lossy transports count delivered messages only (" + "; ".join(parts) + ").")


# --- axes ----------------------------------------------------------------------------------


def errorbars(ax, xs, ys, ivs, color, horizontal=False):
    lo = [max(y - iv.lo, 0.0) if iv else 0.0 for y, iv in zip(ys, ivs)]
    hi = [max(iv.hi - y, 0.0) if iv else 0.0 for y, iv in zip(ys, ivs)]
    if not any(lo) and not any(hi):
        return
    kw = {"fmt": "none", "ecolor": color, "elinewidth": 0.7, "capsize": 1.8, "capthick": 0.7,
          "zorder": 3, "label": "_errorbar"}
    if horizontal:
        ax.errorbar(ys, xs, xerr=[lo, hi], **kw)
    else:
        ax.errorbar(xs, ys, yerr=[lo, hi], **kw)


def y_limits(ax, values, formatter, pad=1.6):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    if not values:
        return
    lo, hi = min(values), max(values)
    ax.set_yscale("log")
    ax.set_ylim(lo / pad, hi * pad)
    S.log_axis(ax.yaxis, formatter, lo / pad, hi * pad)
