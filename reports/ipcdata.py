"""ipcperf result files (Google Benchmark JSON) as cases the figures and tables use.

A file has `context` (host, CPU, kernel, pinning, governor, build, revision, warnings) and
`benchmarks`: per case one `iteration` row per repetition (or an error row: error_occurred,
error_message, "skipped: ..." for a case refused at plan time) and the aggregate rows
NAME_mean/_median/_stddev/_cv. Names are WORKLOAD/BACKEND[/wait:W][/nodelay:0]/size:N,
paced/BACKEND/rate:R/size:N, and floor/NAME[/size:N] for the hardware floors (not backends).

The backends, their order, family and in-process flag come from the file itself:
`context.backends`, the harness's registry (see Registry). Nothing here names a backend.

Everything here is plain Python (no matplotlib), so tables.py stays light. Problems with the
input raise DataError with a one-line message that names the file.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field


class DataError(Exception):
    """The input cannot be used (missing file, not our JSON, no rows for what was asked):
    the scripts print the message on one line and exit 1."""


class UsageError(Exception):
    """A bad command line: the scripts print the message on one line and exit 2."""


def cli_main(prog: str, run, argv, *, needs_matplotlib: bool = True) -> int:
    """The one way the report scripts end: bad usage exits 2, bad data 1, each with one line on
    stderr and never a traceback (IPCPERF_DEBUG=1 shows it)."""
    import sys

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        print(f"{prog}: {e} (see --help)", file=sys.stderr)
        return 2
    except DataError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except ImportError as e:
        if not needs_matplotlib:
            print(f"{prog}: internal error: {e}", file=sys.stderr)
            return 1
        print(f"{prog}: {e.name or e} is not installed for {sys.executable}: run it with Debian's "
              f"/usr/bin/python3 (scripts/deps.sh installs python3-matplotlib, python3-numpy)",
              file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  (one line, not a traceback; IPCPERF_DEBUG shows it)
        if os.environ.get("IPCPERF_DEBUG"):
            raise
        print(f"{prog}: internal error: {type(e).__name__}: {e} (rerun with IPCPERF_DEBUG=1 "
              f"for the traceback)", file=sys.stderr)
        return 1


# Percentile keys the harness writes, with the quantile each stands for.
PERCENTILES = (
    (0.5, "p50_ns"),
    (0.9, "p90_ns"),
    (0.99, "p99_ns"),
    (0.999, "p999_ns"),
    (0.9999, "p9999_ns"),
)
# The harness names its floor rows floor/NAME[/size:N], family "floor" (harness/floors): limits
# the figures are read against, not backends.
FLOOR_PREFIX = "floor/"
FLOOR_FAMILY = "floor"
# Family of a backend that a file without context.backends names only in its rows.
UNKNOWN_FAMILY = "unknown"
# Family whose first backend is the speedup figures' default reference: the plain kernel
# mechanisms (registry_context() writes Family::kKernel as "kernel").
REFERENCE_FAMILY = "kernel"
# Name parts that are an axis of a figure rather than part of a series' identity.
AXIS_PARTS = ("size", "rate", "workers", "grain")
# Fields of a confidence interval of the median (issue 4), per metric.
CI_FIELDS = {
    "real_time": ("median_ci_low_ns", "median_ci_high_ns"),
    "items_per_second": ("items_per_second_ci_low", "items_per_second_ci_high"),
    "bytes_per_second": ("bytes_per_second_ci_low", "bytes_per_second_ci_high"),
}


# The harness's rule (harness/stats/summary.cpp, min_samples_for): a percentile p is reported
# only when at least this many samples lie beyond it, i.e. from 10 / (1 - p) samples on.
TAIL_SAMPLES = 10


def min_samples_for(p: float) -> int:
    """Samples needed before percentile p is reported: TAIL_SAMPLES / (1 - p), exactly as the
    harness's min_samples_for rounds it."""
    if not p < 1.0:
        return 2**63
    x = TAIL_SAMPLES / (1.0 - p)
    # 1 - p is rarely exact in binary, so x lands a hair off the integer it means; ceil() of a
    # hair above would ask for one sample too many (the hair grows with x, hence the relative
    # term), as in the C++.
    r = round(x)
    if abs(x - r) <= max(1e-6, x * 1e-9):
        return int(r)
    return math.ceil(x)


