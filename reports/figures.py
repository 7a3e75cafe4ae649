"""The figure families of ipcperf results. plot.py writes them to files, report.py puts them in
a page, the tests read the plotted data back from the returned matplotlib figures.

Each builder takes the loaded results (one or more files) and returns the figures its data
supports, plus a note for each figure it could not draw ("no paced rows: ..."): a figure without
data is skipped, never drawn empty.

Families (file stems in brackets):
  throughput  stream msg/s and bytes/s vs size          [throughput-msgs, throughput-bytes]
  latency     pingpong median and p99 round trip vs size [latency-median, latency-p99]
  spectrum    percentile spectrum per size (histograms)  [spectrum-size-N]
  cdf         latency CDF per size                      [cdf-size-N]
  cpu         time and CPU per message, per size         [cpu-WORKLOAD-size-N]
  speedup     speedup over a reference backend           [speedup-WORKLOAD]
  farm        farm speedup vs workers per grain          [farm-grain-G]
  paced       one-way latency vs offered rate            [paced-size-N]
With several files, every figure overlays them: colour = backend, marker (lines) or hatch
(bars) = file, and the legend names each file's host and revision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import ipcstyle as S
from ipcdata import PERCENTILES, DataError, min_samples_for, quantiles

FAMILIES = ("throughput", "latency", "spectrum", "cdf", "cpu", "speedup", "farm", "paced")
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
    reference: str = "pipe"
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

    def plot_label(self, multi: bool) -> str:
        return f"{self.label} [{self.result.tag}]" if multi else self.label


# --- helpers -------------------------------------------------------------------------------


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
    """Series of ok cases of one workload, per (file, series label), sorted by key."""
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
                                   lossy=c.lossy, cases=[])
            groups[k].cases.append(c)
            groups[k].lossy = groups[k].lossy or c.lossy
            groups[k].in_process = groups[k].in_process or c.in_process
    out = list(groups.values())
    for s in out:
        s.cases.sort(key=key)
    out.sort(key=lambda s: (S.backend_rank(s.backend), s.label, s.file_index))
    return out


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
        style = S.line_style(s.backend, s.in_process, 0, False, floor=s.floor)
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


def errorbars(ax, xs, ys, ivs, color, horizontal=False, ratio=None):
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


# --- throughput and latency vs size ----------------------------------------------------------


def _size_lines(results, opts, *, name, family, workload, value, interval, ylabel, yfmt,
                caption, floor=None, floor_label=""):
    series = collect(results, workload, need=lambda c: (value(c) or 0) > 0)
    if not series:
        return None
    multi = len(results) > 1
    floor_series = collect(results, floor, need=lambda c: (value(c) or 0) > 0, floor=True) \
        if floor else []
    extra = []
    if floor_series:
        style = S.line_style("", False, 0, False, floor=True)
        extra.append((Line2D([], [], **style), floor_label))
        floor_series_labels = {s.label for s in floor_series}
    else:
        floor_series_labels = set()
    handles, labels = legend_entries(series, multi, results, extra)
    fig, (ax,), lax = make_figure(opts, labels)
    all_y, sizes, kinds, cases = [], set(), set(), []
    for s in series:
        xs = [c.size for c in s.cases]
        ys = [value(c) for c in s.cases]
        ivs = [interval(c) if interval else None for c in s.cases]
        style = S.line_style(s.backend, s.in_process, s.file_index, multi)
        ax.plot(xs, ys, label=s.plot_label(multi), zorder=4, **style)
        errorbars(ax, xs, ys, ivs, style["color"])
        kinds |= {iv.kind for iv in ivs if iv}
        all_y += ys + [iv.lo for iv in ivs if iv] + [iv.hi for iv in ivs if iv]
        sizes |= set(xs)
        cases += s.cases
    for s in floor_series:
        if floor == "floor-cacheline":
            # One line bounced between the two CPUs: the same limit at every size.
            y = value(s.cases[0])
            style = S.line_style("", False, s.file_index, False, floor=True)
            ax.axhline(y, color=style["color"], linestyle=style["linestyle"], linewidth=1.0,
                       zorder=2, label=f"{floor_label} [{s.result.tag}]" if multi else floor_label)
            all_y.append(y)
        else:
            xs = [c.size for c in s.cases if c.size in sizes or not sizes]
            ys = [value(c) for c in s.cases if c.size in sizes or not sizes]
            if not xs:
                continue
            style = S.line_style("", False, s.file_index, multi, floor=True)
            ax.plot(xs, ys, zorder=2, label=f"{floor_label} [{s.result.tag}]" if multi
                    else floor_label, **style)
            all_y += ys
    S.size_axis(ax, sizes)
    y_limits(ax, all_y, yfmt)
    ax.set_ylabel(ylabel)
    finish(fig, lax, handles, labels, opts, TITLES.get(name))
    text = caption.format(reps=reps_caption(cases)) + interval_caption(kinds, [c.reps for c in
                                                                               cases])
    if any(s.in_process for s in series):
        text += " Dashed: in-process references (two threads of one process)."
    text += lossy_caption(series)
    if floor_series_labels:
        text += f" Dotted grey: {floor_label}, measured in the same run."
    text += files_caption(results)
    return Figure(name, family, fig, text)


def throughput(results, opts):
    figs, notes = [], []
    f = _size_lines(
        results, opts, name="throughput-msgs", family="throughput", workload="stream",
        value=lambda c: c.median("items_per_second"),
        interval=lambda c: c.interval("items_per_second"),
        ylabel="throughput (messages/s)", yfmt=lambda v: S.fmt_si(v),
        caption="Stream throughput against message size: messages per second at the receiver, "
                "{reps}.")
    if f is None:
        raise NoData("no stream rows: the throughput figures need the stream workload")
    figs.append(f)
    f = _size_lines(
        results, opts, name="throughput-bytes", family="throughput", workload="stream",
        value=lambda c: c.median("bytes_per_second"),
        interval=lambda c: c.interval("bytes_per_second"),
        ylabel="throughput (bytes/s)", yfmt=lambda v: S.fmt_si(v, "B/s"),
        caption="Stream throughput against message size: payload bytes per second at the "
                "receiver (k, M, G = 10³, 10⁶, 10⁹), {reps}.",
        floor="floor-memcpy", floor_label="memcpy floor")
    figs.append(f)
    return figs, notes


def latency(results, opts):
    figs, notes = [], []
    f = _size_lines(
        results, opts, name="latency-median", family="latency", workload="pingpong",
        value=lambda c: c.median("real_time"), interval=lambda c: c.interval("real_time"),
        ylabel="round trip, median", yfmt=S.fmt_time,
        caption="Pingpong round trip against message size (one-way latency ≈ half), {reps}.",
        floor="floor-cacheline", floor_label="cache-line floor")
    if f is None:
        raise NoData("no pingpong rows: the latency figures need the pingpong workload")
    figs.append(f)
    f = _size_lines(
        results, opts, name="latency-p99", family="latency", workload="pingpong",
        value=lambda c: c.percentile("p99_ns"), interval=None,
        ylabel="round trip, p99", yfmt=S.fmt_time,
        caption="Pingpong round trip against message size: 99th percentile of the sampled round "
                "trips, merged over the repetitions; shown where at least 1000 samples stand "
                "behind it.",
        floor="floor-cacheline", floor_label="cache-line floor")
    missing = sorted({c.series for r in results for c in r.select("pingpong")
                      if c.percentile("p99_ns") is None})
    if f is None:
        notes.append(("latency-p99", "no pingpong row has a p99 (each needs 1000 sampled round "
                                     "trips; use longer runs or --sample-every 1)"))
    else:
        if missing:
            f.caption += (" Missing points had too few samples for a p99 ("
                          + ", ".join(missing) + ").")
        figs.append(f)
    return figs, notes


# --- percentile spectrum and CDF ---------------------------------------------------------------


def _histogram_series(results):
    series = collect(results, "pingpong", need=lambda c: c.histogram() is not None)
    by_size: dict = {}
    for s in series:
        for c in s.cases:
            by_size.setdefault(c.size, []).append((s, c))
    return by_size


def _marked_every(style, multi):
    """Curves drawn from many points: no markers for one file; for several, the file's marker
    at a few places along the line, so that the files stay apart."""
    style = dict(style)
    if multi:
        style["markevery"] = 0.16
    else:
        style["marker"] = None
    return style


def spectrum_points(case):
    """(percentiles, latencies) of a case's histogram, from p = 0 up to the largest p that
    has at least 10 samples beyond it (the harness's rule), including the standard p50...p99.99
    that qualify, so that those points equal the file's p50_ns... exactly."""
    buckets = case.histogram()
    n = sum(b[2] for b in buckets)
    if n < min_samples_for(0.5):
        return None, None
    p_max = 1.0 - 10.0 / n
    x_max = 1.0 / (1.0 - p_max)
    grid = [1.0 - 1.0 / x for x in np.logspace(0.0, math.log10(x_max), 96)]
    grid = [p for p in grid if p <= p_max]
    standard = [p for p, _k in PERCENTILES if n >= min_samples_for(p)]
    # Grid points within 0.2 % (in 1/(1-p)) of a standard one would only crowd it.
    ps = sorted(set(standard) | {p for p in grid
                                 if all(abs((1 - q) / (1 - p) - 1) > 0.002 for q in standard)})
    vmin = case.median_row.get("min_ns", buckets[0][0])
    vmax = case.median_row.get("max_ns", buckets[-1][1])
    return ps, quantiles(buckets, ps, vmin, vmax)


def spectrum(results, opts):
    by_size = _histogram_series(results)
    if not by_size:
        raise NoData("no latency histograms: the spectrum needs pingpong rows with "
                     "latency_histogram")
    multi = len(results) > 1
    figs, notes = [], []
    for size in sorted(by_size):
        pairs = [(s, c) for s, c in by_size[size] if spectrum_points(c)[0]]
        few = sorted({s.label for s, c in by_size[size] if not spectrum_points(c)[0]})
        if not pairs:
            notes.append((f"spectrum-size-{size}", f"too few latency samples at "
                                                   f"{S.fmt_size_long(size)}"))
            continue
        handles, labels = legend_entries([s for s, _ in pairs], multi, results, markers=False)
        fig, (ax,), lax = make_figure(opts, labels)
        p_max, all_y = 0.5, []
        samples = []
        for s, c in pairs:
            ps, ys = spectrum_points(c)
            xs = [1.0 / (1.0 - p) for p in ps]
            style = _marked_every(S.line_style(s.backend, s.in_process, s.file_index, multi),
                                  multi)
            ax.plot(xs, ys, label=s.plot_label(multi), **style)
            p_max = max(p_max, ps[-1])
            all_y += ys
            samples.append(c.samples)
        S.percentile_axis(ax, p_max)
        y_limits(ax, all_y, S.fmt_time, pad=1.3)
        ax.set_ylabel("round trip")
        ax.grid(True, which="major", axis="x")
        finish(fig, lax, handles, labels, opts,
               TITLES["spectrum"].format(size=S.fmt_size_long(size)))
        sampling = pairs[0][1].median_row.get("latency_sampling", "sampled round trips")
        text = (f"Percentile spectrum of the pingpong round trip at {S.fmt_size_long(size)} "
                f"(HdrHistogram style: x = 1/(1 − p)), from the merged histograms of "
                f"{min(samples)}–{max(samples)} samples ({sampling}); each line stops where "
                f"fewer than 10 samples lie beyond it.")
        if few:
            text += " Too few samples: " + ", ".join(few) + "."
        text += files_caption(results)
        figs.append(Figure(f"spectrum-size-{size}", "spectrum", fig, text, {"size": size}))
    return figs, notes


def cdf_points(case):
    """(latencies, cumulative fractions): the upper edge of each histogram bucket and the share
    of samples at or below it, starting at (first bucket's low edge, 0)."""
    buckets = case.histogram()
    n = float(sum(b[2] for b in buckets))
    xs, ys, seen = [float(buckets[0][0])], [0.0], 0
    for lo, hi, count in buckets:
        seen += count
        xs.append(float(hi))
        ys.append(seen / n)
    return xs, ys


def cdf(results, opts):
    by_size = _histogram_series(results)
    if not by_size:
        raise NoData("no latency histograms: the CDF needs pingpong rows with latency_histogram")
    multi = len(results) > 1
    figs = []
    for size in sorted(by_size):
        pairs = by_size[size]
        handles, labels = legend_entries([s for s, _ in pairs], multi, results, markers=False)
        fig, (ax,), lax = make_figure(opts, labels)
        all_x = []
        for s, c in pairs:
            xs, ys = cdf_points(c)
            style = _marked_every(S.line_style(s.backend, s.in_process, s.file_index, multi),
                                  multi)
            ax.plot(xs, ys, label=s.plot_label(multi), drawstyle="steps-post", **style)
            all_x += xs
        ax.set_xscale("log")
        lo, hi = min(x for x in all_x if x > 0), max(all_x)
        ax.set_xlim(lo / 1.2, hi * 1.2)
        S.log_axis(ax.xaxis, S.fmt_time, lo / 1.2, hi * 1.2)
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_yticklabels(["0", "0.25", "0.5", "0.75", "1"])
        ax.set_xlabel("round trip")
        ax.set_ylabel("fraction of round trips ≤ x")
        finish(fig, lax, handles, labels, opts, TITLES["cdf"].format(size=S.fmt_size_long(size)))
        text = (f"Cumulative distribution of the sampled pingpong round trips at "
                f"{S.fmt_size_long(size)}, merged over the repetitions.")
        text += files_caption(results)
        figs.append(Figure(f"cdf-size-{size}", "cdf", fig, text, {"size": size}))
    return figs, []


# --- CPU per message ---------------------------------------------------------------------------


def _bar_label(s, multi):
    label = s.label + (" (in-proc.)" if s.in_process else "")
    return f"{label} [{s.result.tag}]" if multi else label


def cpu(results, opts):
    multi = len(results) > 1
    figs, notes, any_cases = [], [], False
    for workload in ("pingpong", "stream", "paced"):
        series = collect(results, workload)
        by_size: dict = {}
        for s in series:
            for c in s.cases:
                by_size.setdefault(c.size, []).append((s, c))
        for size in sorted(by_size):
            any_cases = True
            entries = [(s, c, c.cpu_per_message()) for s, c in by_size[size]]
            entries = [e for e in entries if e[2] is not None and c_ok(e[1])]
            name = f"cpu-{workload}-size-{size}"
            if not entries:
                notes.append((name, "no CPU times in the rows (cpu_user_ns_*/cpu_sys_ns_* or "
                                    "cpu_ns_per_msg_*)"))
                continue
            figs.append(_cpu_figure(results, opts, workload, size, entries, multi, name))
    if not any_cases:
        raise NoData("no pingpong, stream or paced rows")
    return figs, notes


def c_ok(case):
    v = case.median("real_time")
    return v is not None and v > 0


def _cpu_figure(results, opts, workload, size, entries, multi, name):
    n = len(entries)
    extra = [(Patch(facecolor="#606060", edgecolor="#606060"), "user"),
             (Patch(facecolor="#606060", alpha=0.35, edgecolor="#606060"), "system")]
    if multi:
        extra.append((S.GROUP_BREAK, S.GROUP_BREAK))
        for i, r in enumerate(results):
            extra.append((Patch(facecolor="white", edgecolor="black",
                                hatch=S.FILE_HATCHES[i % len(S.FILE_HATCHES)]),
                          f"{r.tag}: {r.label}"))
    handles = [h for h, _ in extra]
    labels = [t for _, t in extra]
    panel_h = max(1.1, 0.17 * n + 0.55)
    fig, (ax_t, ax_c), lax = make_figure(opts, labels, ncols=2, panel_height=panel_h,
                                         sharey=True)
    # Room between the panels for the last label of the left axis and the first of the right.
    fig.get_layout_engine().set(wspace=0.12)
    ys = list(range(n))[::-1]
    names, walls, ivs, users, systems, kinds = [], [], [], [], [], set()
    for (s, c, (user, system, _src)), y in zip(entries, ys):
        colour = S.backend_colour(s.backend)
        hatch = S.FILE_HATCHES[s.file_index % len(S.FILE_HATCHES)] if multi else ""
        wall = c.median("real_time")
        iv = c.interval("real_time")
        names.append(_bar_label(s, multi))
        walls.append(wall)
        ivs.append(iv)
        users.append(user)
        systems.append(system)
        if iv:
            kinds.add(iv.kind)
        ax_t.barh(y, wall, height=0.7, color=colour, hatch=hatch,
                  edgecolor=S.hatch_edge(colour) if hatch else colour, linewidth=0.3)
        errorbars(ax_t, [y], [wall], [iv], "black", horizontal=True)
    ax_c.barh(ys, users, height=0.7, color=[S.backend_colour(s.backend) for s, _, _ in entries],
              label="user", linewidth=0.3)
    ax_c.barh(ys, systems, left=users, height=0.7, alpha=0.35,
              color=[S.backend_colour(s.backend) for s, _, _ in entries], label="system",
              linewidth=0.3)
    if multi:
        for patch, (s, _c, _v) in zip(ax_c.containers[0].patches + ax_c.containers[1].patches,
                                      entries + entries):
            patch.set_hatch(S.FILE_HATCHES[s.file_index % len(S.FILE_HATCHES)])
            patch.set_edgecolor(S.hatch_edge(S.backend_colour(s.backend)))
    totals = [u + s for u, s in zip(users, systems)]
    top = max(totals) if max(totals) > 0 else 1.0
    for y, t in zip(ys, totals):
        ax_c.text(t + top * 0.03, y, S.fmt_time(t), va="center", ha="left",
                  fontsize=S.FONT_PT[opts.width] - 1.5)
    ax_c.set_xlim(0, top * 1.45)
    ax_c.xaxis.set_major_formatter(_time_formatter())
    ax_c.xaxis.set_major_locator(_nice_locator())
    ax_t.set_yticks(ys)
    ax_t.set_yticklabels(names)
    ax_t.tick_params(axis="y", length=0)
    ax_c.tick_params(axis="y", length=0, labelleft=False)
    lo = min(min(walls), min((iv.lo for iv in ivs if iv and iv.lo > 0), default=min(walls)))
    hi = max(max(walls), max((iv.hi for iv in ivs if iv), default=max(walls)))
    ax_t.set_xscale("log")
    ax_t.set_xlim(lo / 3, hi * 2)
    # About one label per 0.45 inch of the panel (half the figure's width, less the names).
    S.log_axis(ax_t.xaxis, S.fmt_time, lo / 3, hi * 2,
               numticks=max(3, int(S.WIDTHS[opts.width] * 0.4 / 0.45) + 1))
    ax_t.grid(False, axis="y")
    ax_c.grid(False, axis="y")
    per = "round trip" if workload == "pingpong" else "message"
    ax_t.set_xlabel(f"time / {per}")
    ax_c.set_xlabel(f"CPU / {per}")
    finish(fig, lax, handles, labels, opts,
           TITLES["cpu"].format(workload=workload, size=S.fmt_size_long(size)))
    cases = [c for _s, c, _v in entries]
    bars = interval_caption(kinds, [c.reps for c in cases])
    text = (f"{workload.capitalize()} at {S.fmt_size_long(size)}. Left: wall-clock time per "
            f"{per}, {reps_caption(cases)} (log scale).{bars} "
            f"Right: CPU time per {per} of both peers together, user (solid) and system (light) "
            f"stacked, medians over repetitions (linear scale; the label is the total). Twice "
            f"the wall time means both peers were busy all the time; less, that they slept or "
            f"waited for a CPU.")
    text += files_caption(results)
    return Figure(name, "cpu", fig, text,
                  {"workload": workload, "size": size, "names": names, "walls": walls,
                   "users": users, "systems": systems})


def _time_formatter():
    from matplotlib import ticker
    return ticker.FuncFormatter(lambda v, _p: "0" if v == 0 else S.fmt_time(v))


def _nice_locator():
    from matplotlib import ticker
    return ticker.MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10])


