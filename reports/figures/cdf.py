"""cdf: the sampled pingpong round trips' cumulative distribution per size, from the stored
histograms [cdf-size-N]."""

from __future__ import annotations

import ipcstyle as S

from .common import (TITLES, Figure, NoData, files_caption, finish, histogram_series,
                     legend_entries, make_figure, marked_every)


def cdf_points(case):
    """(latencies, cumulative fractions): the upper edge of each histogram bucket and the share
    of samples at or below it, starting at (first bucket's low edge, 0)."""
    buckets = case.histogram()
    n = float(sum(b[2] for b in buckets))
    xs, ys, seen = [float(buckets[0][0])], [0.0], 0
    for _lo, hi, count in buckets:
        seen += count
        xs.append(float(hi))
        ys.append(seen / n)
    return xs, ys


def cdf(results, opts):
    by_size = histogram_series(results)
    if not by_size:
        raise NoData("no latency histograms: the CDF needs pingpong rows with latency_histogram")
    multi = len(results) > 1
    return [_cdf_figure(results, opts, size, by_size[size], multi) for size in sorted(by_size)], []


def _cdf_figure(results, opts, size, pairs, multi):
    handles, labels = legend_entries([s for s, _ in pairs], multi, results, markers=False)
    fig, (ax,), lax = make_figure(opts, labels)
    all_x = []
    for s, c in pairs:
        xs, ys = cdf_points(c)
        style = marked_every(s.style(s.file_index, multi), multi)
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
    return Figure(f"cdf-size-{size}", "cdf", fig, text, {"size": size})
