"""Shared fixtures of the report tests: the checked-in result files, the derived issue-4 file,
and helpers to run the scripts as a user would."""

import json
import os
import subprocess
import sys

import pytest

sys.dont_write_bytecode = True
os.environ.setdefault("MPLBACKEND", "Agg")
HERE = os.path.dirname(os.path.abspath(__file__))
REPORTS = os.path.dirname(HERE)
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, REPORTS)

FIXTURE = os.path.join(FIXTURES, "fixture.json")
ONE_CORE = os.path.join(FIXTURES, "fixture_one_core.json")
SKIPPED = os.path.join(FIXTURES, "fixture_skipped.json")


def script(name):
    return os.path.join(REPORTS, name)


def run_script(name, *args, env=None, cwd=None):
    """Runs reports/<name> with this interpreter (Debian's /usr/bin/python3 under
    scripts/test.sh); returns the CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, script(name), *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=300)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def median_rows(path):
    """name-without-suffix -> _median row, read straight from the JSON (independent of the
    code under test)."""
    return {r["run_name"]: r for r in load_json(path)["benchmarks"]
            if r.get("aggregate_name") == "median"}


def iteration_rows(path):
    out = {}
    for r in load_json(path)["benchmarks"]:
        if r.get("run_type") == "iteration" and not r.get("error_occurred"):
            out.setdefault(r["run_name"], []).append(r)
    return out


@pytest.fixture(scope="session")
def issue4_fixture(tmp_path_factory):
    """fixture_with_issue4_fields.json, made from the real fixture by make_fixtures.py (see
    fixtures/README.md): issue 4's per-message CPU fields, confidence intervals and paced rows,
    hand-made."""
    out = tmp_path_factory.mktemp("issue4") / "fixture_with_issue4_fields.json"
    subprocess.run([sys.executable, os.path.join(FIXTURES, "make_fixtures.py"), "issue4",
                    FIXTURE, str(out)], check=True,
                   env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    return str(out)


@pytest.fixture(scope="session")
def plotted(tmp_path_factory, issue4_fixture):
    """plot.py run once on the issue-4 fixture in every format: (dir, CompletedProcess)."""
    out = tmp_path_factory.mktemp("charts")
    proc = run_script("plot.py", issue4_fixture, "-o", str(out), "--format", "pdf,svg,png",
                      env={"PYTHONHASHSEED": "1"})
    return str(out), proc
