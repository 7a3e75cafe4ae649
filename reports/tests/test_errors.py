"""Bad input: one line on stderr, exit 1 for data and 2 for usage, never a traceback."""

import json

import pytest

import plot
import report
import tables
from conftest import FIXTURE, run_script

SCRIPTS = {"plot.py": plot, "tables.py": tables, "report.py": report}


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    path.write_text(content, encoding="utf-8")
    return str(path)


def call(module, args, capsys):
    status = module.main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def out_args(name, tmp_path):
    return [] if name == "tables.py" else ["-o", str(tmp_path / "out")]


BAD_DATA = [
    ("missing.json", None, "no such file"),
    ("text.json", "this is not json\n", "not a JSON file (Expecting value at line 1, column 1)"),
    ("array.json", [1, 2, 3], "not ipcperf / Google Benchmark JSON"),
    ("nobench.json", {"context": {}}, "not ipcperf / Google Benchmark JSON"),
    ("empty.json", {"context": {}, "benchmarks": []}, "the \"benchmarks\" list is empty"),
    ("other.json", {"context": {"host_name": "x"}, "benchmarks": [
        {"name": "BM_RingPushPop/64", "run_type": "iteration", "real_time": 3.0,
         "time_unit": "ns", "iterations": 100}]}, "no ipcperf rows"),
    ("badrow.json", {"context": {}, "benchmarks": ["pingpong/pipe/size:64"]},
     "benchmarks[0] is not a benchmark row"),
    ("badnum.json", {"context": {}, "benchmarks": [
        {"name": "pingpong/pipe/size:64", "run_type": "iteration", "real_time": "fast",
         "workload": "pingpong", "backend": "pipe"}]}, "\"real_time\" is not a number"),
]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
@pytest.mark.parametrize("fname,content,message", BAD_DATA, ids=[b[0] for b in BAD_DATA])
def test_bad_data_is_one_line_and_exit_1(name, fname, content, message, tmp_path, capsys):
    path = str(tmp_path / fname) if content is None else write(tmp_path, fname, content)
    status, out, err = call(SCRIPTS[name], [path] + out_args(name, tmp_path), capsys)
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"{name}: {path}: ")
    assert message in err
    assert not (tmp_path / "out").exists()


BAD_USAGE = [
    ("plot.py", [], "the following arguments are required: RESULTS.json"),
    ("plot.py", [FIXTURE, "--format", "gif"], "unknown format 'gif' (allowed: pdf, svg, png)"),
    ("plot.py", [FIXTURE, "--width", "triple"], "argument --width: invalid choice: 'triple'"),
    ("plot.py", [FIXTURE, "--figures", "pie"], "unknown figure family 'pie'"),
    ("plot.py", [FIXTURE, "--dpi", "5"], "--dpi 5: expected 20..1200"),
    ("plot.py", [FIXTURE, "--colour"], "unrecognized arguments: --colour"),
    ("tables.py", [FIXTURE, "--format", "html"], "argument --format: invalid choice: 'html'"),
    ("tables.py", [FIXTURE, "--table", "speed"], "unknown table 'speed'"),
    ("tables.py", [FIXTURE, FIXTURE], "unrecognized arguments"),
    ("report.py", [], "the following arguments are required: RESULTS.json"),
    ("report.py", [FIXTURE, "--backends", ","], "empty backend list"),
]


@pytest.mark.parametrize("name,args,message", BAD_USAGE)
def test_bad_usage_is_one_line_and_exit_2(name, args, message, capsys):
    status, out, err = call(SCRIPTS[name], args, capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"{name}: ")
    assert message in err


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_unknown_backend_is_exit_1(name, tmp_path, capsys):
    status, _out, err = call(SCRIPTS[name], [FIXTURE, "--backends", "pipe,carrier-pigeon"]
                             + out_args(name, tmp_path), capsys)
    assert status == 1 and err.count("\n") == 1
    assert "no rows for backend 'carrier-pigeon'" in err


def test_unknown_reference_is_exit_1(tmp_path, capsys):
    status, _out, err = call(plot, [FIXTURE, "-o", str(tmp_path), "--figures", "speedup",
                                    "--reference", "tcp"], capsys)
    assert status == 1
    assert err == ("plot.py: no rows of the reference backend 'tcp' (choose another with "
                   "--reference)\n")


def test_table_without_rows_is_exit_1(capsys):
    from conftest import SKIPPED
    status, _out, err = call(tables, [SKIPPED, "--table", "throughput"], capsys)
    assert status == 1
    assert err == "tables.py: no data for the throughput table: no stream rows with a value\n"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_real_processes_exit_without_traceback(name, tmp_path):
    """The same through a real interpreter: the status and the one line, nothing else."""
    bad = write(tmp_path, "bad.json", "{\"context\": {}, \"benchmarks\": [")
    proc = run_script(name, bad, *out_args(name, tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "not a JSON file" in proc.stderr
    proc = run_script(name, "--no-such-option")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
