"""report.py: one Markdown page and one self-contained HTML file with the figures, the
tables, the environment as a footnote and the run's warnings."""

import os
import re

import pytest

from conftest import FIXTURE, SKIPPED, load_json, run_script


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    proc = run_script("report.py", FIXTURE, "-o", str(out))
    return str(out), proc


def test_report_has_figures_tables_environment_and_warnings(reported):
    out, proc = reported
    assert proc.returncode == 0, proc.stderr
    assert os.path.join(out, "report.md") in proc.stdout
    assert os.path.join(out, "report.html") in proc.stdout
    md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
    ctx = load_json(FIXTURE)["context"]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert images[:2] == ["latency-median.png", "throughput-msgs.png"]
    for img in images:
        assert os.path.getsize(os.path.join(out, img)) > 1000
    assert md.count("*Figure ") == len(images)
    assert "**Round trip, median (µs)**" in md and "| Size (B) |" in md
    footnote = [line for line in md.splitlines() if line.startswith("[^env]: ")]
    assert len(footnote) == 1 and md.splitlines()[0].endswith("[^env]")
    for key in ("cpu_model", "kernel", "cpus_pinned", "governor", "build_type",
                "git_revision", "compiler"):
        assert str(ctx[key]) in footnote[0], key
    for warning in ctx["warnings"]:
        assert f"- {warning}" in md
    assert "no paced rows" in md and "no farm rows" in md  # what is not shown, and why


def test_html_is_self_contained(reported):
    out, _ = reported
    page = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in page and "http://" not in page and "https://" not in page
    ctx = load_json(FIXTURE)["context"]
    assert ctx["kernel"] in page and ctx["governor"] in page
    assert "<table>" in page and "Figure 1." in page


def test_report_lists_skipped_cases(tmp_path):
    proc = run_script("report.py", SKIPPED, "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "`pingpong/posix-mq/size:16384`: skipped: posix-mq: message size 16384 exceeds" in md
    assert "| 16384 |" in md and "skipped" in md


def test_report_default_directory_is_next_to_the_json(tmp_path):
    src = tmp_path / "quick-2.json"
    src.write_bytes(open(FIXTURE, "rb").read())
    proc = run_script("report.py", str(src))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "quick-2-report" / "report.html").exists()
