"""throughput: stream messages/s and bytes/s against message size [throughput-msgs,
throughput-bytes], the memcpy floor dotted under the bytes."""

from __future__ import annotations

import ipcstyle as S

from .common import NoData
from .vs_size import size_lines


def throughput(results, opts):
    figs, notes = [], []
    f = size_lines(
        results, opts, name="throughput-msgs", family="throughput", workload="stream",
        value=lambda c: c.median("items_per_second"),
        interval=lambda c: c.interval("items_per_second"),
        ylabel="throughput (messages/s)", yfmt=lambda v: S.fmt_si(v),
        caption="Stream throughput against message size: messages per second at the receiver, "
                "{reps}.")
    if f is None:
        raise NoData("no stream rows: the throughput figures need the stream workload")
    figs.append(f)
    f = size_lines(
        results, opts, name="throughput-bytes", family="throughput", workload="stream",
        value=lambda c: c.median("bytes_per_second"),
        interval=lambda c: c.interval("bytes_per_second"),
        ylabel="throughput (bytes/s)", yfmt=lambda v: S.fmt_si(v, "B/s"),
        caption="Stream throughput against message size: payload bytes per second at the "
                "receiver (k, M, G = 10³, 10⁶, 10⁹), {reps}.",
        floor="floor-memcpy", floor_label="memcpy floor")
    figs.append(f)
    return figs, notes
