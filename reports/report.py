#!/usr/bin/python3
"""A one-page report of an ipcperf result file: Markdown, and the same as one self-contained
HTML file (figures embedded as PNG).

  /usr/bin/python3 reports/report.py RESULTS.json [-o DIR] [--backends a,b]
      [--reference BACKEND] [--width single|double]

Writes DIR/report.md (with the figures as DIR/*.png next to it) and DIR/report.html (nothing
outside it needed). Without -o, DIR is next to the JSON: results/x.json -> results/x-report/.
The page has the headline numbers, the run's warnings and the cases that failed or were
skipped, the main figures with captions, the OSU-style tables, and the environment (CPU,
kernel, pinning, governor, build, revision) as a footnote. Exit status: 0, 1 for unusable data,
2 for a bad command line; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import sys
from dataclasses import dataclass

os.environ.setdefault("MPLBACKEND", "Agg")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ipcdata  # noqa: E402
from ipcdata import DataError, UsageError  # noqa: E402

PROG = "report.py"
# Which figures make the page, in order: the first figure of each family that has one.
PAGE = (("latency", "latency-median"), ("throughput", "throughput-msgs"),
        ("spectrum", None), ("cpu", None), ("speedup", "speedup-pingpong"), ("paced", None),
        ("farm", None))
CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 60em;
       margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.45em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(22em, 1fr)); gap: 1em; }
figure { margin: 0; } figure img { width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #444; }
table { border-collapse: collapse; margin: 0.4em 0 0.2em; font-size: 0.9em; }
th, td { padding: 0.15em 0.7em; text-align: right; }
thead th { border-bottom: 1px solid #222; } table { border-top: 2px solid #222;
  border-bottom: 2px solid #222; }
.tablecap { font-size: 0.9em; margin-top: 1em; } .notes { font-size: 0.8em; color: #555; }
.warn { color: #8a4b00; } footer { font-size: 0.8em; color: #555; border-top: 1px solid #ccc;
  margin-top: 2em; padding-top: 0.5em; } code { font-size: 0.9em; }
"""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def headline(result) -> list:
    """A few sentences with the numbers a reader looks for first."""
    import ipcstyle as S
    lines = []
    pp = [c for c in result.select("pingpong") if c.median("real_time")]
    if pp:
        size = min(c.size for c in pp)
        at = [c for c in pp if c.size == size]
        cross = [c for c in at if not c.in_process] or at
        best = min(cross, key=lambda c: c.median("real_time"))
        worst = max(cross, key=lambda c: c.median("real_time"))
        text = (f"Fastest round trip at {S.fmt_size_long(size)} between processes: "
                f"**{best.series}**, {S.fmt_time(best.median('real_time'))} (median)")
        if worst is not best:
            ratio = worst.median("real_time") / best.median("real_time")
            text += (f"; slowest **{worst.series}**, {S.fmt_time(worst.median('real_time'))}, "
                     f"{S.short(ratio)}× slower")
        lines.append(text + ".")
        floor = next((c for c in result.select("floor-cacheline") if c.median("real_time")),
                     None)
        if floor:
            t_floor = floor.median("real_time")
            lines.append(f"Hardware floor: one cache line bounced between the two CPUs takes "
                         f"{S.fmt_time(t_floor)} per round trip (**{best.series}** is "
                         f"{S.short(best.median('real_time') / t_floor)}× that).")
    st = [c for c in result.select("stream") if c.median("items_per_second")]
    if st:
        size = min(c.size for c in st)
        at = [c for c in st if c.size == size and not c.in_process] or \
             [c for c in st if c.size == size]
        best = max(at, key=lambda c: c.median("items_per_second"))
        lines.append(f"Highest stream rate at {S.fmt_size_long(size)} between processes: "
                     f"**{best.series}**, {S.fmt_si(best.median('items_per_second'))} msg/s.")
    return lines


