"""plot.py and the figures package: every family in every format, the plotted data read back from the
figures equals the JSON, overlays of several files, style, deterministic output."""

import math
import os
import statistics

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer

import figures as F
import ipcdata
import ipcstyle as S
from conftest import (FIXTURE, ONE_CORE, SKIPPED, iteration_rows, load_json, median_rows,
                      run_script)

SIZES = [64, 1024, 4096]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def build(paths, families=None, **kw):
    results = ipcdata.load_all(paths)
    figs, notes = F.build(results, F.Options(**kw), families)
    return {f.name: f for f in figs}, notes


def lines_by_label(fig):
    out = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            out.setdefault(line.get_label(), []).append(line)
    return out


def the_line(fig, label):
    found = lines_by_label(fig).get(label, [])
    assert len(found) == 1, f"{label}: {len(found)} lines in {sorted(lines_by_label(fig))}"
    return found[0]


def legend_texts(fig):
    texts = []
    for ax in fig.axes:
        for artist in ax.get_children():
            if isinstance(artist, matplotlib.legend.Legend):
                texts += [t.get_text() for t in artist.get_texts()]
    return texts


def errorbar_for(ax, colour):
    """(x, lo, hi) segments of the error bars drawn in `colour`."""
    want = to_rgba(colour)
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            cols = c.lines[2]
            if cols and tuple(cols[0].get_colors()[0]) == want:
                return [(seg[0][0], seg[0][1], seg[1][1]) for seg in cols[0].get_segments()]
    return None


def colour_of(backend, path=FIXTURE):
    """The colour of the backend's position in the file's registry."""
    return S.colour_at(ipcdata.load(path).registry.position(backend))


def backends_in(path, workload):
    return sorted({r["backend"] for r in median_rows(path).values() if r["workload"] == workload})


# --- every family, every format ------------------------------------------------------------

EXPECTED = (["throughput-msgs", "throughput-bytes", "latency-median", "latency-p99",
             "speedup-pingpong", "speedup-stream", "paced-size-64"]
            + [f"{kind}-size-{n}" for kind in ("spectrum", "cdf") for n in SIZES]
            + [f"cpu-{w}-size-{n}" for w in ("pingpong", "stream") for n in SIZES])
MAGIC = {"pdf": b"%PDF-", "svg": b"<?xml", "png": b"\x89PNG"}


def test_every_family_in_every_format(plotted):
    out, proc = plotted
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in EXPECTED:
        for fmt, magic in MAGIC.items():
            path = os.path.join(out, f"{name}.{fmt}")
            assert os.path.exists(path), path
            with open(path, "rb") as f:
                assert f.read(8).startswith(magic), path
    assert "wrote" in proc.stdout and out in proc.stdout
    index = open(os.path.join(out, "index.md"), encoding="utf-8").read()
    assert "latency-median" in index and "Pingpong round trip" in index
    # The farm workload does not exist yet: reported as a note, not drawn, not an error.
    assert "skipped farm: no farm rows" in proc.stderr
    assert not any(n.startswith("farm") for n in os.listdir(out))


def synthetic_farm(p=0.9, workers=(1, 2, 4, 8), grains=(1000, 100000)):
    """A farm result as the farm issue might write it (the workload does not exist yet):
    T(N) per task following Amdahl's law exactly."""
    cases = []
    for backend in ("shm-spsc", "pipe"):
        for g in grains:
            for n in workers:
                t = 1000.0 * ((1 - p) + p / n) * (1.0 if backend == "shm-spsc" else 1.5)
                name = f"farm/{backend}/workers:{n}/grain:{g}/size:64"
                rows = [{"name": name, "run_type": "iteration", "real_time": t * k,
                         "items_per_second": 1e9 / (t * k), "workers": n, "grain_ns": g}
                        for k in (0.99, 1.0, 1.02)]
                case = ipcdata.Case(run_name=name, workload="farm", backend=backend,
                                    family="kernel", size=64,
                                    params={"workers": str(n), "grain": str(g), "size": "64"},
                                    iterations=rows,
                                    aggregates={"median": dict(rows[1], run_type="aggregate",
                                                               aggregate_name="median")})
                cases.append(case)
    r = ipcdata.Result(path="synthetic-farm.json", context={"host_name": "synthetic"},
                       cases=cases, tag="A", label="synthetic")
    return [r]


