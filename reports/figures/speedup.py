"""speedup: each backend's speedup over a reference backend per size, bars growing from 1
[speedup-WORKLOAD]. The reference is the one asked for, else ipcdata.default_reference: the
registry's first kernel backend that was measured."""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import ipcstyle as S
from ipcdata import REFERENCE_FAMILY, DataError, default_reference

from .common import (TITLES, Figure, NoData, collect, display_label, file_hatch,
                     file_hatch_entries, files_caption, finish, make_figure, y_limits)


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
    ref_name = opts.reference or default_reference(results)
    multi = len(results) > 1
    figs, notes = [], []
    if ref_name is None:
        raise NoData(f"no backend of the {REFERENCE_FAMILY} family to compare with (choose one "
                     f"with --reference)")
    have_ref = any(c.backend == ref_name and c.ok for r in results for c in r.cases)
    if not have_ref:
        msg = (f"no rows of the reference backend '{ref_name}' (choose another with "
               f"--reference)")
        if opts.reference_given:
            raise DataError(msg)
        raise NoData(msg)
    for workload in ("pingpong", "stream"):
        bars = _bars(collect(results, workload), ref_name)
        name = f"speedup-{workload}"
        if not bars:
            notes.append((name, f"no {workload} rows to compare with '{ref_name}' at the same "
                                f"size"))
            continue
        figs.append(_speedup_figure(results, opts, workload, ref_name, bars, multi, name))
    return figs, notes


def _bars(series, ref_name):
    """(series, size, speedup, low, high, kind) of every case that has a reference case (the
    reference backend without a variant, same file and size)."""
    def is_ref(s):
        return s.backend == ref_name and " " not in s.label

    refs = {(s.file_index, c.size): c for s in series if is_ref(s) for c in s.cases}
    bars = []
    for s in series:
        if is_ref(s):
            continue
        for c in s.cases:
            ref = refs.get((s.file_index, c.size))
            v = speedup_values(ref, c) if ref else None
            if v:
                bars.append((s, c.size) + v)
    return bars


def _legend(results, ref_name, ordered, series_by_key, multi):
    """One colour patch per series label, the reference line, then the files' hatches."""
    handles, labels, seen = [], [], set()
    for k in ordered:
        s = series_by_key[k]
        text = display_label(s)
        if text in seen:
            continue
        seen.add(text)
        colour = s.colour
        handles.append(Patch(facecolor=colour, edgecolor=colour))
        labels.append(text)
    extra = [(Line2D([], [], color="black", linewidth=0.8), f"{ref_name} = 1")]
    if multi:
        extra += file_hatch_entries(results)
    return handles + [h for h, _ in extra], labels + [t for _, t in extra]


def _speedup_figure(results, opts, workload, ref_name, bars, multi, name):
    sizes = sorted({b[1] for b in bars})
    series_by_key = {}
    for b in bars:
        series_by_key.setdefault((b[0].file_index, b[0].label), b[0])
    ordered = list(series_by_key)  # collect()'s order: registry, label, file
    handles, labels = _legend(results, ref_name, ordered, series_by_key, multi)
    fig, (ax,), lax = make_figure(opts, labels)
    width = 0.8 / max(1, len(ordered))
    values, kinds = [], set()
    for j, k in enumerate(ordered):
        pts = {b[1]: b for b in bars if (b[0].file_index, b[0].label) == k}
        xs = [i - 0.4 + width * (j + 0.5) for i, size in enumerate(sizes) if size in pts]
        drawn = [pts[size] for size in sizes if size in pts]
        kinds |= {b[5] for b in drawn if b[5]}
        values += [v for b in drawn for v in b[2:5]]
        _draw_bars(ax, series_by_key[k], xs, drawn, width, multi)
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
    return Figure(name, "speedup", fig, _caption(results, workload, ref_name, kinds),
                  {"workload": workload, "bars": [(b[0].label, b[0].file_index, b[1], b[2])
                                                  for b in bars]})


def _draw_bars(ax, s, xs, drawn, width, multi):
    """One series' bars from 1 (the reference) up or down, so that faster and slower read at a
    glance, with their error bars."""
    hs = [b[2] for b in drawn]
    colour = s.colour
    hatch = file_hatch(s.file_index, multi)
    ax.bar(xs, [h - 1.0 for h in hs], bottom=1.0, width=width * 0.92, color=colour,
           hatch=hatch, edgecolor=S.hatch_edge(colour) if hatch else colour, linewidth=0.3,
           label=s.plot_label(multi), zorder=3)
    lo_err = [max(h - b[3], 0.0) for h, b in zip(hs, drawn)]
    hi_err = [max(b[4] - h, 0.0) for h, b in zip(hs, drawn)]
    if any(lo_err) or any(hi_err):
        ax.errorbar(xs, hs, yerr=[lo_err, hi_err], fmt="none", ecolor="black",
                    elinewidth=0.6, capsize=1.5, capthick=0.6, zorder=4, label="_errorbar")


def _caption(results, workload, ref_name, kinds):
    per = "round trip" if workload == "pingpong" else "time per message"
    text = (f"Speedup of each backend over {ref_name} ({workload}): {ref_name}'s median {per} "
            f"divided by the backend's, at the same size; above 1 is faster (log scale).")
    if kinds == {"ci"}:
        text += (" Error bars: the ratio of the ends of the two 95 % confidence intervals of "
                 "the median (conservative).")
    elif kinds:
        text += (" Error bars: the ratio of the extremes of the repetitions (the slowest "
                 "reference over the fastest backend and the reverse).")
    return text + files_caption(results)