def max_percentile(samples: int) -> float:
    """The largest percentile that `samples` samples support under min_samples_for."""
    return 1.0 - TAIL_SAMPLES / samples if samples > 0 else 0.0


def quantiles(buckets, qs, vmin: float, vmax: float) -> list:
    """Values at quantiles qs from histogram buckets [(lo, hi, count)], exactly as the harness's
    Histogram::quantile computes its p50_ns...: the midpoint of the bucket holding the
    ceil(q * N)-th smallest sample, clamped to the observed [min, max]."""
    total = sum(c for _lo, _hi, c in buckets)
    return [_quantile(buckets, total, q, float(vmin), float(vmax)) for q in qs]


def _quantile(buckets, total: int, q: float, vmin: float, vmax: float) -> float:
    if total == 0:
        return 0.0
    if q <= 0:
        return vmin
    if q >= 1:
        return vmax
    rank = min(max(math.ceil(q * float(total)), 1), total)
    seen = 0
    for lo, hi, count in buckets:
        seen += count
        if seen >= rank:
            return min(max((float(lo) + float(hi)) / 2.0, vmin), vmax)
    return vmax


def harness_percentiles(buckets, vmin: float, vmax: float) -> dict:
    """The percentile fields (p50_ns...) the harness writes for a merged histogram: each of
    PERCENTILES that has min_samples_for(p) samples behind it."""
    total = sum(c for _lo, _hi, c in buckets)
    return {key: _quantile(buckets, total, p, float(vmin), float(vmax))
            for p, key in PERCENTILES if total >= min_samples_for(p)}


def parse_count(text: str) -> float | None:
    """'100000', '100k', '1.5M' -> number (k = 1000, M = 10^6, G = 10^9); None if not one."""
    text = text.strip()
    scale = 1.0
    if text and text[-1] in "kKmMgG":
        scale = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}[text[-1]]
        text = text[:-1]
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_size(text: str) -> int | None:
    """'64', '1K', '4096' -> bytes (K, M = 1024, 1024^2 as the CLI reads them)."""
    text = text.strip()
    scale = 1
    if text and text[-1] in "kKmMgG":
        scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[text[-1].lower()]
        text = text[:-1]
    if not text.isdigit():
        return None
    return int(text) * scale