def test_farm_speedup_with_ideal_line_and_amdahl_fit(tmp_path):
    S.apply("single")
    figs, notes = F.farm(synthetic_farm(p=0.9), F.Options())
    assert notes == []
    assert [f.name for f in figs] == ["farm-grain-1000", "farm-grain-100000"]
    for f in figs:
        for backend in ("shm-spsc", "pipe"):
            assert f.extra["fits"][backend] == pytest.approx(0.9, abs=1e-9)
            line = the_line(f.fig, backend)
            assert list(line.get_xdata()) == [1, 2, 4, 8]
            expected = [1 / ((1 - 0.9) + 0.9 / n) for n in (1, 2, 4, 8)]
            assert list(line.get_ydata()) == pytest.approx(expected, rel=1e-12)
        ideal = the_line(f.fig, "ideal")
        assert list(ideal.get_xdata()) == [1, 8] and list(ideal.get_ydata()) == [1, 8]
        for fmt in S.FORMATS:
            paths = S.save(f.fig, str(tmp_path / f.name), [fmt])
            assert os.path.getsize(paths[0]) > 1000


def test_amdahl_fit_recovers_parallel_fraction():
    for p in (0.0, 0.5, 0.95, 1.0):
        ws = [1, 2, 3, 4, 8, 16]
        assert F.amdahl_fit(ws, [F.amdahl(p, n) for n in ws]) == pytest.approx(p, abs=1e-12)
    assert F.amdahl_fit([1], [1.0]) is None


def test_families_without_data_are_skipped_with_a_note():
    figs, notes = build([FIXTURE])
    reasons = dict(notes)
    assert "no paced rows" in reasons["paced"]
    assert "no farm rows" in reasons["farm"]
    assert not any(name.startswith(("paced", "farm")) for name in figs)


def test_a_family_asked_for_without_data_is_an_error(tmp_path):
    proc = run_script("plot.py", FIXTURE, "-o", str(tmp_path), "--figures", "paced")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("plot.py: no data for the paced figures: no paced rows: "
                                   "these results have no paced workload (latency vs offered "
                                   "rate)")
    assert os.listdir(tmp_path) == []


# --- plotted data equals the JSON ----------------------------------------------------------


def test_latency_median_lines_are_the_json_medians():
    figs, _ = build([FIXTURE])
    fig = figs["latency-median"].fig
    med = median_rows(FIXTURE)
    for backend in backends_in(FIXTURE, "pingpong"):
        line = the_line(fig, backend)
        assert list(line.get_xdata()) == SIZES
        assert list(line.get_ydata()) == [med[f"pingpong/{backend}/size:{n}"]["real_time"]
                                          for n in SIZES]
    floor = the_line(fig, "cache-line floor")
    assert set(floor.get_ydata()) == {med["floor/cacheline"]["real_time"]}
    assert "cache-line floor" in legend_texts(fig)


def test_throughput_lines_are_the_json_medians():
    figs, _ = build([FIXTURE])
    med = median_rows(FIXTURE)
    for name, key in (("throughput-msgs", "items_per_second"),
                      ("throughput-bytes", "bytes_per_second")):
        fig = figs[name].fig
        for backend in backends_in(FIXTURE, "stream"):
            line = the_line(fig, backend)
            assert list(line.get_xdata()) == SIZES
            assert list(line.get_ydata()) == [med[f"stream/{backend}/size:{n}"][key]
                                              for n in SIZES]
    memcpy = the_line(figs["throughput-bytes"].fig, "memcpy floor")
    assert list(memcpy.get_ydata()) == [med[f"floor/memcpy/size:{n}"]["bytes_per_second"]
                                        for n in SIZES]
    assert "udp (lossy)" in legend_texts(figs["throughput-msgs"].fig)
    assert "% lost" in figs["throughput-msgs"].caption


