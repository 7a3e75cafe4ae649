"""One look for every ipcperf chart: colours, markers, sizes, fonts, number formats, saving.

Every figure script imports this module and nothing else decides how a chart looks, so a
backend has the same colour and marker in every figure, and a figure drawn twice from the same
JSON is byte-identical (SVG, PDF; PNG too).

- Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies), picked by
  the backend's position in the registry the result files carry (`context.backends`), so a
  backend keeps its colour and marker across files of one registry and a new backend gets one
  without an edit here. Past eight backends the colours repeat with other markers and, for lines,
  a dash-dot pattern. In-process references are dashed, the hardware floor grey and dotted.
- Sizes: a 3.3-inch column ("single") and a 7-inch page ("double"), fonts 8 and 9 pt.
- No titles: captions belong to the paper; plot.py --titles adds them for slides.
- PDF: TrueType fonts embedded (pdf.fonttype 42), no creation date; SVG: fixed hash salt, no
  date; PNG: no time chunk. One layout for all formats (save: measured once on Agg, then
  frozen). So the same input gives the same bytes, whichever other formats a run writes.
"""

from __future__ import annotations

import math
import os

import matplotlib

if not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

from matplotlib import ticker  # noqa: E402  (after the backend choice)
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402

from ipcdata import sig  # noqa: E402  (the one rounding rule of figures and tables)

# --- colours and markers -------------------------------------------------------------------

# Okabe & Ito (2008), "Color Universal Design": eight colours that stay apart for the common
# colour-vision deficiencies, ordered so that neighbours in the registry contrast (yellow, the
# faintest on white, last). Hex strings, so that the SVG/PDF bytes do not depend on how RGB
# floats print.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
# One marker per registry position. Eleven, a count prime to the eight colours: the two
# backends that share a colour (eight positions apart) never share a marker.
MARKERS = ("o", "s", "^", "D", "v", "<", ">", "p", "h", "X", "P")
FLOOR_COLOUR = "#9A9A9A"
# Marker per result file when several files are overlaid (the colour stays the backend's).
FILE_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
# Hatch per result file in bar charts.
FILE_HATCHES = ["", "////", "....", "xxxx", "\\\\\\\\", "oo"]
IN_PROCESS_DASHES = (0, (4, 1.6))
FLOOR_DOTS = (0, (1, 1.4))
# Lines of the second round of colours (positions 8 and on) that are not in-process: dash-dot,
# so that they stay apart from the first round's solid lines when several files put the file's
# marker in place of the backend's.
SECOND_ROUND_DASHES = (0, (5, 1.4, 1.2, 1.4))


def colour_at(position: int | None) -> str:
    """The colour of the backend at this registry position (ipcdata.Registry.position); a
    floor (None) is grey."""
    if position is None:
        return FLOOR_COLOUR
    return PALETTE[position % len(PALETTE)]


def marker_at(position: int | None) -> str:
    return MARKERS[(position or 0) % len(MARKERS)]