def sig(value: float, digits: int = 3) -> str:
    """`value` rounded to `digits` significant digits, as plain decimal text (0.251, 43.9,
    43600): the rounding every table and label states."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    exp = math.floor(math.log10(abs(value)))
    rounded = round(value, digits - 1 - exp)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > exp:  # 999.6 -> 1000
        exp += 1
        rounded = round(value, digits - 1 - exp)
    return f"{rounded:.{max(0, digits - 1 - exp)}f}"


@dataclass
class Interval:
    lo: float
    hi: float
    kind: str  # "ci": 95 % confidence interval of the median; "range": min..max of repetitions

    def describe(self, n: int | None = None) -> str:
        if self.kind == "ci":
            return "95 % confidence interval of the median"
        return "min–max of the repetitions" if n is None else f"min–max of {n} repetitions"


@dataclass
class Case:
    """One benchmark case (one run_name) of one result file."""

    run_name: str
    workload: str
    backend: str
    family: str = ""
    in_process: bool = False
    lossy: bool = False
    size: int | None = None
    params: dict = field(default_factory=dict)  # name parts k:v (size, rate, wait, ...)
    iterations: list = field(default_factory=list)  # rows of repetitions that passed
    errors: list = field(default_factory=list)  # error_message of error rows
    aggregates: dict = field(default_factory=dict)  # aggregate_name -> row

    # --- identity ---
    @property
    def is_floor(self) -> bool:
        return self.family == FLOOR_FAMILY or self.run_name.startswith(FLOOR_PREFIX)

    @property
    def variant(self) -> str:
        """Name parts that set this case apart from the backend's default (wait:yield...)."""
        return " ".join(f"{k}:{v}" for k, v in self.params.items() if k not in AXIS_PARTS)

    @property
    def series(self) -> str:
        """Label of the series this case belongs to: the backend and its variant."""
        if self.is_floor:
            base = self.run_name.split("/size:")[0]
        else:
            base = self.backend or self.run_name.split("/")[0]
        return f"{base} {self.variant}".strip()

    @property
    def ok(self) -> bool:
        return bool(self.iterations)

    @property
    def status(self) -> str:
        """'ok', 'partial' (some repetitions failed), 'skipped' or 'failed'."""
        if self.iterations:
            return "partial" if self.errors else "ok"
        if self.errors and all(e.startswith("skipped") for e in self.errors):
            return "skipped"
        return "failed"

    @property
    def median_row(self) -> dict:
        return self.aggregates.get("median", {})

    @property
    def reps(self) -> int:
        return len(self.iterations)

    # --- values ---
    def rep_values(self, key: str) -> list:
        return [r[key] for r in self.iterations if isinstance(r.get(key), (int, float))]

    def median(self, key: str) -> float | None:
        """The median over repetitions: the _median row's value, else computed."""
        value = self.median_row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        values = self.rep_values(key)
        return float(statistics.median(values)) if values else None

    def interval(self, key: str) -> Interval | None:
        """The error bar of median(key): the harness's 95 % CI of the median when the file has
        one (issue 4's median_ci_* fields), else the range of the repetitions."""
        med = self.median_row
        lo_key, hi_key = CI_FIELDS.get(key, (None, None))
        if lo_key and _is_num(med.get(lo_key)) and _is_num(med.get(hi_key)):
            return Interval(float(med[lo_key]), float(med[hi_key]), "ci")
        if key == "bytes_per_second":
            lo_i, hi_i = CI_FIELDS["items_per_second"]
            items, bytes_ = med.get("items_per_second"), med.get("bytes_per_second")
            if _is_num(med.get(lo_i)) and _is_num(med.get(hi_i)) and _is_num(items) and items > 0 \
                    and _is_num(bytes_):
                per_item = float(bytes_) / float(items)
                return Interval(med[lo_i] * per_item, med[hi_i] * per_item, "ci")
        values = self.rep_values(key)
        if not values:
            return None
        return Interval(float(min(values)), float(max(values)), "range")

    def percentile(self, key: str) -> float | None:
        value = self.median_row.get(key)
        return float(value) if _is_num(value) else None

    @property
    def samples(self) -> int:
        value = self.median_row.get("latency_samples")
        return int(value) if _is_num(value) else 0

    def histogram(self):
        """Buckets [(lo, hi, count)] of the merged latency histogram, or None."""
        buckets = self.median_row.get("latency_histogram")
        if not isinstance(buckets, list) or not buckets:
            return None
        if not all(isinstance(b, list) and len(b) == 3 and all(_is_num(x) for x in b)
                   and b[2] >= 0 for b in buckets) or sum(b[2] for b in buckets) <= 0:
            return None  # not the harness's [lo, hi, count] buckets: treated as absent
        return buckets

    def cpu_per_message(self):
        """(user ns, system ns, source) per message, both peers together, or None.

        Prefers issue 4's per-message fields on the _median row (cpu_ns_per_msg_a/_b are
        user + system of each peer, sys_ns_per_msg_a/_b the system part); else the medians over
        repetitions of the getrusage totals (cpu_user_ns_a/_b, cpu_sys_ns_a/_b) divided by the
        repetition's messages (`iterations`), which is how the harness's cpu_time is made."""
        med = self.median_row
        keys = ("cpu_ns_per_msg_a", "cpu_ns_per_msg_b", "sys_ns_per_msg_a", "sys_ns_per_msg_b")
        if all(_is_num(med.get(k)) for k in keys):
            system = med["sys_ns_per_msg_a"] + med["sys_ns_per_msg_b"]
            total = med["cpu_ns_per_msg_a"] + med["cpu_ns_per_msg_b"]
            return max(total - system, 0.0), float(system), "per-message fields"
        users, systems = [], []
        for r in self.iterations:
            n = r.get("iterations")
            parts = [r.get(k) for k in ("cpu_user_ns_a", "cpu_user_ns_b", "cpu_sys_ns_a",
                                        "cpu_sys_ns_b")]
            if not _is_num(n) or n <= 0 or not all(_is_num(p) for p in parts):
                continue
            users.append((parts[0] + parts[1]) / n)
            systems.append((parts[2] + parts[3]) / n)
        if not users:
            return None
        return float(statistics.median(users)), float(statistics.median(systems)), "getrusage"

    @property
    def rate(self) -> float | None:
        """Offered rate of a paced case (msg/s)."""
        value = self.median_row.get("offered_rate")
        if not _is_num(value) and self.iterations:
            value = self.iterations[0].get("offered_rate")
        if _is_num(value):
            return float(value)
        return parse_count(str(self.params["rate"])) if "rate" in self.params else None

    def param_number(self, name: str, fields=()) -> float | None:
        """A numeric parameter from a row field (first of `fields` present) or the name."""
        for row in [self.median_row] + self.iterations[:1]:
            for f in fields:
                if _is_num(row.get(f)):
                    return float(row[f])
        if name in self.params:
            return parse_count(str(self.params[name]))
        return None

    def flag(self, key: str) -> bool:
        rows = [self.median_row] + self.iterations
        return any(r.get(key) is True for r in rows)

    def loss_pct(self) -> float | None:
        value = self.median_row.get("loss_pct")
        return float(value) if _is_num(value) else None