def test_p99_points_are_the_json_percentiles_and_missing_ones_are_named():
    figs, _ = build([FIXTURE])
    f = figs["latency-p99"]
    med = median_rows(FIXTURE)
    drawn = 0
    for backend in backends_in(FIXTURE, "pingpong"):
        pts = [(n, med[f"pingpong/{backend}/size:{n}"].get("p99_ns")) for n in SIZES]
        pts = [(n, v) for n, v in pts if v is not None]
        if not pts:
            assert backend not in lines_by_label(f.fig)
            assert backend in f.caption
            continue
        line = the_line(f.fig, backend)
        assert list(zip(line.get_xdata(), line.get_ydata())) == pts
        drawn += 1
    assert drawn >= 2


def test_error_bars_are_the_repetition_range_without_confidence_intervals():
    figs, _ = build([FIXTURE])
    f = figs["latency-median"]
    ax = f.fig.axes[-1]
    its = iteration_rows(FIXTURE)
    segs = errorbar_for(ax, colour_of("pipe"))
    expected = [(n, min(r["real_time"] for r in its[f"pingpong/pipe/size:{n}"]),
                 max(r["real_time"] for r in its[f"pingpong/pipe/size:{n}"])) for n in SIZES]
    assert segs == pytest.approx(expected, rel=1e-12)
    assert "min–max of the 3 repetitions" in f.caption


def test_error_bars_are_the_confidence_intervals_when_the_file_has_them(issue4_fixture):
    figs, _ = build([issue4_fixture])
    med = median_rows(issue4_fixture)
    f = figs["latency-median"]
    segs = errorbar_for(f.fig.axes[-1], colour_of("shm-spsc"))
    expected = [(n, med[f"pingpong/shm-spsc/size:{n}"]["median_ci_low_ns"],
                 med[f"pingpong/shm-spsc/size:{n}"]["median_ci_high_ns"]) for n in SIZES]
    assert segs == pytest.approx(expected, rel=1e-12)
    assert "95 % confidence interval of the median" in f.caption
    f = figs["throughput-msgs"]
    segs = errorbar_for(f.fig.axes[-1], colour_of("pipe"))
    expected = [(n, med[f"stream/pipe/size:{n}"]["items_per_second_ci_low"],
                 med[f"stream/pipe/size:{n}"]["items_per_second_ci_high"]) for n in SIZES]
    assert segs == pytest.approx(expected, rel=1e-12)


def test_spectrum_passes_through_the_json_percentiles():
    figs, _ = build([FIXTURE])
    med = median_rows(FIXTURE)
    checked = 0
    for n in SIZES:
        fig = figs[f"spectrum-size-{n}"].fig
        for label, lines in lines_by_label(fig).items():
            if label.startswith("_"):
                continue
            row = med[f"pingpong/{label}/size:{n}"]
            xs, ys = list(lines[0].get_xdata()), list(lines[0].get_ydata())
            samples = sum(b[2] for b in row["latency_histogram"])
            assert samples == row["latency_samples"]
            # Never beyond the last percentile with 10 samples past it.
            assert xs[-1] <= samples / 10 * (1 + 1e-9)
            assert xs[0] == 1.0 and ys[0] == row["min_ns"]
            for p, key in ipcdata.PERCENTILES:
                if key not in row:
                    continue
                i = min(range(len(xs)), key=lambda j: abs(xs[j] - 1 / (1 - p)))
                assert xs[i] == pytest.approx(1 / (1 - p), rel=1e-9)
                assert ys[i] == row[key], (label, n, key)
                checked += 1
    assert checked >= 20
    ticks = [t.get_text() for t in figs["spectrum-size-64"].fig.axes[-1].get_xticklabels()]
    assert ticks[:3] == ["50 %", "90 %", "99 %"]


def test_cdf_steps_are_the_histogram():
    figs, _ = build([FIXTURE])
    med = median_rows(FIXTURE)
    fig = figs["cdf-size-1024"].fig
    for backend in backends_in(FIXTURE, "pingpong"):
        buckets = med[f"pingpong/{backend}/size:1024"]["latency_histogram"]
        line = the_line(fig, backend)
        xs, ys = list(line.get_xdata()), list(line.get_ydata())
        assert xs == [buckets[0][0]] + [b[1] for b in buckets]
        total = sum(b[2] for b in buckets)
        assert ys[-1] == 1.0 and ys[0] == 0.0
        assert ys[1] == pytest.approx(buckets[0][2] / total)
        assert all(a <= b for a, b in zip(ys, ys[1:]))