def problems(result) -> list:
    out = []
    for c in result.cases:
        if c.status in ("skipped", "failed", "partial"):
            msg = c.errors[0] if c.errors else c.status
            if c.status == "partial":
                msg = f"{len(c.errors)} of {len(c.errors) + c.reps} repetitions failed: {msg}"
            out.append(f"`{c.run_name}`: {msg}")
    return out


def parse_args(argv):
    import ipcstyle
    p = Parser(prog=PROG, description="One-page report (Markdown and HTML) of an ipcperf "
                                      "result file.")
    p.add_argument("results", metavar="RESULTS.json")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="output directory (default: next to the JSON, NAME-report/)")
    p.add_argument("--backends", help="only these backends (comma-separated)")
    p.add_argument("--reference", default=None,
                   help="speedup reference backend (default: the first kernel backend of the "
                        "registry that was measured)")
    p.add_argument("--width", default="single", choices=list(ipcstyle.WIDTHS),
                   help="figure width (default single: 3.3 in)")
    args = p.parse_args(argv)
    args.backend_list = None
    if args.backends is not None:
        args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
        if not args.backend_list:
            raise UsageError("empty backend list")
    return args


@dataclass
class Page:
    """What the report shows, once for Markdown and once for HTML."""

    source: str  # the JSON's path as given
    title: str
    heads: list
    warnings: list
    issues: list
    figures: list
    tables: list
    skipped: list
    env: list


def run(argv) -> int:
    args = parse_args(argv)
    import figures as F
    import ipcstyle
    import tables as T

    results = ipcdata.load_all([args.results])
    result = results[0]
    F.filter_backends(results, args.backend_list)
    opts = F.Options(width=args.width, backends=args.backend_list, reference=args.reference,
                     reference_given=args.reference is not None)
    figs, notes = F.build(results, opts)
    page = []
    for family, name in PAGE:
        chosen = [f for f in figs if f.family == family and (name is None or f.name == name)]
        if chosen:
            page.append(chosen[0])
    tabs, tab_notes = T.build_tables(result, T.DEFAULT_TABLES)
    if not page and not tabs:
        raise DataError(f"{args.results}: nothing to report: "
                        + "; ".join(r for _n, r in notes + tab_notes))

    out = args.out or (args.results[:-5] if args.results.endswith(".json")
                       else args.results) + "-report"
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise DataError(f"{out}: cannot create the output directory: {e.strerror}") from None
    pngs = {}
    for f in page:
        path = ipcstyle.save(f.fig, os.path.join(out, f.name), ["png"], dpi=200)[0]
        with open(path, "rb") as fh:
            pngs[f.name] = fh.read()

    ctx = result.context
    content = Page(source=args.results,
                   title=f"ipcperf results: {result.host}, {ctx.get('date', 'date not recorded')}",
                   heads=headline(result), warnings=result.warnings, issues=problems(result),
                   figures=page, tables=tabs, skipped=[f"{n}: {r}" for n, r in notes + tab_notes],
                   env=ipcdata.environment(ctx))
    md_path = os.path.join(out, "report.md")
    html_path = os.path.join(out, "report.html")
    try:
        with open(md_path, "w", encoding="utf-8") as fh:
            fh.write(markdown_page(content) + "\n")
        with open(html_path, "w", encoding="utf-8") as fh:
            fh.write(html_page(content, pngs) + "\n")
    except OSError as e:
        raise DataError(f"{out}: cannot write the report: {e.strerror}") from None
    print(f"{PROG}: wrote {md_path} and {html_path} ({len(page)} figures, {len(tabs)} tables)")
    return 0


