"""spectrum: the pingpong round trip's percentile spectrum per size, from the stored histograms
(HdrHistogram style, x = 1/(1 - p)) [spectrum-size-N]."""

from __future__ import annotations

import math

import numpy as np

import ipcstyle as S
from ipcdata import PERCENTILES, TAIL_SAMPLES, max_percentile, min_samples_for, quantiles

from .common import (TITLES, Figure, NoData, files_caption, finish, histogram_series,
                     legend_entries, make_figure, marked_every, y_limits)


def spectrum_points(case):
    """(percentiles, latencies) of a case's histogram, from p = 0 up to the largest p that
    the harness's rule allows (ipcdata.min_samples_for), including the standard p50...p99.99
    that qualify, so that those points equal the file's p50_ns... exactly."""
    buckets = case.histogram()
    n = sum(b[2] for b in buckets)
    if n < min_samples_for(0.5):
        return None, None
    p_max = max_percentile(n)
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
    by_size = histogram_series(results)
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
        figs.append(_spectrum_figure(results, opts, size, pairs, few, multi))
    return figs, notes


def _spectrum_figure(results, opts, size, pairs, few, multi):
    handles, labels = legend_entries([s for s, _ in pairs], multi, results, markers=False)
    fig, (ax,), lax = make_figure(opts, labels)
    p_max, all_y = 0.5, []
    samples = []
    for s, c in pairs:
        ps, ys = spectrum_points(c)
        xs = [1.0 / (1.0 - p) for p in ps]
        style = marked_every(s.style(s.file_index, multi), multi)
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
            f"fewer than {TAIL_SAMPLES} samples lie beyond it.")
    if few:
        text += " Too few samples: " + ", ".join(few) + "."
    text += files_caption(results)
    return Figure(f"spectrum-size-{size}", "spectrum", fig, text, {"size": size})