def cpu_bars(fig):
    ax_t, ax_c = fig.axes[-2], fig.axes[-1]
    names = [t.get_text() for t in ax_t.get_yticklabels()]
    ys = list(ax_t.get_yticks())
    walls = {}
    for c in ax_t.containers:
        if isinstance(c, BarContainer):
            for patch in c.patches:
                walls[round(patch.get_y() + patch.get_height() / 2)] = patch.get_width()
    user, system = [c for c in ax_c.containers if isinstance(c, BarContainer)]
    by_y = {}
    for u, s in zip(user.patches, system.patches):
        y = round(u.get_y() + u.get_height() / 2)
        by_y[y] = (u.get_width(), s.get_width(), s.get_x())
    return {name: (walls[y],) + by_y[y] for name, y in zip(names, ys)}


def test_cpu_bars_from_getrusage_totals():
    figs, _ = build([FIXTURE])
    med, its = median_rows(FIXTURE), iteration_rows(FIXTURE)
    for workload in ("pingpong", "stream"):
        bars = cpu_bars(figs[f"cpu-{workload}-size-64"].fig)
        for backend in backends_in(FIXTURE, workload):
            name = backend + (" (in-proc.)" if backend == "thread-spsc" else "")
            wall, user, system, left = bars[name]
            run = f"{workload}/{backend}/size:64"
            assert wall == med[run]["real_time"]
            assert user == pytest.approx(statistics.median(
                (r["cpu_user_ns_a"] + r["cpu_user_ns_b"]) / r["iterations"] for r in its[run]))
            assert system == pytest.approx(statistics.median(
                (r["cpu_sys_ns_a"] + r["cpu_sys_ns_b"]) / r["iterations"] for r in its[run]))
            assert left == user  # system stacked on user


def test_cpu_bars_from_per_message_fields(issue4_fixture):
    figs, _ = build([issue4_fixture])
    med = median_rows(issue4_fixture)
    bars = cpu_bars(figs["cpu-pingpong-size-4096"].fig)
    row = med["pingpong/pipe/size:4096"]
    _wall, user, system, _left = bars["pipe"]
    assert system == row["sys_ns_per_msg_a"] + row["sys_ns_per_msg_b"]
    assert user == pytest.approx(row["cpu_ns_per_msg_a"] + row["cpu_ns_per_msg_b"] - system)


def test_speedup_bars_are_the_ratio_to_the_reference():
    figs, _ = build([FIXTURE])
    med = median_rows(FIXTURE)
    for workload in ("pingpong", "stream"):
        ax = figs[f"speedup-{workload}"].fig.axes[-1]
        bars = {c.get_label(): c for c in ax.containers if isinstance(c, BarContainer)}
        assert "pipe" not in bars
        for backend in backends_in(FIXTURE, workload):
            if backend == "pipe":
                continue
            tops = [p.get_y() + p.get_height() for p in bars[backend].patches]
            expected = [med[f"{workload}/pipe/size:{n}"]["real_time"]
                        / med[f"{workload}/{backend}/size:{n}"]["real_time"] for n in SIZES]
            assert tops == pytest.approx(expected, rel=1e-12)
            assert all(p.get_y() == 1.0 for p in bars[backend].patches if p.get_height() > 0)


def test_speedup_reference_can_be_chosen():
    figs, _ = build([FIXTURE], families=["speedup"], reference="shm-mutex",
                    reference_given=True)
    ax = figs["speedup-pingpong"].fig.axes[-1]
    labels = {c.get_label() for c in ax.containers if isinstance(c, BarContainer)}
    assert "pipe" in labels and "shm-mutex" not in labels
    assert "shm-mutex = 1" in legend_texts(figs["speedup-pingpong"].fig)


