"""farm: speedup T(1)/T(N) against the number of workers per task grain, with the ideal line and
the least-squares Amdahl fit [farm-grain-G]."""

from __future__ import annotations

import math

import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D

import ipcstyle as S

from .common import (TITLES, Figure, NoData, collect, files_caption, finish, legend_entries,
                     make_figure)
from .speedup import speedup_values

NAN = float("nan")


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


def _workers(c):
    return c.param_number("workers", ("workers",))


def _grain(c):
    return c.param_number("grain", ("grain_ns", "grain"))


def farm(results, opts):
    cases = [c for r in results for c in r.select("farm")]
    if not cases:
        raise NoData("no farm rows: these results have no farm workload (speedup vs workers)")
    if not all(_workers(c) for c in cases):
        raise NoData("farm rows without a worker count (workers field or workers:N in the name)")
    multi = len(results) > 1
    grains = sorted({_grain(c) for c in cases}, key=lambda g: (g is None, g or 0))
    figs, notes = [], []
    for g in grains:
        series = collect(results, "farm", key=_workers, need=lambda c, g=g: _grain(c) == g)
        lines = [line for line in (_speedup_line(s) for s in series) if line]
        gname = "unknown" if g is None else S.fmt_time(g)
        name = f"farm-grain-{'unknown' if g is None else int(g)}"
        if not lines:
            notes.append((name, f"grain {gname}: no speedup (needs a 1-worker row or a speedup "
                                f"field)"))
            continue
        figs.append(_farm_figure(results, opts, g, gname, name, lines, multi))
    return figs, notes


def _point(c, base):
    """(speedup, low, high) of one case: the row's speedup field, else T(1)/T(N)."""
    direct = c.median("speedup")
    if direct is not None:
        mr = c.median_row
        return direct, mr.get("speedup_ci_low", direct), mr.get("speedup_ci_high", direct)
    v = speedup_values(base, c) if base is not None else None
    return (v[0], v[1], v[2]) if v else (NAN, NAN, NAN)


def _speedup_line(s):
    """(series, workers, speedups, lows, highs) of the points with a speedup, or None."""
    base = next((c for c in s.cases if _workers(c) == 1), None)
    points = [(_workers(c),) + _point(c, base) for c in s.cases]
    points = [p for p in points if math.isfinite(p[1])]
    if not points:
        return None
    ws, sp, lo, hi = (list(col) for col in zip(*points))
    return s, ws, sp, lo, hi


def _farm_figure(results, opts, g, gname, name, lines, multi):
    fits = {id(s): amdahl_fit(ws, sp) for s, ws, sp, _lo, _hi in lines}
    extra = [(Line2D([], [], color=S.FLOOR_COLOUR, linewidth=0.9), "ideal (S = N)"),
             (Line2D([], [], color="black", linestyle=(0, (2, 1.5)), linewidth=0.8),
              "Amdahl fit")]
    handles, labels = legend_entries([line[0] for line in lines], multi, results, extra)
    fig, (ax,), lax = make_figure(opts, labels)
    n_max = max(max(line[1]) for line in lines)
    ax.plot([1, n_max], [1, n_max], color=S.FLOOR_COLOUR, linewidth=0.9, zorder=1,
            label="ideal")
    for s, ws, sp, lo, hi in lines:
        style = s.style(s.file_index, multi)
        colour = style["color"]
        ax.plot(ws, sp, label=s.plot_label(multi), zorder=4, **style)
        ax.errorbar(ws, sp, yerr=[[max(v - low, 0) for v, low in zip(sp, lo)],
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
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    finish(fig, lax, handles, labels, opts, TITLES["farm"].format(grain=gname))
    text = (f"Farm speedup against the number of workers at a task grain of {gname}: "
            f"T(1)/T(N) of the medians, with the ideal line and the least-squares Amdahl fit "
            f"(parallel fraction p: " + "; ".join(
                f"{s.plot_label(multi)} {fits[id(s)]:.3f}" for s, *_ in lines
                if fits[id(s)] is not None) + ").")
    text += files_caption(results)
    return Figure(name, "farm", fig, text, {"grain": g, "fits": {
        s.plot_label(multi): fits[id(s)] for s, *_ in lines}})