def hatch_edge(colour: str) -> str:
    """Colour for the hatching of a bar of `colour`: white on dark bars, black on light ones."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.35 else "black"


def line_style(position: int | None, in_process: bool, file_index: int, multi: bool,
               floor: bool = False) -> dict:
    """Keyword arguments for Axes.plot for one series: the colour and marker of the backend's
    registry position, dashed when in-process, grey and dotted for a floor; with several files
    the file's marker (hollow for every second file) instead of the backend's."""
    if floor:
        style = {"color": FLOOR_COLOUR, "linestyle": FLOOR_DOTS, "marker": None}
    else:
        second_round = (position or 0) >= len(PALETTE)
        style = {
            "color": colour_at(position),
            "linestyle": IN_PROCESS_DASHES if in_process
            else SECOND_ROUND_DASHES if second_round else "-",
            "marker": marker_at(position),
        }
    if multi:
        style["marker"] = FILE_MARKERS[file_index % len(FILE_MARKERS)]
        # The second file's markers are hollow, so that overlaid points stay apart.
        if file_index % 2 == 1:
            style["markerfacecolor"] = "white"
    return style


# --- sizes and fonts -----------------------------------------------------------------------

WIDTHS = {"single": 3.3, "double": 7.0}
FONT_PT = {"single": 8.0, "double": 9.0}
# Height of the plotting area of one panel, inches.
PANEL_HEIGHT = {"single": 2.1, "double": 2.9}


def apply(width: str = "single") -> None:
    """Sets matplotlib's rcParams for a figure of the given width; call before drawing."""
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {', '.join(WIDTHS)}")
    size = FONT_PT[width]
    matplotlib.rcParams.update(matplotlib.rcParamsDefault)
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": size,
        "axes.labelsize": size,
        "axes.titlesize": size,
        "xtick.labelsize": size - 1,
        "ytick.labelsize": size - 1,
        "legend.fontsize": size - 1,
        "legend.frameon": False,
        "legend.handlelength": 2.4,
        "legend.columnspacing": 1.2,
        "legend.borderaxespad": 0.2,
        "lines.linewidth": 1.1,
        "lines.markersize": 3.6,
        "errorbar.capsize": 1.8,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.which": "major",
        "grid.linewidth": 0.4,
        "grid.color": "#D9D9D9",
        "axes.axisbelow": True,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.minor.width": 0.4,
        "ytick.minor.width": 0.4,
        "hatch.linewidth": 0.6,
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "figure.constrained_layout.use": True,
        "figure.constrained_layout.h_pad": 0.02,
        "figure.constrained_layout.w_pad": 0.02,
        # Determinism and embeddable output.
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "ipcperf",
        "path.simplify": True,
    })