def test_paced_lines_are_the_json_percentiles(issue4_fixture):
    figs, _ = build([issue4_fixture])
    f = figs["paced-size-64"]
    med = median_rows(issue4_fixture)
    for backend, rates in (("shm-spsc", [10000, 100000, 1000000]), ("pipe", [1000, 10000,
                                                                            300000])):
        for key, plabel in (("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9")):
            pts = [(float(r), med[f"paced/{backend}/rate:{r}/size:64"].get(key)) for r in rates]
            pts = [(x, y) for x, y in pts if y is not None]
            label = f"{backend} {plabel}"
            if not pts:
                assert label not in lines_by_label(f.fig)
                continue
            line = the_line(f.fig, label)
            assert list(zip(line.get_xdata(), line.get_ydata())) == pts
    circled = lines_by_label(f.fig)["_rate_not_kept"]
    assert [(list(c.get_xdata()), list(c.get_ydata())) for c in circled] == [
        ([300000.0], [med["paced/pipe/rate:300000/size:64"]["p50_ns"]])]
    assert "rate not kept" in legend_texts(f.fig)
    assert "one-way" in f.caption


# --- several files -------------------------------------------------------------------------


def test_two_files_are_overlaid_with_distinct_markers_and_named_in_the_legend():
    figs, _ = build([FIXTURE, ONE_CORE])
    fig = figs["latency-median"].fig
    ctx_a, ctx_b = load_json(FIXTURE)["context"], load_json(ONE_CORE)["context"]
    texts = legend_texts(fig)
    label_a = f"A: {ctx_a['host_name']} @ {ctx_a['git_revision'][:7]} (fixture.json)"
    label_b = f"B: {ctx_b['host_name']} @ {ctx_b['git_revision'][:7]} (fixture_one_core.json)"
    assert label_a in texts and label_b in texts
    a = the_line(fig, "shm-spsc [A]")
    b = the_line(fig, "shm-spsc wait:yield [B]")
    assert a.get_marker() != b.get_marker()
    assert a.get_color() == b.get_color() == colour_of("shm-spsc")
    med_b = median_rows(ONE_CORE)
    assert list(b.get_ydata()) == [med_b[f"pingpong/shm-spsc/wait:yield/size:{n}"]["real_time"]
                                   for n in SIZES]
    # Bars: one per file, the second file's hatched.
    ax = figs["speedup-pingpong"].fig.axes[-1]
    hatches = {c.get_label(): c.patches[0].get_hatch() for c in ax.containers
               if isinstance(c, BarContainer)}
    assert not hatches["shm-spsc [A]"] and hatches["shm-spsc wait:yield [B]"]
    assert "Files: A = " in figs["latency-median"].caption


def test_backends_filter_keeps_the_floor():
    results = ipcdata.load_all([FIXTURE])
    F.filter_backends(results, ["pipe"])
    figs, _ = F.build(results, F.Options(backends=["pipe"]), ["latency"])
    labels = set(lines_by_label(figs[0].fig))
    assert "pipe" in labels and "cache-line floor" in labels and "shm-spsc" not in labels


# --- style ---------------------------------------------------------------------------------


def test_each_backend_has_one_colour_everywhere():
    figs, _ = build([FIXTURE])
    for backend in backends_in(FIXTURE, "pingpong"):
        colours = {the_line(figs[name].fig, backend).get_color()
                   for name in ("latency-median", "throughput-msgs", "spectrum-size-64",
                                "cdf-size-64")}
        assert colours == {colour_of(backend)}
    # Every backend of the registry looks different: colour and marker, and the lines of the
    # colours' second round differ from the first's without markers too (several files).
    registry = ipcdata.load(SKIPPED).registry
    looks = []
    for pos, b in enumerate(registry):
        style = S.line_style(pos, b.in_process, 0, False)
        assert style["color"] in S.PALETTE
        looks.append((style["color"], style["marker"]))
        multi = S.line_style(pos, b.in_process, 0, True)
        looks.append((multi["color"], str(multi["linestyle"])))
    assert len(set(looks)) == len(looks) == 2 * len(registry)


def test_in_process_references_are_dashed():
    figs, _ = build([FIXTURE])
    line = the_line(figs["latency-median"].fig, "thread-spsc")
    assert line.get_linestyle() == "--"
    assert the_line(figs["latency-median"].fig, "pipe").get_linestyle() == "-"