@dataclass(frozen=True)
class Backend:
    """One entry of context.backends."""

    name: str
    family: str = UNKNOWN_FAMILY
    in_process: bool = False
    lossy: bool = False


class Registry:
    """Backends in registry order: a file's context.backends (what `ipcperf run` writes, the
    order of harness/registry.cpp), then any backend its rows name that the list lacks, in the
    order of first appearance. A file without context.backends (written before the harness
    wrote it) is its rows' backends in that order, family "unknown". The position of a backend
    here is its place in legends and tables and picks its colour."""

    def __init__(self, backends=()):
        self._entries: dict = {}  # name -> Backend, in registry order
        for b in backends:
            self._entries.setdefault(b.name, b)
        self._positions = {name: i for i, name in enumerate(self._entries)}

    @classmethod
    def union(cls, registries) -> "Registry":
        """Several files' registries as one: each backend where it first appears."""
        return cls(b for reg in registries for b in reg)

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name) -> bool:
        return name in self._entries

    def names(self) -> list:
        return list(self._entries)

    def get(self, name: str) -> Backend | None:
        return self._entries.get(name)

    def position(self, name: str) -> int | None:
        """0-based place in the registry; None for a name it does not hold (a floor row's)."""
        return self._positions.get(name)

    def rank(self, name: str) -> tuple:
        """Sort key: registry order, names it does not hold after it alphabetically."""
        pos = self.position(name)
        return (0, pos, "") if pos is not None else (1, 0, name)


def _registry_entries(path: str, context: dict):
    """context.backends as Backend entries; None when the file has none."""
    raw = context.get("backends")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise DataError(f"{path}: context.backends is not a list of backends")
    entries = []
    for i, e in enumerate(raw):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"]:
            raise DataError(f"{path}: context.backends[{i}] is not a backend (expected an "
                            f"object with a \"name\")")
        family = e.get("family")
        entries.append(Backend(e["name"], family if isinstance(family, str) and family
                               else UNKNOWN_FAMILY, e.get("in_process") is True,
                               e.get("lossy") is True))
    return entries


def file_registry(path: str, context: dict, cases) -> Registry:
    """One file's Registry (see there) from its context and its cases."""
    entries = _registry_entries(path, context) or []
    rows = [Backend(c.backend, UNKNOWN_FAMILY, c.in_process, c.lossy) for c in cases
            if c.backend and not c.is_floor]
    return Registry(entries + rows)


def merged_registry(results) -> Registry:
    return Registry.union(r.registry for r in results)


