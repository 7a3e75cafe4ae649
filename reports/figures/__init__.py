"""The figure families of ipcperf results. plot.py writes them to files, report.py puts them in
a page, the tests read the plotted data back from the returned matplotlib figures.

Each builder takes the loaded results (one or more files) and returns the figures its data
supports, plus a note for each figure it could not draw ("no paced rows: ..."): a figure without
data is skipped, never drawn empty. One module per family (file stems in brackets):

  throughput  stream msg/s and bytes/s vs size          [throughput-msgs, throughput-bytes]
  latency     pingpong median and p99 round trip vs size [latency-median, latency-p99]
  spectrum    percentile spectrum per size (histograms)  [spectrum-size-N]
  cdf         latency CDF per size                      [cdf-size-N]
  cpu         time and CPU per message, per size         [cpu-WORKLOAD-size-N]
  speedup     speedup over a reference backend           [speedup-WORKLOAD]
  farm        farm speedup vs workers per grain          [farm-grain-G]
  paced       one-way latency vs offered rate            [paced-size-N]

common.py holds what they share (series, legends, captions, axes), vs_size.py the line chart
against message size that throughput and latency are made of. With several files, every figure
overlays them: colour = backend, marker (lines) or hatch (bars) = file, and the legend names
each file's host and revision.
"""

from __future__ import annotations

import ipcstyle as S
from ipcdata import DataError

from .cdf import cdf, cdf_points
from .common import TITLES, Figure, NoData, Options, filter_backends
from .cpu import cpu
from .farm import amdahl, amdahl_fit, farm
from .latency import latency
from .paced import paced
from .spectrum import spectrum, spectrum_points
from .speedup import speedup, speedup_values
from .throughput import throughput

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
FAMILIES = tuple(BUILDERS)

__all__ = ["BUILDERS", "FAMILIES", "TITLES", "Figure", "NoData", "Options", "amdahl",
           "amdahl_fit", "build", "cdf", "cdf_points", "cpu", "farm", "filter_backends",
           "latency", "paced", "spectrum", "spectrum_points", "speedup", "speedup_values",
           "throughput"]


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