def _figure(figsize):
    """A figure outside pyplot's registry (nothing to close; a report with many figures does
    not pile them up), on the Agg canvas so that legends can be measured before saving."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def new_figure(width: str, ncols: int = 1, legend: str | None = "top",
               panel_height: float | None = None, sharey: bool = False, width_ratios=None):
    """A figure with `ncols` panels side by side and a strip of its own for the legend, so that
    the legend never covers data: above the panels ("top", the default; the figure keeps its
    width and grows in height) or, for the 7-inch page, right of them ("right").
    legend() sizes the strip to the legend it draws. Returns (fig, [axes...], legend_axes)."""
    w = WIDTHS[width]
    h = panel_height if panel_height is not None else PANEL_HEIGHT[width]
    ratios = list(width_ratios) if width_ratios else [1.0] * ncols
    if legend == "right":
        fig = _figure(figsize=(w, h))
        panel_w = w - 1.5
        gs = fig.add_gridspec(1, ncols + 1,
                              width_ratios=[r / sum(ratios) * panel_w for r in ratios] + [1.5])
        cells = [gs[0, i] for i in range(ncols)]
        lax = fig.add_subplot(gs[0, ncols])
    elif legend == "top":
        fig = _figure(figsize=(w, h + 0.3))
        gs = fig.add_gridspec(2, ncols, height_ratios=[0.3, h], width_ratios=ratios)
        cells = [gs[1, i] for i in range(ncols)]
        lax = fig.add_subplot(gs[0, :])
    else:
        fig = _figure(figsize=(w, h))
        gs = fig.add_gridspec(1, ncols, width_ratios=ratios)
        cells = [gs[0, i] for i in range(ncols)]
        lax = None
    axes = []
    for cell in cells:
        share = axes[0] if (sharey and axes) else None
        axes.append(fig.add_subplot(cell, sharey=share))
    if lax is not None:
        lax.set_axis_off()
        lax.ipc_layout = (legend, gs, w, h, ratios)
    return fig, axes, lax


GROUP_BREAK = "|"  # in a handles/labels list: starts a new block of the legend


def _groups(handles, labels):
    groups, cur_h, cur_l = [], [], []
    for h, t in zip(handles, labels):
        if h is GROUP_BREAK:
            if cur_h:
                groups.append((cur_h, cur_l))
            cur_h, cur_l = [], []
        else:
            cur_h.append(h)
            cur_l.append(t)
    if cur_h:
        groups.append((cur_h, cur_l))
    return groups


def legend(lax, handles, labels, width: str):
    """Draws the legend into its strip (see new_figure), then sizes the strip to it. A
    GROUP_BREAK entry in handles starts a block of its own (the result files, under the
    backends), each block with as many columns as fit the figure's width (measured, not
    guessed). Returns the Legend artists."""
    from matplotlib.legend import Legend

    if lax is None:
        return []
    fig = lax.figure
    where, gs, w, h, ratios = lax.ipc_layout
    groups = _groups(handles, labels)
    if not groups:
        lax.remove()
        if where == "top":
            gs.set_height_ratios([1e-6, h])
        return []
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi
    built = []
    for hs, ls in groups:
        if where == "right":
            leg = Legend(lax, hs, ls, loc="upper left", ncol=1, borderaxespad=0.0)
        else:
            leg = None
            for ncol in range(min(len(ls), 5), 0, -1):
                leg = Legend(lax, hs, ls, loc="upper center", ncol=ncol, borderaxespad=0.0)
                if leg.get_window_extent(renderer).width / dpi <= w * 0.97:
                    break
        bbox = leg.get_window_extent(renderer)
        built.append((leg, bbox.width / dpi, bbox.height / dpi))
    gap = FONT_PT[width] / 72.0 * 0.5
    from matplotlib.transforms import blended_transform_factory, offset_copy
    if where == "right":
        # Slack for the layout's padding around the strip.
        leg_w = min(max(b[1] for b in built) + 0.3, w * 0.45)
        panel_w = w - leg_w
        gs.set_width_ratios([r / sum(ratios) * panel_w for r in ratios] + [leg_w])
        # Left-aligned blocks whose widest one ends at the figure's right edge: the layout's
        # spacing between columns may leave the strip itself a little narrower.
        base = blended_transform_factory(fig.transFigure, lax.transAxes)
        x = 1.0 - (max(b[1] for b in built) + 0.05) / w
    else:
        total = sum(b[2] for b in built) + gap * (len(built) - 1) + 0.04
        fig.set_size_inches(w, h + total)
        gs.set_height_ratios([total, h])
        # Centred on the figure, not on the strip: constrained layout lines the strip up with
        # the panels, which start right of the y labels.
        base, x = blended_transform_factory(fig.transFigure, lax.transAxes), 0.5
    # Blocks one under the other, offset in inches from the top of the strip.
    top = 0.0
    for leg, _w, lh in built:
        leg.set_bbox_to_anchor((x, 1.0), transform=offset_copy(base, fig, y=-top,
                                                                units="inches"))
        lax.add_artist(leg)
        # add_artist clips to the strip; a block may reach past it into the empty margin.
        leg.set_clip_on(False)
        top += lh + gap
    return [b[0] for b in built]


# --- number formats ------------------------------------------------------------------------

_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
_TIME = [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")]


def short(value: float) -> str:
    """Tick text: at most 3 significant digits, no trailing zeros."""
    text = sig(value, 3)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_time(ns: float) -> str:
    """Nanoseconds as text with a human unit: 250 ns, 1.5 µs, 10 µs, 2 ms."""
    if ns <= 0 or not math.isfinite(ns):
        return "0"
    for scale, unit in _TIME:
        if ns >= scale * 0.9995:
            return f"{short(ns / scale)} {unit}"
    return f"{short(ns)} ns"


def fmt_si(value: float, unit: str = "") -> str:
    """1e6 -> '1 M' (+unit)."""
    if value <= 0 or not math.isfinite(value):
        return "0"
    for scale, prefix in _SI:
        if value >= scale * 0.9995:
            text = f"{short(value / scale)} {prefix}{unit}"
            return text.rstrip()
    return f"{short(value)} {unit}".rstrip()


def fmt_size(size: int) -> str:
    """Bytes compactly for axis ticks: 64, 1K, 4K, 64K, 1M (K and M are 1024 and 1024^2)."""
    for scale, suffix in ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")):
        if size >= scale and size % scale == 0:
            return f"{size // scale}{suffix}"
    return str(size)


def fmt_size_long(size: int) -> str:
    """Bytes for text: 64 B, 1 KiB, 4 KiB, 1 MiB."""
    for scale, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {suffix}"
    return f"{size} B"


def fmt_percentile(p: float) -> str:
    """0.5 -> '50 %', 0.999 -> '99.9 %'."""
    text = f"{p * 100:.6f}".rstrip("0").rstrip(".")
    return f"{text} %"


# --- axes ----------------------------------------------------------------------------------


def log_axis(axis, formatter, lo: float, hi: float, numticks="auto") -> None:
    """A log axis with readable labels: 1-2-5 steps when the axis spans up to three decades,
    decades when it spans more, so that it always has a few labels."""
    axis_obj = axis
    span = hi / lo if lo > 0 and hi > 0 else 1e9
    if span <= 1000:
        major = ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0))
    else:
        major = ticker.LogLocator(base=10, subs=(1.0,), numticks=numticks)
    axis_obj.set_major_locator(major)
    axis_obj.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: formatter(v)))
    axis_obj.set_minor_locator(ticker.LogLocator(base=10, subs=tuple(range(2, 10))))
    axis_obj.set_minor_formatter(ticker.NullFormatter())


def size_axis(ax, sizes) -> None:
    """x = message size on a log2 scale, a tick at each size measured."""
    sizes = sorted(set(int(s) for s in sizes))
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(ticker.FixedLocator(sizes))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([fmt_size(s) for s in sizes]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    if len(sizes) == 1:
        ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    else:
        ax.set_xlim(sizes[0] / 1.25, sizes[-1] * 1.25)
    ax.set_xlabel("message size (bytes)")


PERCENTILE_TICKS = [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999]


def percentile_axis(ax, p_max: float) -> None:
    """x = percentile on a 1/(1-p) log axis (HdrHistogram style)."""
    ax.set_xscale("log")
    ticks = [p for p in PERCENTILE_TICKS if p <= p_max + 1e-12]
    xs = [1.0 / (1.0 - p) for p in ticks]
    ax.xaxis.set_major_locator(ticker.FixedLocator(xs))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([fmt_percentile(p) for p in ticks]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlim(1.0, 1.0 / (1.0 - p_max) * 1.15)
    ax.set_xlabel("percentile")


# --- saving --------------------------------------------------------------------------------

CREATOR = "ipcperf reports"
METADATA = {
    "svg": {"Date": None, "Creator": CREATOR},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": CREATOR},
    "png": {"Software": CREATOR},
}
FORMATS = ("pdf", "svg", "png")


def freeze_layout(fig) -> None:
    """Runs the figure's layout once on the Agg canvas, then keeps it: every format is drawn
    from these positions. Otherwise constrained layout runs again on each savefig, measured by
    that format's renderer and starting from where the previous save left the axes, so a
    file's bytes would depend on which formats were written before it (issue 10, item 11).
    Idempotent: a figure already frozen is left alone."""
    engine = fig.get_layout_engine()
    if engine is None or isinstance(engine, PlaceHolderLayoutEngine):
        return
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    fig.set_layout_engine("none")


def save(fig, stem: str, formats, dpi: int | None = None) -> list:
    """Writes fig as stem.<format> for each format; returns the paths. Deterministic bytes:
    one layout for every format, measured on Agg before the first is written (see
    freeze_layout), so a file is the same whichever other formats are asked for and in which
    order; fixed SVG hash salt, no dates, and SOURCE_DATE_EPOCH pinned (fontTools stamps the
    embedded font subset with it) unless the caller set one."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    freeze_layout(fig)
    paths = []
    for fmt in formats:
        path = f"{stem}.{fmt}"
        kwargs = {"format": fmt, "metadata": METADATA.get(fmt, {})}
        if fmt == "png" and dpi:
            kwargs["dpi"] = dpi
        fig.savefig(path, **kwargs)
        paths.append(path)
    return paths