def default_reference(results) -> str | None:
    """The speedup figures' reference when none is asked for: the first backend, in registry
    order, of the kernel family that has rows that passed (a file without context.backends:
    the family its rows name)."""
    row_family = {c.backend: c.family for r in results for c in r.cases if c.family}
    measured = {c.backend for r in results for c in r.cases if c.ok}
    for b in merged_registry(results):
        family = b.family if b.family != UNKNOWN_FAMILY else row_family.get(b.name)
        if family == REFERENCE_FAMILY and b.name in measured:
            return b.name
    return None


@dataclass
class Result:
    """One result file."""

    path: str
    context: dict
    cases: list
    tag: str = ""  # "A", "B", ... when several files are shown together
    label: str = ""  # host @ revision (file name added when two files would read the same)
    registry: Registry | None = None  # from context and cases when not given

    def __post_init__(self):
        if self.registry is None:
            self.registry = file_registry(self.path, self.context, self.cases)

    @property
    def warnings(self) -> list:
        w = self.context.get("warnings")
        return [str(x) for x in w] if isinstance(w, list) else []

    @property
    def host(self) -> str:
        return str(self.context.get("host_name") or "unknown host")

    @property
    def revision(self) -> str:
        rev = str(self.context.get("git_revision") or "unknown revision")
        # Seven hex digits, as git abbreviates; keep a -dirty or other suffix.
        head, sep, tail = rev.partition("-")
        if len(head) > 7 and all(ch in "0123456789abcdef" for ch in head):
            head = head[:7]
        return head + sep + tail

    def select(self, workload: str | None = None, ok_only: bool = True) -> list:
        return [c for c in self.cases
                if (workload is None or c.workload == workload) and (c.ok or not ok_only)]


