"""ipcdata: the one Python copy of the harness's percentile rules agrees with what the C++ wrote
into real result files, and reading results needs no matplotlib."""

import os
import subprocess
import sys

import pytest

import ipcdata
from conftest import FIXTURE, ONE_CORE, REPORTS, median_rows


def histogram_rows(path):
    """(name, _median row) of every case of a real fixture whose row carries a histogram."""
    return [(name, row) for name, row in median_rows(path).items()
            if row.get("latency_histogram")]


@pytest.mark.parametrize("path", [FIXTURE, ONE_CORE])
def test_quantiles_of_the_histogram_are_the_percentiles_the_harness_wrote(path):
    rows = histogram_rows(path)
    compared = 0
    for name, row in rows:
        buckets = row["latency_histogram"]
        assert sum(b[2] for b in buckets) == row["latency_samples"], name
        written = {key: row[key] for _p, key in ipcdata.PERCENTILES if key in row}
        compared += len(written)
        computed = ipcdata.harness_percentiles(buckets, row["min_ns"], row["max_ns"])
        # Exactly: the same rule on the same buckets gives the same doubles.
        assert computed == written, name
        qs = [p for p, key in ipcdata.PERCENTILES if key in row]
        assert ipcdata.quantiles(buckets, qs, row["min_ns"], row["max_ns"]) == \
            [row[key] for _p, key in ipcdata.PERCENTILES if key in row], name
    assert compared >= 10


def test_the_minimum_samples_rule_decides_which_percentiles_the_harness_wrote():
    # The fixture has kernel rows with too few samples for a p99 and shared-memory rows with
    # enough: both sides of the rule, as the C++ applied it.
    present, absent = 0, 0
    for path in (FIXTURE, ONE_CORE):
        for name, row in histogram_rows(path):
            n = row["latency_samples"]
            for p, key in ipcdata.PERCENTILES:
                assert (key in row) == (n >= ipcdata.min_samples_for(p)), (name, key, n)
                present += key in row
                absent += key not in row
    assert present and absent


def test_min_samples_for_rounds_as_the_harness_does():
    # 10 / (1 - p) in doubles lands a hair off the integer for these; the rule rounds it back.
    assert [ipcdata.min_samples_for(p) for p, _key in ipcdata.PERCENTILES] == \
        [20, 100, 1000, 10000, 100000]
    assert ipcdata.min_samples_for(0.99999) == 1000000
    assert ipcdata.min_samples_for(1.0) == 2**63
    assert ipcdata.max_percentile(1000) == pytest.approx(0.99)


def test_importing_ipcdata_does_not_import_matplotlib():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import ipcdata, tables; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'numpy', 'ipcstyle', 'figures')))")
    proc = subprocess.run([sys.executable, "-c", code, REPORTS], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
