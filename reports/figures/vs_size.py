"""Line charts against message size, with a floor measured in the same run: the throughput and
latency families are made of these."""

from __future__ import annotations

from matplotlib.lines import Line2D

import ipcstyle as S

from .common import (TITLES, Figure, collect, errorbars, files_caption, finish,
                     interval_caption, legend_entries, lossy_caption, make_figure, reps_caption,
                     y_limits)


def size_lines(results, opts, *, name, family, workload, value, interval, ylabel, yfmt,
               caption, floor=None, floor_label=""):
    """One line per series of `workload`: value(case) against size, with interval(case) as
    error bars, and the `floor` workload's rows dotted grey. None when no case has a value."""
    def positive(c):
        return (value(c) or 0) > 0

    series = collect(results, workload, need=positive)
    if not series:
        return None
    multi = len(results) > 1
    floor_series = collect(results, floor, need=positive, floor=True) if floor else []
    extra = []
    if floor_series:
        extra.append((Line2D([], [], **S.line_style(None, False, 0, False, floor=True)),
                      floor_label))
    handles, labels = legend_entries(series, multi, results, extra)
    fig, (ax,), lax = make_figure(opts, labels)
    all_y, sizes, kinds, cases = [], set(), set(), []
    for s in series:
        xs = [c.size for c in s.cases]
        ys = [value(c) for c in s.cases]
        ivs = [interval(c) if interval else None for c in s.cases]
        style = s.style(s.file_index, multi)
        ax.plot(xs, ys, label=s.plot_label(multi), zorder=4, **style)
        errorbars(ax, xs, ys, ivs, style["color"])
        kinds |= {iv.kind for iv in ivs if iv}
        all_y += ys + [iv.lo for iv in ivs if iv] + [iv.hi for iv in ivs if iv]
        sizes |= set(xs)
        cases += s.cases
    for s in floor_series:
        all_y += _floor_line(ax, s, value, sizes, floor, floor_label, multi)
    S.size_axis(ax, sizes)
    y_limits(ax, all_y, yfmt)
    ax.set_ylabel(ylabel)
    finish(fig, lax, handles, labels, opts, TITLES.get(name))
    text = caption.format(reps=reps_caption(cases)) + interval_caption(kinds, [c.reps for c in
                                                                               cases])
    if any(s.in_process for s in series):
        text += " Dashed: in-process references (two threads of one process)."
    if any(not s.in_process and (s.position or 0) >= len(S.PALETTE) for s in series):
        text += (" Dash-dot: backends past the palette's eight colours, whose colour repeats "
                 "that of one eight places earlier in the registry.")
    text += lossy_caption(series)
    if floor_series:
        text += f" Dotted grey: {floor_label}, measured in the same run."
    text += files_caption(results)
    return Figure(name, family, fig, text)


def _floor_line(ax, s, value, sizes, floor, floor_label, multi) -> list:
    """Draws one file's floor; returns the values drawn (for the y limits)."""
    label = f"{floor_label} [{s.result.tag}]" if multi else floor_label
    if floor == "floor-cacheline":
        # One line bounced between the two CPUs: the same limit at every size.
        y = value(s.cases[0])
        style = s.style(s.file_index, False)
        ax.axhline(y, color=style["color"], linestyle=style["linestyle"], linewidth=1.0,
                   zorder=2, label=label)
        return [y]
    xs = [c.size for c in s.cases if c.size in sizes or not sizes]
    ys = [value(c) for c in s.cases if c.size in sizes or not sizes]
    if not xs:
        return []
    style = s.style(s.file_index, multi)
    ax.plot(xs, ys, zorder=2, label=label, **style)
    return ys
