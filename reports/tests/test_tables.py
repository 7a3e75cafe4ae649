"""tables.py: the Markdown and LaTeX cells equal the JSON values rounded to 3 significant
digits in the unit of the header; CSV carries them at full precision."""

import csv
import io
import math
import re

import pytest

import tables
from conftest import FIXTURE, SKIPPED, median_rows

SIZES = [64, 1024, 4096]
SCALES = {"ns": 1.0, "µs": 1e3, "ms": 1e6, "s": 1e9, "msg/s": 1.0, "k msg/s": 1e3,
          "M msg/s": 1e6, "B/s": 1.0, "kB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9}
LATEX_UNITS = {"ns": "ns", r"$\mu$s": "µs", "ms": "ms", "msg/s": "msg/s",
               "k msg/s": "k msg/s", "M msg/s": "M msg/s", "kB/s": "kB/s", "MB/s": "MB/s",
               "GB/s": "GB/s", "B/s": "B/s"}
WHAT = {"Round trip, median": ("pingpong", "real_time"),
        "Throughput, median": ("stream", "items_per_second"),
        "Bandwidth, median": ("stream", "bytes_per_second"),
        "Round trip, p99": ("pingpong", "p99_ns")}


def run(args, capsys):
    status = tables.main(args)
    out = capsys.readouterr()
    assert status == 0, out.err
    return out.out


def check_cell(text, value, scale):
    """`text` is `value` / scale rounded to 3 significant digits."""
    shown = value / scale
    digits = re.sub(r"^0\.0*|\.", "", text)
    assert len(digits) == 3 or (len(digits) > 3 and digits[3:].strip("0") == ""), text
    exp = math.floor(math.log10(abs(shown)))
    assert abs(float(text) - shown) <= 0.5 * 10 ** (exp - 2) * (1 + 1e-9), (text, shown)


def parse_markdown(text):
    """[(title, unit, header, rows)] of every table in tables.py's Markdown."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"\*\*(.+) \((.+)\)\*\* — ", lines[i])
        if m:
            header = [c.strip() for c in lines[i + 2].strip("|").split("|")]
            rows = []
            j = i + 4
            while j < len(lines) and lines[j].startswith("|"):
                rows.append([c.strip() for c in lines[j].strip("|").split("|")])
                j += 1
            out.append((m.group(1), m.group(2), header, rows))
            i = j
        else:
            i += 1
    return out


def test_markdown_cells_are_the_json_values(capsys):
    med = median_rows(FIXTURE)
    found = parse_markdown(run([FIXTURE], capsys))
    assert [t[0] for t in found] == ["Round trip, median", "Throughput, median",
                                     "Bandwidth, median"]
    checked = 0
    for title, unit, header, rows in found:
        workload, key = WHAT[title]
        assert header[0] == "Size (B)"
        assert [int(r[0]) for r in rows] == SIZES
        for col, name in enumerate(header[1:], 1):
            backend = name.rstrip("*†")
            for row in rows:
                value = med[f"{workload}/{backend}/size:{row[0]}"][key]
                check_cell(row[col], value, SCALES[unit])
                checked += 1
    assert checked == 3 * 5 * 3
    assert "thread-spsc*" in found[0][2] and "udp†" in found[0][2]


def test_latex_cells_are_the_json_values(capsys):
    med = median_rows(FIXTURE)
    text = run([FIXTURE, "--format", "latex", "--table", "latency,bandwidth"], capsys)
    blocks = text.split(r"\begin{tabular}")[1:]
    assert len(blocks) == 2
    for block, (workload, key) in zip(blocks, [("pingpong", "real_time"),
                                               ("stream", "bytes_per_second")]):
        assert r"\toprule" in block and r"\midrule" in block and r"\bottomrule" in block
        unit = re.search(r"\\multicolumn\{5\}\{c\}\{.+ \((.+)\)\} \\\\", block).group(1)
        body = block.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
        header = block.split(r"\cmidrule")[1].splitlines()[1].rstrip(" \\").split(" & ")
        assert header[0] == "Size (B)"
        for line in body:
            cells = line.rstrip(" \\").split(" & ")
            for name, cell in zip(header[1:], cells[1:]):
                backend = re.sub(r"\\textsuperscript\{.*\}", "", name)
                value = med[f"{workload}/{backend}/size:{cells[0]}"][key]
                check_cell(cell, value, SCALES[LATEX_UNITS[unit]])


def test_csv_is_full_precision_in_base_units(capsys):
    med = median_rows(FIXTURE)
    rows = list(csv.DictReader(io.StringIO(run([FIXTURE, "--format", "csv"], capsys))))
    assert len(rows) == 3 * 5 * 3
    key = {"latency": "real_time", "throughput": "items_per_second",
           "bandwidth": "bytes_per_second"}
    for r in rows:
        row = med[f"{r['workload']}/{r['series']}/size:{r['size_bytes']}"]
        assert float(r["value"]) == row[key[r["table"]]]
        assert r["unit"] == {"latency": "ns", "throughput": "msg/s", "bandwidth": "B/s"}[
            r["table"]]


def test_skipped_cases_and_missing_percentiles_are_marked(capsys):
    text = run([SKIPPED, "--table", "latency"], capsys)
    (title, unit, header, rows), = parse_markdown(text)
    cells = dict(zip(header, rows[0]))
    assert cells["posix-mq"] == "skipped" and cells["sysv-mq"] == "skipped"
    assert cells["Size (B)"] == "16384"
    med = median_rows(SKIPPED)
    check_cell(cells["pipe"], med["pingpong/pipe/size:16384"]["real_time"], SCALES[unit])
    assert "median of 1 repetition," in text


def test_p99_table_has_dashes_where_too_few_samples(capsys):
    med = median_rows(FIXTURE)
    (title, unit, header, rows), = parse_markdown(run([FIXTURE, "--table", "latency-p99"],
                                                      capsys))
    for row in rows:
        for name, cell in zip(header[1:], row[1:]):
            value = med[f"pingpong/{name.rstrip('*†')}/size:{row[0]}"].get("p99_ns")
            if value is None:
                assert cell == "—"
            else:
                check_cell(cell, value, SCALES[unit])


def test_tables_write_a_file(tmp_path, capsys):
    out = tmp_path / "t.tex"
    assert tables.main([FIXTURE, "--format", "latex", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8").count(r"\begin{tabular}") == 3


@pytest.mark.parametrize("value,text", [(0.25084, "0.251"), (43576.3, "43600"),
                                        (999.6, "1000"), (0.01301, "0.0130"), (25.5e6,
                                                                                "25500000")])
def test_sig(value, text):
    assert tables.sig(value) == text
