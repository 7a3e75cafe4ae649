"""The backends come from the result files (context.backends, the harness's registry), not from
lists in reports/: order, family, in-process, colours by registry position, floors apart."""

import copy
import glob
import json
import os
import re

import matplotlib.pyplot as plt
import pytest

import figures as F
import ipcdata
import ipcstyle as S
import tables as T
from conftest import FIXTURE, ONE_CORE, REPORTS, SKIPPED, load_json


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def registry_names(path):
    return [b["name"] for b in load_json(path)["context"]["backends"]]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def rename_backend(data, old, new):
    """A copy of a result file in which backend `old` is called `new`, in the rows and in
    context.backends."""
    data = copy.deepcopy(data)
    for entry in data["context"]["backends"]:
        if entry["name"] == old:
            entry["name"] = new
    for row in data["benchmarks"]:
        for key in ("name", "run_name"):
            if key in row:
                row[key] = row[key].replace(f"/{old}/", f"/{new}/")
        if row.get("backend") == old:
            row["backend"] = new
    return data


def figure(paths, name, **kw):
    results = ipcdata.load_all(paths)
    figs, _ = F.build(results, F.Options(**kw))
    return next(f for f in figs if f.name == name)


def line_colours(fig):
    """label -> colour of each data line (not floors, error bars or fits)."""
    return {line.get_label(): line.get_color() for ax in fig.axes for line in ax.get_lines()
            if not line.get_label().startswith("_") and "floor" not in line.get_label()}


def legend_labels(fig):
    return [t.get_text() for ax in fig.axes for leg in ax.get_children()
            if isinstance(leg, plt.matplotlib.legend.Legend) for t in leg.get_texts()]


# --- order ---------------------------------------------------------------------------------


def test_order_and_flags_follow_context_backends():
    result = ipcdata.load(SKIPPED)
    context = load_json(SKIPPED)["context"]["backends"]
    assert result.registry.names() == [b["name"] for b in context]
    for b in context:
        entry = result.registry.get(b["name"])
        assert (entry.family, entry.in_process, entry.lossy) == (b["family"], b["in_process"],
                                                                 b["lossy"])
    # Floors are not backends.
    assert all(not c.backend or c.backend in result.registry for c in result.cases)
    assert "" not in result.registry


def test_a_reversed_registry_reverses_legends_and_tables(tmp_path):
    data = load_json(FIXTURE)
    data["context"]["backends"].reverse()
    path = write(tmp_path, "reversed.json", data)
    measured = [n for n in registry_names(FIXTURE)
                if any(r.get("backend") == n for r in data["benchmarks"])]
    labels = [t.split(" (")[0] for t in legend_labels(figure([path], "latency-median").fig)]
    assert [t for t in labels if t in measured] == measured[::-1]
    table = T.build_table(ipcdata.load(path), "latency")
    assert [c.backend for c in table.columns] == measured[::-1]
    table = T.build_table(ipcdata.load(FIXTURE), "latency")
    assert [c.backend for c in table.columns] == measured


def test_in_process_comes_from_the_registry(tmp_path):
    data = load_json(FIXTURE)
    for entry in data["context"]["backends"]:
        if entry["name"] == "pipe":
            entry["in_process"] = True
    path = write(tmp_path, "pipe-in-process.json", data)
    fig = figure([path], "latency-median").fig
    assert "pipe (in-process)" in legend_labels(fig)
    assert [c for c in ipcdata.load(path).cases if c.backend == "pipe"][0].in_process


def test_files_are_merged_in_order_of_first_appearance():
    a = ipcdata.Registry([ipcdata.Backend(n) for n in ("x", "y", "z")])
    b = ipcdata.Registry([ipcdata.Backend(n) for n in ("y", "w", "x")])
    merged = ipcdata.Registry.union([a, b])
    assert merged.names() == ["x", "y", "z", "w"]
    assert merged.position("w") == 3 and merged.position("floor") is None
    assert merged.rank("unlisted") > merged.rank("w")


def test_a_file_without_context_backends_falls_back_to_its_rows(tmp_path):
    data = load_json(FIXTURE)
    del data["context"]["backends"]
    result = ipcdata.load(write(tmp_path, "old.json", data))
    first_seen = []
    for row in data["benchmarks"]:
        if row["backend"] and row["backend"] not in first_seen:
            first_seen.append(row["backend"])
    assert result.registry.names() == first_seen
    assert {b.family for b in result.registry} == {ipcdata.UNKNOWN_FAMILY}
    # In-process still shows, from the rows.
    assert [b.name for b in result.registry if b.in_process] == ["thread-spsc"]


