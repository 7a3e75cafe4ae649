#!/usr/bin/python3
"""Draws every figure an ipcperf result file supports.

  /usr/bin/python3 reports/plot.py RESULTS.json [MORE.json ...] [-o DIR] [--format pdf,svg,png]
      [--backends a,b] [--width single|double] [--figures throughput,latency,...]
      [--reference BACKEND] [--titles] [--dpi N]

Writes DIR/<figure>.<format> for each figure and DIR/index.md (each figure's files and a
suggested caption; figures carry no titles, captions belong to the paper). Without -o, DIR is
next to the first JSON: results/x.json -> results/x-charts/. Several files are overlaid in
every figure (distinct markers, legend naming each file's host and revision).

A figure without data is skipped with a note on stderr. Exit status: 0 when figures were
written, 1 for unusable data (missing file, not ipcperf JSON, no rows for a figure asked for
with --figures or a backend asked for with --backends, nothing to draw), 2 for a bad command
line. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ipcdata  # noqa: E402
from ipcdata import DataError, UsageError  # noqa: E402

PROG = "plot.py"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def error(self, message):
        raise UsageError(message)


def split_list(text, allowed=None, what="value"):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise UsageError(f"empty {what} list")
    if allowed is not None:
        bad = [t for t in items if t not in allowed]
        if bad:
            raise UsageError(f"unknown {what} '{bad[0]}' (allowed: {', '.join(allowed)})")
    return items


def default_dir(path: str, suffix: str) -> str:
    stem = path[:-5] if path.endswith(".json") else path
    return f"{stem}-{suffix}"


def parse_args(argv):
    import ipcstyle
    from figures import FAMILIES
    p = Parser(prog=PROG, description="Draw the charts of ipcperf result files.",
               epilog="Figures: " + ", ".join(FAMILIES))
    p.add_argument("results", nargs="+", metavar="RESULTS.json")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default: next to the first JSON, NAME-charts/)")
    p.add_argument("--format", default="pdf,svg,png",
                   help="comma-separated formats: pdf, svg, png (default: all three)")
    p.add_argument("--backends", help="only these backends (comma-separated)")
    p.add_argument("--width", default="single", choices=list(ipcstyle.WIDTHS),
                   help="single: 3.3-inch column (default); double: 7-inch page")
    p.add_argument("--figures", help="only these figure families (comma-separated); one "
                                     "without data is then an error")
    p.add_argument("--reference", default=None,
                   help="backend the speedup figures compare with (default: the first "
                        "kernel backend of the registry that was measured)")
    p.add_argument("--titles", action="store_true",
                   help="put a title on each figure (for slides; papers use captions)")
    p.add_argument("--dpi", type=int, default=200, help="PNG resolution (default 200)")
    args = p.parse_args(argv)
    args.formats = split_list(args.format, ipcstyle.FORMATS, "format")
    args.backend_list = split_list(args.backends, None, "backend") if args.backends else None
    args.family_list = split_list(args.figures, FAMILIES, "figure family") \
        if args.figures else None
    if args.dpi < 20 or args.dpi > 1200:
        raise UsageError(f"--dpi {args.dpi}: expected 20..1200")
    return args


def run(argv) -> int:
    args = parse_args(argv)
    import figures as F
    import ipcstyle

    results = ipcdata.load_all(args.results)
    F.filter_backends(results, args.backend_list)
    opts = F.Options(width=args.width, titles=args.titles, backends=args.backend_list,
                     reference=args.reference,
                     reference_given=args.reference is not None)
    figs, notes = F.build(results, opts, args.family_list)
    for name, reason in notes:
        print(f"{PROG}: note: skipped {name}: {reason}", file=sys.stderr)
    if not figs:
        raise DataError("nothing to draw: " + "; ".join(r for _n, r in notes))
    out = args.out or default_dir(args.results[0], "charts")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise DataError(f"{out}: cannot create the output directory: {e.strerror}") from None
    index = ["# ipcperf charts", "",
             "Files: " + "; ".join(f"{r.tag} = `{os.path.basename(r.path)}` ({r.label})"
                                   for r in results), ""]
    written = 0
    for f in figs:
        try:
            paths = ipcstyle.save(f.fig, os.path.join(out, f.name), args.formats, args.dpi)
        except OSError as e:
            raise DataError(f"{out}: cannot write {f.name}: {e.strerror}") from None
        written += len(paths)
        index += [f"## {f.name}", "", " ".join(f"[{os.path.basename(p).rsplit('.', 1)[1]}]"
                                                f"({os.path.basename(p)})" for p in paths), "",
                  f.caption, ""]
    if notes:
        index += ["## Not drawn", ""] + [f"- {n}: {r}" for n, r in notes] + [""]
    with open(os.path.join(out, "index.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(index))
    print(f"{PROG}: wrote {len(figs)} figures ({written} files) to {out}/ "
          f"(captions in {os.path.join(out, 'index.md')})")
    return 0


def main(argv=None) -> int:
    return ipcdata.cli_main(PROG, run, argv)


if __name__ == "__main__":
    sys.exit(main())
