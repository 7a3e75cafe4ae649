"""cpu: wall-clock time per message next to the CPU time of both peers per message, user and
system stacked, one figure per workload and size [cpu-WORKLOAD-size-N]."""

from __future__ import annotations

from matplotlib import ticker
from matplotlib.patches import Patch

import ipcstyle as S

from .common import (TITLES, Figure, NoData, collect, errorbars, file_hatch, file_hatch_entries,
                     files_caption, finish, interval_caption, make_figure, reps_caption)


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
            entries = [e for e in entries if e[2] is not None and _has_time(e[1])]
            name = f"cpu-{workload}-size-{size}"
            if not entries:
                notes.append((name, "no CPU times in the rows (cpu_user_ns_*/cpu_sys_ns_* or "
                                    "cpu_ns_per_msg_*)"))
                continue
            figs.append(_cpu_figure(results, opts, workload, size, entries, multi, name))
    if not any_cases:
        raise NoData("no pingpong, stream or paced rows")
    return figs, notes


def _has_time(case):
    v = case.median("real_time")
    return v is not None and v > 0


def _bar_label(s, multi):
    label = s.label + (" (in-proc.)" if s.in_process else "")
    return f"{label} [{s.result.tag}]" if multi else label


def _cpu_figure(results, opts, workload, size, entries, multi, name):
    extra = [(Patch(facecolor="#606060", edgecolor="#606060"), "user"),
             (Patch(facecolor="#606060", alpha=0.35, edgecolor="#606060"), "system")]
    if multi:
        extra += file_hatch_entries(results)
    handles = [h for h, _ in extra]
    labels = [t for _, t in extra]
    panel_h = max(1.1, 0.17 * len(entries) + 0.55)
    fig, (ax_t, ax_c), lax = make_figure(opts, labels, ncols=2, panel_height=panel_h,
                                         sharey=True)
    # Room between the panels for the last label of the left axis and the first of the right.
    fig.get_layout_engine().set(wspace=0.12)
    ys = list(range(len(entries)))[::-1]
    names, walls, kinds = _time_panel(ax_t, entries, ys, multi)
    users = [user for _s, _c, (user, _system, _src) in entries]
    systems = [system for _s, _c, (_user, system, _src) in entries]
    _cpu_panel(ax_c, entries, ys, users, systems, multi, opts.width)
    ax_t.set_yticks(ys)
    ax_t.set_yticklabels(names)
    ax_t.tick_params(axis="y", length=0)
    ax_c.tick_params(axis="y", length=0, labelleft=False)
    _time_axis(ax_t, entries, walls, opts.width)
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


def _time_panel(ax, entries, ys, multi):
    """The left panel: one bar of median wall time per entry with its interval. Returns (bar
    labels, wall times, interval kinds)."""
    names, walls, kinds = [], [], set()
    for (s, c, _cpu), y in zip(entries, ys):
        colour = s.colour
        hatch = file_hatch(s.file_index, multi)
        wall = c.median("real_time")
        iv = c.interval("real_time")
        names.append(_bar_label(s, multi))
        walls.append(wall)
        if iv:
            kinds.add(iv.kind)
        ax.barh(y, wall, height=0.7, color=colour, hatch=hatch,
                edgecolor=S.hatch_edge(colour) if hatch else colour, linewidth=0.3)
        errorbars(ax, [y], [wall], [iv], "black", horizontal=True)
    return names, walls, kinds


def _cpu_panel(ax, entries, ys, users, systems, multi, width):
    """The right panel: user and system time stacked, the total written at each bar's end."""
    colours = [s.colour for s, _, _ in entries]
    ax.barh(ys, users, height=0.7, color=colours, label="user", linewidth=0.3)
    ax.barh(ys, systems, left=users, height=0.7, alpha=0.35, color=colours, label="system",
            linewidth=0.3)
    if multi:
        for patch, (s, _c, _v) in zip(ax.containers[0].patches + ax.containers[1].patches,
                                      entries + entries):
            patch.set_hatch(file_hatch(s.file_index, True))
            patch.set_edgecolor(S.hatch_edge(s.colour))
    totals = [u + s for u, s in zip(users, systems)]
    top = max(totals) if max(totals) > 0 else 1.0
    for y, t in zip(ys, totals):
        ax.text(t + top * 0.03, y, S.fmt_time(t), va="center", ha="left",
                fontsize=S.FONT_PT[width] - 1.5)
    ax.set_xlim(0, top * 1.45)
    ax.xaxis.set_major_formatter(
        ticker.FuncFormatter(lambda v, _p: "0" if v == 0 else S.fmt_time(v)))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]))


def _time_axis(ax, entries, walls, width):
    """The left panel's log axis, wide enough for every bar and interval."""
    ivs = [c.interval("real_time") for _s, c, _v in entries]
    lo = min(min(walls), min((iv.lo for iv in ivs if iv and iv.lo > 0), default=min(walls)))
    hi = max(max(walls), max((iv.hi for iv in ivs if iv), default=max(walls)))
    ax.set_xscale("log")
    ax.set_xlim(lo / 3, hi * 2)
    # About one label per 0.45 inch of the panel (half the figure's width, less the names).
    S.log_axis(ax.xaxis, S.fmt_time, lo / 3, hi * 2,
               numticks=max(3, int(S.WIDTHS[width] * 0.4 / 0.45) + 1))
