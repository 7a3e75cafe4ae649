#!/usr/bin/python3
"""OSU-style tables of an ipcperf result file: message size down, backend across.

  /usr/bin/python3 reports/tables.py RESULTS.json [--format md|latex|csv]
      [--table latency,throughput,bandwidth,latency-p99] [--backends a,b] [-o FILE]

Tables (default: latency, throughput, bandwidth):
  latency      pingpong round trip, median over repetitions
  latency-p99  pingpong round trip, 99th percentile of the sampled round trips
  throughput   stream messages per second at the receiver, median
  bandwidth    stream payload bytes per second at the receiver, median (MB = 10^6 bytes)

Markdown and LaTeX (booktabs) cells are the medians in the unit named in the header, rounded to
3 significant digits; "—" means not measured at that size, "skipped"/"failed" are cases the run
could not do. CSV is one line per cell with the value in base units (ns, msg/s, B/s) at full
precision. Exit status: 0, 1 for unusable data, 2 for a bad command line; errors are one line.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
from dataclasses import dataclass, field

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ipcdata  # noqa: E402
from ipcdata import DataError, UsageError, sig  # noqa: E402

PROG = "tables.py"
DIGITS = 3
TABLES = ("latency", "throughput", "bandwidth", "latency-p99")
DEFAULT_TABLES = ("latency", "throughput", "bandwidth")

# name -> (workload, title, base unit, [(scale, unit text, LaTeX unit)], value function)
TIME_UNITS = [(1.0, "ns", "ns"), (1e3, "µs", r"$\mu$s"), (1e6, "ms", "ms"), (1e9, "s", "s")]
RATE_UNITS = [(1.0, "msg/s", "msg/s"), (1e3, "k msg/s", "k msg/s"), (1e6, "M msg/s", "M msg/s")]
BYTE_UNITS = [(1.0, "B/s", "B/s"), (1e3, "kB/s", "kB/s"), (1e6, "MB/s", "MB/s"),
              (1e9, "GB/s", "GB/s")]
SPEC = {
    "latency": ("pingpong", "Round trip, median", "ns", TIME_UNITS,
                lambda c: c.median("real_time")),
    "latency-p99": ("pingpong", "Round trip, p99", "ns", TIME_UNITS,
                    lambda c: c.percentile("p99_ns")),
    "throughput": ("stream", "Throughput, median", "msg/s", RATE_UNITS,
                   lambda c: c.median("items_per_second")),
    "bandwidth": ("stream", "Bandwidth, median", "B/s", BYTE_UNITS,
                  lambda c: c.median("bytes_per_second")),
}


@dataclass
class Column:
    series: str
    backend: str
    in_process: bool = False
    lossy: bool = False

    @property
    def marks(self) -> str:
        return ("*" if self.in_process else "") + ("†" if self.lossy else "")


@dataclass
class Cell:
    value: float | None  # base unit
    status: str  # ok, partial, skipped, failed, missing, no-value
    reps: int = 0


@dataclass
class Table:
    name: str
    workload: str
    title: str
    base_unit: str
    scale: float
    unit: str
    latex_unit: str
    sizes: list
    columns: list
    cells: dict  # (size, series) -> Cell
    reps: list = field(default_factory=list)

    def text(self, size, series, dash="—") -> str:
        cell = self.cells.get((size, series))
        if cell is None or cell.status == "missing":
            return dash
        if cell.status in ("skipped", "failed"):
            return cell.status
        if cell.value is None:
            return dash
        return sig(cell.value / self.scale, DIGITS) + ("§" if cell.status == "partial" else "")

    @property
    def caption(self) -> str:
        reps = sorted(set(self.reps))
        r = (f"{reps[0]}" if len(reps) == 1 else f"{reps[0]}–{reps[-1]}") if reps else "?"
        what = ("sampled round trips, merged over" if self.name == "latency-p99"
                else "median of")
        plural = "" if r == "1" else "s"
        return f"{self.workload}, {what} {r} repetition{plural}, {DIGITS} significant digits"

    def notes(self) -> list:
        out = []
        if any(c.in_process for c in self.columns):
            out.append("* in-process reference (two threads of one process)")
        if any(c.lossy for c in self.columns):
            out.append("† lossy transport: rates count delivered messages only")
        if any(c.status == "partial" for c in self.cells.values()):
            out.append("§ some repetitions failed; the value is over those that passed")
        if self.workload == "pingpong":
            out.append("round trip: one-way latency ≈ half")
        return out


def pick_unit(values, units):
    """The largest unit in which the table's geometric mean is at least 1."""
    values = [v for v in values if v and v > 0]
    if not values:
        return units[0]
    gmean = math.exp(sum(math.log(v) for v in values) / len(values))
    best = units[0]
    for u in units:
        if gmean / u[0] >= 1.0:
            best = u
    return best


def build_table(result, name) -> Table | None:
    workload, title, base, units, value = SPEC[name]
    cases = [c for c in result.cases if c.workload == workload and c.size is not None]
    if not cases:
        return None
    columns: dict = {}
    for c in cases:
        col = columns.setdefault(c.series, Column(c.series, c.backend))
        col.in_process |= c.in_process
        col.lossy |= c.lossy
    order = sorted(columns.values(), key=lambda col: (result.registry.rank(col.backend),
                                                      col.series))
    cells, values, reps = {}, [], []
    for c in cases:
        status = c.status
        v = value(c) if c.ok else None
        if c.ok and v is None:
            status = "no-value"
        cells[(c.size, c.series)] = Cell(v, status, c.reps)
        if v is not None:
            values.append(v)
            reps.append(c.reps)
    if not values and not any(cell.status in ("skipped", "failed") for cell in cells.values()):
        return None
    scale, unit, latex_unit = pick_unit(values, units)
    sizes = sorted({c.size for c in cases})
    return Table(name, workload, title, base, scale, unit, latex_unit, sizes, order, cells, reps)


