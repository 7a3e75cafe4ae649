"""latency: pingpong round trip (median, p99) against message size [latency-median,
latency-p99], the cache-line floor dotted."""

from __future__ import annotations

import ipcstyle as S
from ipcdata import min_samples_for

from .common import NoData
from .vs_size import size_lines

P99_SAMPLES = min_samples_for(0.99)


def latency(results, opts):
    figs, notes = [], []
    f = size_lines(
        results, opts, name="latency-median", family="latency", workload="pingpong",
        value=lambda c: c.median("real_time"), interval=lambda c: c.interval("real_time"),
        ylabel="round trip, median", yfmt=S.fmt_time,
        caption="Pingpong round trip against message size (one-way latency ≈ half), {reps}.",
        floor="floor-cacheline", floor_label="cache-line floor")
    if f is None:
        raise NoData("no pingpong rows: the latency figures need the pingpong workload")
    figs.append(f)
    f = size_lines(
        results, opts, name="latency-p99", family="latency", workload="pingpong",
        value=lambda c: c.percentile("p99_ns"), interval=None,
        ylabel="round trip, p99", yfmt=S.fmt_time,
        caption="Pingpong round trip against message size: 99th percentile of the sampled round "
                f"trips, merged over the repetitions; shown where at least {P99_SAMPLES} samples "
                f"stand behind it.",
        floor="floor-cacheline", floor_label="cache-line floor")
    missing = sorted({c.series for r in results for c in r.select("pingpong")
                      if c.percentile("p99_ns") is None})
    if f is None:
        notes.append(("latency-p99", f"no pingpong row has a p99 (each needs {P99_SAMPLES} "
                                     f"sampled round trips; use longer runs or --sample-every 1)"))
    else:
        if missing:
            f.caption += (" Missing points had too few samples for a p99 ("
                          + ", ".join(missing) + ").")
        figs.append(f)
    return figs, notes