# --- speedup over a reference backend ----------------------------------------------------------


def speedup_values(ref, case):
    """(speedup, low, high, kind) of `case` over the reference case of the same size: the ratio
    of median times per message, and the ratio of the intervals' opposite ends."""
    t_ref, t = ref.median("real_time"), case.median("real_time")
    if not t_ref or not t:
        return None
    iv_ref, iv = ref.interval("real_time"), case.interval("real_time")
    value = t_ref / t
    if iv_ref and iv and iv.lo > 0 and iv.hi > 0:
        kind = "ci" if iv_ref.kind == iv.kind == "ci" else "range"
        return value, iv_ref.lo / iv.hi, iv_ref.hi / iv.lo, kind
    return value, value, value, ""


def speedup(results, opts):
    ref_name = opts.reference
    multi = len(results) > 1
    figs, notes = [], []
    have_ref = any(c.backend == ref_name and c.ok for r in results for c in r.cases)
    if not have_ref:
        msg = (f"no rows of the reference backend '{ref_name}' (choose another with "
               f"--reference)")
        if opts.reference_given:
            raise DataError(msg)
        raise NoData(msg)
    for workload in ("pingpong", "stream"):
        series = collect(results, workload)
        refs = {}
        for s in series:
            if s.backend == ref_name and not s.label.count(" "):
                for c in s.cases:
                    refs[(s.file_index, c.size)] = c
        others = [s for s in series if not (s.backend == ref_name and " " not in s.label)]
        bars = []  # (series, size, value, lo, hi, kind)
        for s in others:
            for c in s.cases:
                ref = refs.get((s.file_index, c.size))
                v = speedup_values(ref, c) if ref else None
                if v:
                    bars.append((s, c.size) + v)
        name = f"speedup-{workload}"
        if not bars:
            notes.append((name, f"no {workload} rows to compare with '{ref_name}' at the same "
                                f"size"))
            continue
        figs.append(_speedup_figure(results, opts, workload, ref_name, bars, multi, name))
    return figs, notes