def _is_num(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _split_name(run_name: str):
    """'pingpong/a-ring/wait:yield/size:64' -> ('pingpong', 'a-ring', {'wait': 'yield',
    'size': '64'}); 'floor/cacheline' -> ('floor', 'cacheline', {})."""
    parts = run_name.split("/")
    head = [p for p in parts if ":" not in p]
    params = {}
    for p in parts:
        if ":" in p:
            k, _, v = p.partition(":")
            params[k] = v
    workload = head[0] if head else ""
    backend = head[1] if len(head) > 1 else ""
    return workload, backend, params


def load(path: str) -> Result:
    """Reads one result file; DataError with a one-line reason when it cannot be used."""
    data = _read_json(path)
    cases: dict = {}
    for i, row in enumerate(data["benchmarks"]):
        _add_row(path, i, row, cases)
    if not cases:
        raise DataError(f"{path}: no ipcperf rows (Google Benchmark JSON from another program? "
                        f"expected names like pingpong/BACKEND/size:64)")
    # The registry, where the file has one, not the rows, says what a backend is.
    listed = {b.name: b for b in _registry_entries(path, data["context"]) or []}
    for case in cases.values():
        entry = listed.get(case.backend)
        if entry is not None:
            case.family, case.in_process, case.lossy = (entry.family, entry.in_process,
                                                         entry.lossy)
    return Result(path=path, context=data["context"], cases=list(cases.values()))


def _read_json(path: str) -> dict:
    """The file's JSON, checked to have a context and a non-empty benchmarks list."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a result file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a JSON file (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not a JSON file ({e.msg} at line {e.lineno}, "
                        f"column {e.colno})") from None
    except RecursionError:
        raise DataError(f"{path}: not a usable JSON file (nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list) \
            or not isinstance(data.get("context"), dict):
        raise DataError(f"{path}: not ipcperf / Google Benchmark JSON (expected an object with "
                        f"\"context\" and a \"benchmarks\" list)")
    if not data["benchmarks"]:
        raise DataError(f"{path}: the \"benchmarks\" list is empty: nothing was measured")
    return data


def _add_row(path: str, i: int, row, cases: dict) -> None:
    """Files benchmarks[i] under its case in `cases` (run_name -> Case); rows that are not
    ipcperf's are left out."""
    if not isinstance(row, dict) or not isinstance(row.get("name"), str):
        raise DataError(f"{path}: benchmarks[{i}] is not a benchmark row (no \"name\")")
    for key in ("real_time", "items_per_second", "bytes_per_second", "size_bytes",
                "iterations"):
        value = row.get(key)
        if value is not None and not (isinstance(value, (int, float))
                                      and not isinstance(value, bool)):
            raise DataError(f"{path}: {row['name']}: \"{key}\" is not a number")
    run_name = row.get("run_name")
    agg = row.get("aggregate_name") if row.get("run_type") == "aggregate" else None
    if not isinstance(run_name, str) or not run_name:
        run_name = row["name"]
        if agg and run_name.endswith("_" + str(agg)):
            run_name = run_name[: -len(str(agg)) - 1]
    workload, backend, params = _split_name(run_name)
    if isinstance(row.get("workload"), str) and row["workload"]:
        workload = row["workload"]
    if isinstance(row.get("backend"), str):
        backend = row["backend"]
    size = row.get("size_bytes")
    if not _is_num(size):
        size = parse_size(params["size"]) if "size" in params else None
    # A row is ours when it says what it measured: ipcperf's fields, or a name of the form
    # WORKLOAD/BACKEND/.../size:N. Other Google Benchmark rows (BM_foo/64) are not.
    if not (isinstance(row.get("workload"), str) or ("size" in params and backend)):
        return
    case = cases.get(run_name)
    if case is None:
        family = row.get("family") if isinstance(row.get("family"), str) else ""
        case = Case(run_name=run_name, workload=workload, backend=backend, family=family,
                    size=int(size) if size is not None else None, params=params)
        cases[run_name] = case
    case.in_process = case.in_process or row.get("in_process") is True
    case.lossy = case.lossy or row.get("lossy") is True
    if row.get("error_occurred") is True:
        case.errors.append(str(row.get("error_message") or "failed"))
    elif agg:
        case.aggregates[str(agg)] = row
    elif row.get("run_type", "iteration") == "iteration":
        case.iterations.append(row)


def load_all(paths) -> list:
    """Loads every file and gives each a tag (A, B, ...) and a label naming host and revision;
    when two labels would read the same, the file name is added."""
    results = [load(p) for p in paths]
    labels = [f"{r.host} @ {r.revision}" for r in results]
    for i, r in enumerate(results):
        r.tag = chr(ord("A") + i) if i < 26 else f"F{i + 1}"
        r.label = labels[i]
        if labels.count(labels[i]) > 1:
            r.label += f" ({os.path.basename(r.path)})"
    return results


def environment(context: dict) -> list:
    """(what, value) pairs describing the machine and build, for footnotes."""
    def get(key, default="not recorded"):
        value = context.get(key)
        return default if value in (None, "") else value

    smt = context.get("smt_siblings")
    pairs = [
        ("host", get("host_name")),
        ("CPU", f"{get('cpu_model')}, {get('num_cpus', '?')} CPUs"
                + (f", {context['mhz_per_cpu']} MHz" if _is_num(context.get("mhz_per_cpu"))
                   else "")),
        ("kernel", get("kernel")),
        ("pinning", f"CPUs {get('cpus_pinned')}"
                    + ("" if smt is None else (", SMT siblings" if smt else ", no SMT siblings"))),
        ("governor", get("governor")),
        ("virtualisation", get("virtualization")),
        ("build", f"{get('build_type')}, {get('compiler')} {get('compiler_flags', '')}".strip()),
        ("revision", f"{get('git_revision')} (ipcperf {get('ipcperf_version')})"),
        ("timer", f"{get('timer')}"
                  + (f", {context['timer_cost_ns']:.1f} ns per read"
                     if _is_num(context.get("timer_cost_ns")) else "")),
        ("run", f"{get('date')}; suite {get('suite')}, {get('reps', '?')} repetitions"
                + (f" × {context['measured_duration_s']} s"
                   if _is_num(context.get("measured_duration_s")) else "")
                + f", seed {get('seed')}"),
        ("command", get("command_line")),
    ]
    return pairs
