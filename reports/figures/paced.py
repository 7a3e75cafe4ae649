"""paced: one-way latency p50/p99/p99.9 against the offered rate of the open-loop workload, per
size, rates the sender could not keep circled [paced-size-N]."""

from __future__ import annotations

from matplotlib.lines import Line2D

import ipcstyle as S

from .common import (TITLES, Figure, NoData, collect, files_caption, finish, legend_entries,
                     make_figure, y_limits)

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
        figs.append(_paced_figure(results, opts, size, series, multi, name))
    return figs, notes


def _paced_figure(results, opts, size, series, multi, name):
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
        xs, ys = _percentile_lines(ax, s, multi)
        all_x += xs
        all_y += ys
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
    return Figure(name, "paced", fig, text, {"size": size})


def _percentile_lines(ax, s, multi):
    """One series' p50, p99 and p99.9 lines and its circled rates; returns the points drawn."""
    style = s.style(s.file_index, multi)
    all_x, all_y = [], []
    for key, plabel, ls in PACED_PERCENTILES:
        pts = [(c.rate, c.percentile(key)) for c in s.cases if c.percentile(key)]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, label=f"{s.plot_label(multi)} {plabel}", zorder=4,
                **dict(style, linestyle=ls))
        all_x += xs
        all_y += ys
    for c in s.cases:
        if c.flag("rate_not_kept") and c.percentile("p50_ns"):
            ax.plot([c.rate], [c.percentile("p50_ns")], marker="o", markersize=7,
                    markerfacecolor="none", color="black", linestyle="none", zorder=5,
                    label="_rate_not_kept")
    return all_x, all_y