def _speedup_figure(results, opts, workload, ref_name, bars, multi, name):
    sizes = sorted({b[1] for b in bars})
    keys = []
    for b in bars:
        k = (b[0].file_index, b[0].label)
        if k not in keys:
            keys.append(k)
    series_by_key = {(b[0].file_index, b[0].label): b[0] for b in bars}
    ordered = sorted(keys, key=lambda k: (S.backend_rank(series_by_key[k].backend), k[1], k[0]))
    extra = [(Line2D([], [], color="black", linewidth=0.8), f"{ref_name} = 1")]
    if multi:
        extra.append((S.GROUP_BREAK, S.GROUP_BREAK))
        for i, r in enumerate(results):
            extra.append((Patch(facecolor="white", edgecolor="black",
                                hatch=S.FILE_HATCHES[i % len(S.FILE_HATCHES)]),
                          f"{r.tag}: {r.label}"))
    handles, labels = [], []
    seen = set()
    for k in ordered:
        s = series_by_key[k]
        text = display_label(s)
        if text in seen:
            continue
        seen.add(text)
        handles.append(Patch(facecolor=S.backend_colour(s.backend),
                             edgecolor=S.backend_colour(s.backend)))
        labels.append(text)
    handles += [h for h, _ in extra]
    labels += [t for _, t in extra]
    fig, (ax,), lax = make_figure(opts, labels)
    width = 0.8 / max(1, len(ordered))
    values, kinds = [], set()
    for j, k in enumerate(ordered):
        s = series_by_key[k]
        pts = {b[1]: b for b in bars if (b[0].file_index, b[0].label) == k}
        xs, hs, ivs = [], [], []
        for i, size in enumerate(sizes):
            if size not in pts:
                continue
            _s, _size, v, lo, hi, kind = pts[size]
            xs.append(i - 0.4 + width * (j + 0.5))
            hs.append(v)
            ivs.append((lo, hi))
            if kind:
                kinds.add(kind)
            values += [v, lo, hi]
        colour = S.backend_colour(s.backend)
        hatch = S.FILE_HATCHES[s.file_index % len(S.FILE_HATCHES)] if multi else ""
        # Bars grow from 1 (the reference) up or down, so faster and slower read at a glance.
        ax.bar(xs, [h - 1.0 for h in hs], bottom=1.0, width=width * 0.92, color=colour,
               hatch=hatch, edgecolor=S.hatch_edge(colour) if hatch else colour, linewidth=0.3,
               label=s.plot_label(multi), zorder=3)
        lo_err = [max(h - lo, 0.0) for h, (lo, _hi) in zip(hs, ivs)]
        hi_err = [max(hi - h, 0.0) for h, (_lo, hi) in zip(hs, ivs)]
        if any(lo_err) or any(hi_err):
            ax.errorbar(xs, hs, yerr=[lo_err, hi_err], fmt="none", ecolor="black",
                        elinewidth=0.6, capsize=1.5, capthick=0.6, zorder=4, label="_errorbar")
    ax.axhline(1.0, color="black", linewidth=0.8, zorder=5)
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([S.fmt_size_long(sz) for sz in sizes])
    ax.set_xlim(-0.6, len(sizes) - 0.4)
    ax.set_xlabel("message size")
    ax.grid(False, axis="x")
    values = [v for v in values if v > 0] + [1.0]
    y_limits(ax, values, lambda v: f"{S.short(v)}×", pad=1.5)
    ax.set_ylabel(f"speedup over {ref_name}")
    finish(fig, lax, handles, labels, opts,
           TITLES["speedup"].format(reference=ref_name, workload=workload))
    per = "round trip" if workload == "pingpong" else "time per message"
    text = (f"Speedup of each backend over {ref_name} ({workload}): {ref_name}'s median {per} "
            f"divided by the backend's, at the same size; above 1 is faster (log scale).")
    if kinds == {"ci"}:
        text += (" Error bars: the ratio of the ends of the two 95 % confidence intervals of "
                 "the median (conservative).")
    elif kinds:
        text += (" Error bars: the ratio of the extremes of the repetitions (the slowest "
                 "reference over the fastest backend and the reverse).")
    text += files_caption(results)
    return Figure(name, "speedup", fig, text, {"workload": workload, "bars": [
        (b[0].label, b[0].file_index, b[1], b[2]) for b in bars]})