def test_sizes_for_a_column_and_a_page_and_no_titles_by_default():
    figs, _ = build([FIXTURE], families=["latency", "cpu"])
    for f in figs.values():
        assert f.fig.get_size_inches()[0] == pytest.approx(3.3)
        assert f.fig._suptitle is None
        assert all(ax.get_title() == "" for ax in f.fig.axes)
    figs, _ = build([FIXTURE], families=["latency"], width="double", titles=True)
    for f in figs.values():
        assert f.fig.get_size_inches()[0] == pytest.approx(7.0)
        assert f.fig._suptitle is not None and f.fig._suptitle.get_text()


def test_log_axes_where_the_data_spans_decades():
    figs, _ = build([FIXTURE])
    ax = figs["latency-median"].fig.axes[-1]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    assert ax.xaxis.get_transform().base == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["64", "1K", "4K"]
    assert figs["speedup-pingpong"].fig.axes[-1].get_yscale() == "log"


@pytest.mark.parametrize("width", ["single", "double"])
def test_legends_sit_outside_the_data_area(width):
    figs, _ = build([FIXTURE, ONE_CORE], width=width)
    for f in figs.values():
        f.fig.canvas.draw()
        renderer = f.fig.canvas.get_renderer()
        data_axes = [ax for ax in f.fig.axes if ax.axison]
        legends = [a for ax in f.fig.axes for a in ax.get_children()
                   if isinstance(a, matplotlib.legend.Legend)]
        assert legends, f.name
        for leg in legends:
            box = leg.get_window_extent(renderer)
            fig_box = f.fig.bbox
            assert box.x0 >= fig_box.x0 - 1 and box.x1 <= fig_box.x1 + 1, f.name
            for ax in data_axes:
                assert not box.overlaps(ax.bbox), f.name


# --- output files ----------------------------------------------------------------------------


def test_same_json_gives_byte_identical_files(plotted, tmp_path, issue4_fixture):
    out1, proc1 = plotted
    assert proc1.returncode == 0
    out2 = tmp_path / "again"
    proc2 = run_script("plot.py", issue4_fixture, "-o", str(out2), "--format", "pdf,svg,png",
                       env={"PYTHONHASHSEED": "2"}, cwd=str(tmp_path))
    assert proc2.returncode == 0, proc2.stderr
    names = sorted(n for n in os.listdir(out1) if n.endswith((".svg", ".pdf", ".png")))
    assert names == sorted(n for n in os.listdir(out2) if n.endswith((".svg", ".pdf", ".png")))
    assert len(names) == 3 * len(EXPECTED)
    for n in names:
        with open(os.path.join(out1, n), "rb") as a, open(os.path.join(out2, n), "rb") as b:
            assert a.read() == b.read(), n


def test_pdf_embeds_truetype_and_no_dates(plotted):
    out, _ = plotted
    pdf = open(os.path.join(out, "latency-median.pdf"), "rb").read()
    assert b"/FontFile2" in pdf  # TrueType (pdf.fonttype 42)
    assert b"/Type3" not in pdf
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf
    svg = open(os.path.join(out, "latency-median.svg"), encoding="utf-8").read()
    assert "<dc:date>" not in svg
    assert "ipcperf reports" in svg


def test_default_output_directory_is_next_to_the_json(tmp_path):
    src = tmp_path / "quick-1.json"
    src.write_bytes(open(FIXTURE, "rb").read())
    proc = run_script("plot.py", str(src), "--format", "svg", "--figures", "latency")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / "quick-1-charts")) == [
        "index.md", "latency-median.svg", "latency-p99.svg"]
    assert str(tmp_path / "quick-1-charts") in proc.stdout


def test_sig_rounding():
    assert S.sig(0.25084) == "0.251"
    assert S.sig(43576.3) == "43600"
    assert S.sig(999.6) == "1000"
    assert S.fmt_time(250.8) == "251 ns" and S.fmt_time(43576) == "43.6 µs"
    assert S.fmt_si(2.5e7) == "25 M" and S.fmt_si(1.5e9, "B/s") == "1.5 GB/s"
    assert S.fmt_percentile(0.999) == "99.9 %"
    assert math.isclose(ipcdata.min_samples_for(0.999), 10000)