def test_floor_rows_are_told_by_their_name_not_a_list():
    case = ipcdata.Case(run_name="floor/new-limit/size:64", workload="floor-new-limit",
                        backend="", size=64)
    assert case.is_floor
    case = ipcdata.Case(run_name="pingpong/floorboard/size:64", workload="pingpong",
                        backend="floorboard", size=64)
    assert not case.is_floor


# --- colours -------------------------------------------------------------------------------


def test_colours_follow_the_registry_position_across_files():
    # fixture_one_core.json has fewer backends than fixture.json but the same registry: each
    # backend keeps the colour of its registry position alone, overlaid and in either file.
    names = registry_names(FIXTURE)
    assert names == registry_names(ONE_CORE)
    alone_a = line_colours(figure([FIXTURE], "latency-median").fig)
    alone_b = line_colours(figure([ONE_CORE], "latency-median").fig)
    both = line_colours(figure([FIXTURE, ONE_CORE], "latency-median").fig)
    for label, colour in list(alone_a.items()) + list(alone_b.items()) + list(both.items()):
        backend = label.split(" ")[0]
        assert colour == S.PALETTE[names.index(backend) % len(S.PALETTE)], label
    # Without the backends before it (shm-mutex is not in fixture_one_core.json), pipe keeps
    # its place.
    assert "shm-mutex" in alone_a and "shm-mutex" not in alone_b
    assert alone_a["pipe"] == alone_b["pipe"] == both["pipe [A]"] == both["pipe [B]"]


def test_a_new_backend_gets_its_registry_position_and_a_palette_colour(tmp_path):
    # A backend no list in reports/ could know: shm-mutex renamed, at its registry position 1.
    data = rename_backend(load_json(FIXTURE), "shm-mutex", "ring-of-the-future")
    result = ipcdata.load(write(tmp_path, "new.json", data))
    assert result.registry.position("ring-of-the-future") == 1
    fig = figure([result.path], "latency-median").fig
    assert line_colours(fig)["ring-of-the-future"] == S.PALETTE[1]
    assert legend_labels(fig)[1] == "ring-of-the-future"
    speedup = figure([result.path], "speedup-pingpong").fig
    bars = {c.get_label(): c.patches[0].get_facecolor() for c in speedup.axes[-1].containers
            if hasattr(c, "patches")}
    assert bars["ring-of-the-future"] == plt.matplotlib.colors.to_rgba(S.PALETTE[1])


def test_a_backend_missing_from_context_backends_comes_after_it(tmp_path):
    data = load_json(FIXTURE)
    data["context"]["backends"] = [b for b in data["context"]["backends"]
                                   if b["name"] != "udp"]
    result = ipcdata.load(write(tmp_path, "unlisted.json", data))
    n = len(data["context"]["backends"])
    assert result.registry.names()[-1] == "udp" and result.registry.position("udp") == n
    fig = figure([result.path], "latency-median").fig
    assert line_colours(fig)["udp"] == S.PALETTE[n % len(S.PALETTE)]
    assert result.registry.get("udp").family == ipcdata.UNKNOWN_FAMILY


def test_a_malformed_registry_is_a_one_line_data_error(tmp_path):
    data = load_json(FIXTURE)
    data["context"]["backends"][2] = "pipe"
    with pytest.raises(ipcdata.DataError, match=r"context.backends\[2\] is not a backend"):
        ipcdata.load(write(tmp_path, "bad.json", data))


# --- no lists in reports/ ------------------------------------------------------------------


def test_no_backend_names_in_the_report_sources():
    names = registry_names(SKIPPED)
    assert len(names) >= 15
    sources = sorted(glob.glob(os.path.join(REPORTS, "*.py"))
                     + glob.glob(os.path.join(REPORTS, "figures", "*.py")))
    assert len(sources) >= 10
    found = []
    for path in sources:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for name in names:
            # As a word of its own: "pipe" in "pipeline" or "BrokenPipeError" is not a name.
            if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                found.append(f"{os.path.relpath(path, REPORTS)}: {name}")
    assert found == []