# --- farm speedup vs workers -------------------------------------------------------------------


def amdahl_fit(workers, speedups):
    """The parallel fraction p of Amdahl's law S(N) = 1 / ((1 - p) + p / N), least squares on
    1 - 1/S = p (1 - 1/N), clamped to [0, 1]. None when no point has N > 1."""
    a = [1.0 - 1.0 / n for n, s in zip(workers, speedups) if n > 1 and s > 0]
    b = [1.0 - 1.0 / s for n, s in zip(workers, speedups) if n > 1 and s > 0]
    den = sum(x * x for x in a)
    if den == 0:
        return None
    return min(max(sum(x * y for x, y in zip(a, b)) / den, 0.0), 1.0)


def amdahl(p, n):
    return 1.0 / ((1.0 - p) + p / n)


def farm(results, opts):
    def workers(c):
        return c.param_number("workers", ("workers",))

    def grain(c):
        return c.param_number("grain", ("grain_ns", "grain"))

    cases = [c for r in results for c in r.select("farm")]
    if not cases:
        raise NoData("no farm rows: these results have no farm workload (speedup vs workers)")
    if not all(workers(c) for c in cases):
        raise NoData("farm rows without a worker count (workers field or workers:N in the name)")
    multi = len(results) > 1
    grains = sorted({grain(c) for c in cases}, key=lambda g: (g is None, g or 0))
    figs, notes = [], []
    for g in grains:
        series = collect(results, "farm", key=workers, need=lambda c, g=g: grain(c) == g)
        lines = []
        for s in series:
            ws = [workers(c) for c in s.cases]
            sp, lo, hi = [], [], []
            base = next((c for c in s.cases if workers(c) == 1), None)
            for c in s.cases:
                direct = c.median("speedup")
                if direct is not None:
                    sp.append(direct)
                    mr = c.median_row
                    lo.append(mr.get("speedup_ci_low", direct))
                    hi.append(mr.get("speedup_ci_high", direct))
                elif base is not None:
                    v = speedup_values(base, c)
                    sp.append(v[0] if v else float("nan"))
                    lo.append(v[1] if v else float("nan"))
                    hi.append(v[2] if v else float("nan"))
                else:
                    sp.append(float("nan"))
                    lo.append(float("nan"))
                    hi.append(float("nan"))
            keep = [i for i, v in enumerate(sp) if math.isfinite(v)]
            if keep:
                lines.append((s, [ws[i] for i in keep], [sp[i] for i in keep],
                              [lo[i] for i in keep], [hi[i] for i in keep]))
        gname = "unknown" if g is None else S.fmt_time(g)
        name = f"farm-grain-{'unknown' if g is None else int(g)}"
        if not lines:
            notes.append((name, f"grain {gname}: no speedup (needs a 1-worker row or a speedup "
                                f"field)"))
            continue
        fits = {id(s): amdahl_fit(ws, sp) for s, ws, sp, _lo, _hi in lines}
        extra = [(Line2D([], [], color=S.FLOOR_COLOUR, linewidth=0.9), "ideal (S = N)"),
                 (Line2D([], [], color="black", linestyle=(0, (2, 1.5)), linewidth=0.8),
                  "Amdahl fit")]
        handles, labels = legend_entries([l[0] for l in lines], multi, results, extra)
        fig, (ax,), lax = make_figure(opts, labels)
        n_max = max(max(l[1]) for l in lines)
        ax.plot([1, n_max], [1, n_max], color=S.FLOOR_COLOUR, linewidth=0.9, zorder=1,
                label="ideal")
        for s, ws, sp, lo, hi in lines:
            style = S.line_style(s.backend, s.in_process, s.file_index, multi)
            colour = style["color"]
            ax.plot(ws, sp, label=s.plot_label(multi), zorder=4, **style)
            ax.errorbar(ws, sp, yerr=[[max(v - l, 0) for v, l in zip(sp, lo)],
                                      [max(h - v, 0) for v, h in zip(sp, hi)]], fmt="none",
                        ecolor=colour, elinewidth=0.7, capsize=1.8, zorder=3, label="_errorbar")
            p = fits[id(s)]
            if p is not None:
                grid = np.linspace(1, n_max, 50)
                ax.plot(grid, [amdahl(p, n) for n in grid], color=colour,
                        linestyle=(0, (2, 1.5)), linewidth=0.8, zorder=2,
                        label=f"Amdahl p={p:.3f} {s.plot_label(multi)}")
        ax.set_xlabel("workers")
        ax.set_ylabel("speedup T(1) / T(N)")
        ax.set_xlim(0.8, n_max * 1.05)
        ax.set_ylim(0, n_max * 1.1)
        from matplotlib import ticker
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        finish(fig, lax, handles, labels, opts, TITLES["farm"].format(grain=gname))
        text = (f"Farm speedup against the number of workers at a task grain of {gname}: "
                f"T(1)/T(N) of the medians, with the ideal line and the least-squares Amdahl fit "
                f"(parallel fraction p: " + "; ".join(
                    f"{s.plot_label(multi)} {fits[id(s)]:.3f}" for s, *_ in lines
                    if fits[id(s)] is not None) + ").")
        text += files_caption(results)
        figs.append(Figure(name, "farm", fig, text, {"grain": g, "fits": {
            s.plot_label(multi): fits[id(s)] for s, *_ in lines}}))
    return figs, notes