def build_tables(result, names):
    tables, notes = [], []
    for name in names:
        t = build_table(result, name)
        if t is None:
            workload = SPEC[name][0]
            notes.append((name, f"no {workload} rows with a value"
                          + (f" (p99 needs {ipcdata.min_samples_for(0.99)} sampled round trips)"
                             if name == "latency-p99" else "")))
        else:
            tables.append(t)
    return tables, notes


# --- formats -------------------------------------------------------------------------------


def markdown(t: Table) -> str:
    head = ["Size (B)"] + [c.series + c.marks for c in t.columns]
    lines = [f"**{t.title} ({t.unit})** — {t.caption}", "",
             "| " + " | ".join(head) + " |",
             "|" + "|".join(["---:"] * len(head)) + "|"]
    for size in t.sizes:
        cells = [str(size)] + [t.text(size, c.series) for c in t.columns]
        lines.append("| " + " | ".join(cells) + " |")
    notes = t.notes()
    if notes:
        lines += [""] + ["<sub>" + "; ".join(notes) + "</sub>"]
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        elif ch == "^":
            out.append(r"\textasciicircum{}")
        elif ch == "\\":
            out.append(r"\textbackslash{}")
        elif ch == "*":
            out.append(r"\textsuperscript{*}")
        elif ch == "†":
            out.append(r"\textsuperscript{\dag}")
        elif ch == "§":
            out.append(r"\textsuperscript{\S}")
        elif ch == "—":
            out.append("---")
        elif ch == "–":
            out.append("--")
        elif ch == "≈":
            out.append(r"$\approx$")
        elif ch == "µ":
            out.append(r"$\mu$")
        else:
            out.append(ch)
    return "".join(out)


def latex(t: Table) -> str:
    n = len(t.columns)
    lines = [f"% ipcperf: {t.title.lower()} ({t.unit}); {t.caption}",
             "% needs \\usepackage{booktabs}",
             r"\begin{tabular}{r" + "r" * n + "}",
             r"\toprule",
             f" & \\multicolumn{{{n}}}{{c}}{{{latex_escape(t.title)} ({t.latex_unit})}} \\\\",
             f"\\cmidrule(l){{2-{n + 1}}}",
             "Size (B) & " + " & ".join(latex_escape(c.series + c.marks) for c in t.columns)
             + r" \\",
             r"\midrule"]
    for size in t.sizes:
        cells = [str(size)] + [latex_escape(t.text(size, c.series, dash="—"))
                               for c in t.columns]
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\bottomrule")
    for note in t.notes():
        lines.append(f"\\multicolumn{{{n + 1}}}{{l}}{{\\footnotesize {latex_escape(note)}}} \\\\")
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


CSV_HEADER = ["table", "workload", "series", "backend", "size_bytes", "value", "unit", "status",
              "repetitions", "in_process", "lossy"]


def csv_rows(t: Table):
    for size in t.sizes:
        for c in t.columns:
            cell = t.cells.get((size, c.series))
            if cell is None:
                continue
            yield [t.name, t.workload, c.series, c.backend, size,
                   "" if cell.value is None else repr(float(cell.value)), t.base_unit,
                   cell.status, cell.reps, int(c.in_process), int(c.lossy)]


def render(tables, fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_HEADER)
        for t in tables:
            w.writerows(csv_rows(t))
        return buf.getvalue()
    parts = [markdown(t) if fmt == "md" else latex(t) for t in tables]
    return "\n".join(parts)


# --- command line --------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def split_list(text, allowed, what):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"empty {what} list")
    bad = [t for t in items if allowed is not None and t not in allowed]
    if bad:
        raise UsageError(f"unknown {what} '{bad[0]}' (allowed: {', '.join(allowed)})")
    return items


def run(argv) -> int:
    p = Parser(prog=PROG, description="OSU-style tables of an ipcperf result file.")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("--format", default="md", choices=["md", "latex", "csv"],
                   help="md (default), latex (booktabs), csv (one line per cell)")
    p.add_argument("--table", default=",".join(DEFAULT_TABLES),
                   help=f"comma-separated, from {', '.join(TABLES)} "
                        f"(default: {','.join(DEFAULT_TABLES)})")
    p.add_argument("--backends", help="only these backends (comma-separated)")
    p.add_argument("-o", "--out", metavar="FILE", help="write here instead of stdout")
    args = p.parse_args(argv)
    names = split_list(args.table, TABLES, "table")
    asked = args.table != ",".join(DEFAULT_TABLES)
    result = ipcdata.load(args.results)
    if args.backends:
        wanted = split_list(args.backends, None, "backend")
        present = {c.backend for c in result.cases}
        missing = [b for b in wanted if b not in present]
        if missing:
            raise DataError(f"no rows for backend '{missing[0]}' in {args.results}")
        result.cases = [c for c in result.cases if c.backend in wanted]
    tables, notes = build_tables(result, names)
    for name, reason in notes:
        if asked:
            raise DataError(f"no data for the {name} table: {reason}")
        print(f"{PROG}: note: skipped {name}: {reason}", file=sys.stderr)
    if not tables:
        raise DataError(f"{args.results}: nothing to tabulate: "
                        + "; ".join(r for _n, r in notes))
    text = render(tables, args.format)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as e:
            raise DataError(f"{args.out}: cannot write: {e.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def main(argv=None) -> int:
    return ipcdata.cli_main(PROG, run, argv, needs_matplotlib=False)


if __name__ == "__main__":
    sys.exit(main())
