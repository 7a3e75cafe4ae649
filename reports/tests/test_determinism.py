"""A figure's bytes depend on the JSON alone: not on which other formats the same run writes,
nor on their order (issue 10, item 11: the layout used to be measured by whichever renderer
drew first, so `--format svg` and `--format pdf,svg,png` gave different SVG files)."""

import os

from conftest import SKIPPED, run_script

# The smallest real fixture (five figures); every format alone, all three, and all three in
# another order.
RUNS = ["svg", "png", "pdf", "pdf,svg,png", "png,svg,pdf"]


def test_each_format_is_the_same_whatever_else_is_written(tmp_path):
    files = {}  # file name -> {run: bytes}
    for i, formats in enumerate(RUNS):
        out = tmp_path / f"run{i}"
        proc = run_script("plot.py", SKIPPED, "-o", str(out), "--format", formats,
                          env={"PYTHONHASHSEED": str(i)})
        assert proc.returncode == 0, proc.stderr
        names = sorted(n for n in os.listdir(out) if n != "index.md")
        assert {n.rsplit(".", 1)[1] for n in names} == set(formats.split(",")), formats
        for n in names:
            with open(out / n, "rb") as fh:
                files.setdefault(n, {})[formats] = fh.read()
    for fmt in ("svg", "png", "pdf"):
        names = [n for n in files if n.endswith("." + fmt)]
        assert len(names) == 5, fmt
        for n in names:
            runs = files[n]
            assert sorted(runs) == sorted(r for r in RUNS if fmt in r.split(",")), n
            first = runs[fmt]  # the format alone
            different = [r for r, data in runs.items() if data != first]
            assert not different, f"{n}: differs from --format {fmt} in --format {different}"