# --- paced: latency vs offered rate ------------------------------------------------------------

PACED_PERCENTILES = (("p50_ns", "p50", "-"), ("p99_ns", "p99", (0, (4, 1.6))),
                     ("p999_ns", "p99.9", (0, (1, 1.2))))


def paced(results, opts):
    cases = [c for r in results for c in r.select("paced")]
    if not cases:
        raise NoData("no paced rows: these results have no paced workload (latency vs "
                     "offered rate)")
    multi = len(results) > 1
    figs, notes = [], []
    for size in sorted({c.size for c in cases}):
        series = collect(results, "paced", key=lambda c: c.rate,
                         need=lambda c, size=size: c.size == size)
        series = [s for s in series if any(c.percentile(k) for c in s.cases
                                           for k, _l, _d in PACED_PERCENTILES)]
        name = f"paced-size-{size}"
        if not series:
            notes.append((name, f"paced rows at {S.fmt_size_long(size)} have no percentiles"))
            continue
        extra = [(Line2D([], [], color="#606060", linestyle=ls), label)
                 for _k, label, ls in PACED_PERCENTILES]
        not_kept = any(c.flag("rate_not_kept") for s in series for c in s.cases)
        if not_kept:
            extra.append((Line2D([], [], color="black", marker="o", markerfacecolor="none",
                                 markersize=7, linestyle="none"), "rate not kept"))
        handles, labels = legend_entries(series, multi, results, extra)
        # The legend's series entries show colour and marker; the line style is the percentile's.
        for h in handles[:len(series)]:
            h.set_linestyle("-")
        fig, (ax,), lax = make_figure(opts, labels)
        all_x, all_y = [], []
        for s in series:
            style = S.line_style(s.backend, s.in_process, s.file_index, multi)
            for key, plabel, ls in PACED_PERCENTILES:
                pts = [(c.rate, c.percentile(key)) for c in s.cases if c.percentile(key)]
                if not pts:
                    continue
                xs, ys = zip(*pts)
                st = dict(style, linestyle=ls)
                ax.plot(xs, ys, label=f"{s.plot_label(multi)} {plabel}", zorder=4, **st)
                all_x += xs
                all_y += ys
            for c in s.cases:
                if c.flag("rate_not_kept") and c.percentile("p50_ns"):
                    ax.plot([c.rate], [c.percentile("p50_ns")], marker="o", markersize=7,
                            markerfacecolor="none", color="black", linestyle="none", zorder=5,
                            label="_rate_not_kept")
        ax.set_xscale("log")
        lo, hi = min(all_x), max(all_x)
        ax.set_xlim(lo / 1.5, hi * 1.5)
        S.log_axis(ax.xaxis, S.fmt_si, lo / 1.5, hi * 1.5)
        y_limits(ax, all_y, S.fmt_time)
        ax.set_xlabel("offered rate (messages/s)")
        ax.set_ylabel("one-way latency")
        finish(fig, lax, handles, labels, opts, TITLES["paced"].format(size=S.fmt_size_long(size)))
        text = (f"Paced (open-loop) workload at {S.fmt_size_long(size)}: one-way latency, "
                f"measured from each message's intended send time (no coordinated omission), "
                f"against the offered rate; p50 solid, p99 dashed, p99.9 dotted.")
        if not_kept:
            text += " Circled: the sender could not keep the offered rate."
        text += files_caption(results)
        figs.append(Figure(name, "paced", fig, text, {"size": size}))
    return figs, notes


BUILDERS = {
    "throughput": throughput,
    "latency": latency,
    "spectrum": spectrum,
    "cdf": cdf,
    "cpu": cpu,
    "speedup": speedup,
    "farm": farm,
    "paced": paced,
}


def build(results, opts, families=None):
    """All figures of the given families (default: all). Returns (figures, notes) where notes
    are (figure or family, reason) for what was skipped. A family asked for by name that has no
    data at all raises DataError."""
    S.apply(opts.width)
    figures, notes = [], []
    asked = families is not None
    for fam in families or FAMILIES:
        try:
            figs, fam_notes = BUILDERS[fam](results, opts)
        except NoData as e:
            if asked:
                raise DataError(f"no data for the {fam} figures: {e}") from None
            notes.append((fam, str(e)))
            continue
        if asked and not figs:
            raise DataError(f"no data for the {fam} figures: "
                            + "; ".join(reason for _n, reason in fam_notes))
        figures += figs
        notes += fam_notes
    return figures, notes