def markdown_page(c: Page) -> str:
    import tables as T

    md = [f"# {c.title}[^env]", ""]
    md += [f"- {h}" for h in c.heads] + ([""] if c.heads else [])
    if c.warnings or c.issues:
        md += ["## Warnings", ""]
        md += [f"- {w}" for w in c.warnings] + [f"- {i}" for i in c.issues] + [""]
    if c.figures:
        md += ["## Figures", ""]
        for i, f in enumerate(c.figures, 1):
            md += [f"![{f.name}]({f.name}.png)", "", f"*Figure {i}.* {f.caption}", ""]
    if c.tables:
        md += ["## Tables", ""]
        for t in c.tables:
            md += [T.markdown(t)]
    if c.skipped:
        md += ["## Not shown", ""] + [f"- {s}" for s in c.skipped] + [""]
    md += [f"All figures: `/usr/bin/python3 reports/plot.py {c.source}`; tables in LaTeX: "
           f"`/usr/bin/python3 reports/tables.py {c.source} --format latex`.", ""]
    md += ["[^env]: " + "; ".join(f"{k}: {v}" for k, v in c.env) + "."]
    return "\n".join(md)


def html_page(c: Page, pngs: dict) -> str:
    esc = html.escape
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         f"<title>{esc(c.title)}</title>", f"<style>{CSS}</style></head><body>",
         f'<h1>{esc(c.title)}<sup><a href="#env">1</a></sup></h1>']
    if c.heads:
        h.append("<ul>" + "".join(f"<li>{md_inline(x)}</li>" for x in c.heads) + "</ul>")
    if c.warnings or c.issues:
        h.append("<h2>Warnings</h2><ul class=\"warn\">"
                 + "".join(f"<li>{esc(w)}</li>" for w in c.warnings)
                 + "".join(f"<li>{md_inline(i)}</li>" for i in c.issues) + "</ul>")
    if c.figures:
        h.append('<h2>Figures</h2><div class="figs">')
        for i, f in enumerate(c.figures, 1):
            data = base64.b64encode(pngs[f.name]).decode("ascii")
            h.append(f'<figure><img alt="{esc(f.name)}" src="data:image/png;base64,{data}">'
                     f"<figcaption><b>Figure {i}.</b> {esc(f.caption)}</figcaption></figure>")
        h.append("</div>")
    if c.tables:
        h.append("<h2>Tables</h2>")
        for t in c.tables:
            h.append(html_table(t))
    if c.skipped:
        h.append("<h2>Not shown</h2><ul>" + "".join(f"<li>{esc(s)}</li>" for s in c.skipped)
                 + "</ul>")
    h.append('<footer id="env"><sup>1</sup> '
             + "; ".join(f"<b>{esc(k)}</b>: {esc(str(v))}" for k, v in c.env) + ".</footer>")
    h.append("</body></html>")
    return "\n".join(h)


def md_inline(text: str) -> str:
    """The little Markdown the headline and problem lines use (**bold**, `code`) as HTML."""
    out, bold, code = [], False, False
    i = 0
    while i < len(text):
        if text.startswith("**", i) and not code:
            out.append("</b>" if bold else "<b>")
            bold = not bold
            i += 2
        elif text[i] == "`":
            out.append("</code>" if code else "<code>")
            code = not code
            i += 1
        else:
            out.append(html.escape(text[i]))
            i += 1
    return "".join(out)


def html_table(t) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c.series + c.marks)}</th>" for c in t.columns)
    rows = "".join(
        f"<tr><td>{size}</td>" + "".join(f"<td>{esc(t.text(size, c.series))}</td>"
                                         for c in t.columns) + "</tr>"
        for size in t.sizes)
    notes = t.notes()
    return (f'<p class="tablecap"><b>{esc(t.title)} ({esc(t.unit)})</b> — {esc(t.caption)}</p>'
            f"<table><thead><tr><th>Size (B)</th>{head}</tr></thead><tbody>{rows}</tbody>"
            f"</table>" + (f'<p class="notes">{esc("; ".join(notes))}</p>' if notes else ""))


def main(argv=None) -> int:
    return ipcdata.cli_main(PROG, run, argv)


if __name__ == "__main__":
    sys.exit(main())
