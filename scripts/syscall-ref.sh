#!/usr/bin/env bash
# Harness overhead check: ipcperf's pingpong round trip for each kernel backend next to a
# minimal hand-written loop of the same system calls (build/release/ipcperf_syscall_ref), on the
# same two pinned CPUs. Prints one table: backend, size, both medians, their ratio, and whether
# ipcperf is within 10 % of the reference.
#
#   scripts/syscall-ref.sh [--backends LIST] [--sizes LIST] [--reps N] [--cpus A,B]
#                          [--duration SECONDS] [--out DIR]
#
#   --backends   comma list (default: pipe,fifo,uds-stream,uds-dgram,uds-seqpacket,tcp,udp,
#                posix-mq,sysv-mq); one not registered in ipcperf yet shows "not in ipcperf"
#   --sizes      message sizes in bytes, K/M suffixes (default 64)
#   --reps       rounds = repetitions of each tool per backend; medians are compared (default 5)
#   --cpus       the two CPUs A,B (default: the first two this process may use)
#   --duration   measured seconds per repetition: ipcperf --duration, the reference's
#                --benchmark_min_time (default 0.2)
#   --out        directory for the JSON files and the table (default results/syscall-ref-<UTC>)
#
# The two tools run interleaved: in each of N rounds, every backend gets one repetition of
# ipcperf and one of the reference back to back, alternating which goes first, so that a slow
# drift of the machine affects both alike. Medians are taken over the rounds.
# Exit status: 0 when every compared row is within 10 %, 1 when one is not or a run failed,
# 2 on a usage error.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

backends=pipe,fifo,uds-stream,uds-dgram,uds-seqpacket,tcp,udp,posix-mq,sysv-mq
sizes=64
reps=5
cpus=
duration=0.2
out=
usage() { sed -n '2,23s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while (($# > 0)); do
  case $1 in
    --backends | --sizes | --reps | --cpus | --duration | --out)
      if (($# < 2)); then
        ipcperf_log "syscall-ref: $1 needs a value"
        exit 2
      fi
      declare "${1#--}=$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      ipcperf_log "syscall-ref: unknown argument '$1'"
      usage >&2
      exit 2
      ;;
  esac
done
if [[ ! $reps =~ ^[1-9][0-9]*$ ]]; then
  ipcperf_log "syscall-ref: --reps '$reps' is not a positive number"
  exit 2
fi
if [[ ! $duration =~ ^[0-9]*\.?[0-9]+$ ]]; then
  ipcperf_log "syscall-ref: --duration '$duration' is not a number of seconds"
  exit 2
fi
if [[ -z $cpus ]]; then
  cpus=$(/usr/bin/python3 -c 'import os; c = sorted(os.sched_getaffinity(0)); print(f"{c[0]},{c[1] if len(c) > 1 else c[0]}")')
fi

ipcperf_deps || exit 1
trap 'ipcperf_return_ownership build results' EXIT
scripts/build.sh release --target ipcperf ipcperf_syscall_ref >&2

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${out:-results/syscall-ref-$stamp}
mkdir -p "$out"
ipcperf=build/release/ipcperf
ref=build/release/ipcperf_syscall_ref
"$ipcperf" list --json >"$out/list.json"

# A backend's sizes that ipcperf accepts (the others would make it refuse the whole plan);
# empty when the backend is not registered.
accepted_sizes() {
  /usr/bin/python3 - "$out/list.json" "$1" "$sizes" <<'EOF'
import json, sys
listing, name, sizes = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
def parse(s):
    mult = {"k": 1024, "m": 1024 * 1024}.get(s[-1:].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult
for b in listing:
    if b["name"] == name and b.get("available", True):
        print(",".join(s for s in sizes.split(",") if parse(s) <= b["max_message_bytes"]))
EOF
}

ipcperf_log "CPUs $cpus, sizes $sizes, $reps rounds of $duration s per tool and backend; results in $out"
status=0
IFS=, read -r -a backend_list <<<"$backends"
run_ipcperf() { # backend round
  local s
  s=$(accepted_sizes "$1")
  [[ -n $s ]] || return 0
  "$ipcperf" run --backends "$1" --workloads pingpong --sizes "$s" --reps 1 \
    --duration "${duration}s" --cpus "$cpus" --no-floor --quiet --out "$out/ipcperf-$1-$2.json" ||
    status=1
}
run_ref() { # backend round
  "$ref" --cpus "$cpus" --sizes "$sizes" --benchmark_filter="^syscall_ref/$1/" \
    --benchmark_repetitions=1 --benchmark_min_time="$duration" \
    --benchmark_out="$out/ref-$1-$2.json" --benchmark_out_format=json >"$out/ref-$1-$2.log" 2>&1 ||
    status=1
}
for ((round = 0; round < reps; round++)); do
  ipcperf_log "round $((round + 1)) of $reps: ${backends//,/ }"
  i=0
  for b in "${backend_list[@]}"; do
    if (((i + round) % 2 == 0)); then
      run_ipcperf "$b" "$round"
      run_ref "$b" "$round"
    else
      run_ref "$b" "$round"
      run_ipcperf "$b" "$round"
    fi
    i=$((i + 1))
  done
done

table_status=0
/usr/bin/python3 - "$out" "$backends" "$sizes" "$cpus" "$reps" >"$out/table.txt" <<'EOF' ||
import json, os, re, statistics, sys

out, backends, sizes, cpus, reps = sys.argv[1:6]
backends = backends.split(",")


def parse_size(s):
    mult = {"k": 1024, "m": 1024 * 1024}.get(s[-1:].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


sizes = [parse_size(s) for s in sizes.split(",")]
to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def rows(prefix, key_of):
    """{(backend, size): {"median": ns, "cv": fraction, "n": count, "error": message}} from the
    per-repetition rows of every Google-Benchmark-schema file <prefix>-<round>.json."""
    values, res = {}, {}
    for name in sorted(os.listdir(out)):
        if not re.fullmatch(re.escape(prefix) + r"-\d+\.json", name):
            continue
        for r in (load(os.path.join(out, name)) or {}).get("benchmarks", []):
            key = key_of(r)
            if key is None or r.get("run_type", "iteration") != "iteration":
                continue
            if r.get("error_occurred"):
                res.setdefault(key, {}).setdefault("error", r.get("error_message", "error"))
            else:
                values.setdefault(key, []).append(r["real_time"] * to_ns[r.get("time_unit", "ns")])
    for key, v in values.items():
        e = res.setdefault(key, {})
        e["median"], e["n"] = statistics.median(v), len(v)
        if len(v) > 1:
            e["cv"] = statistics.stdev(v) / statistics.mean(v)
    return res


def ipcperf_key(r):
    if "backend" in r and "size_bytes" in r:
        return (r["backend"], int(r["size_bytes"]))
    m = re.match(r"pingpong/([^/]+)/size:(\d+)", r.get("run_name", r.get("name", "")))
    return (m[1], int(m[2])) if m else None


def ref_key(r):
    m = re.match(r"syscall_ref/([^/]+)/size:(\d+)", r.get("run_name", r.get("name", "")))
    return (m[1], int(m[2])) if m else None


def human(ns):
    return f"{ns / 1e3:.1f} µs" if ns >= 1e3 else f"{ns:.0f} ns"


def cell(e, missing, key, notes):
    if e is None:
        return missing
    if "median" in e:
        cv = f" ±{e['cv'] * 100:.0f}%" if "cv" in e else ""
        return human(e["median"]) + cv
    notes.append(f"{key}: {e.get('error', 'no result')}")
    return f"skipped or failed [{len(notes)}]"


listing = {b["name"]: b for b in load(os.path.join(out, "list.json")) or []}
table = [("backend", "size", "ipcperf median", "reference median", "ratio", "within 10 %?")]
notes, bad = [], False
for b in backends:
    ip = rows(f"ipcperf-{b}", ipcperf_key)
    rf = rows(f"ref-{b}", ref_key)
    for s in sizes:
        ie, re_ = ip.get((b, s)), rf.get((b, s))
        if b not in listing:
            icell = "not in ipcperf"
        elif not listing[b].get("available", True):
            icell = "unavailable: " + listing[b].get("unavailable_reason", "")
        elif s > listing[b]["max_message_bytes"]:
            icell = f"refused (max {listing[b]['max_message_bytes']} B)"
        else:
            icell = cell(ie, "no result", f"ipcperf {b}/size:{s}", notes)
        rcell = cell(re_, "no result", f"reference {b}/size:{s}", notes)
        ratio, verdict = "", ""
        if ie and re_ and "median" in ie and "median" in re_:
            q = ie["median"] / re_["median"]
            ratio = f"{q:.2f}"
            if ie["n"] < int(reps) or re_["n"] < int(reps):
                ratio += f" (n={ie['n']}/{re_['n']})"
            if 0.9 <= q <= 1.1:
                verdict = "yes"
            else:
                verdict = "NO (slower)" if q > 1.1 else "NO (faster: noise?)"
                bad = True
        elif b in listing and s <= listing[b].get("max_message_bytes", 0) and (
            ie is None or "median" not in ie
        ):
            bad = True  # ipcperf should have produced this row
        table.append((b, str(s), icell, rcell, ratio, verdict))

widths = [max(len(r[c]) for r in table) for c in range(len(table[0]))]
for n, r in enumerate(table):
    print("  ".join(v.ljust(w) if c < 2 else v.rjust(w) for c, (v, w) in enumerate(zip(r, widths))).rstrip())
    if n == 0:
        print("-" * (sum(widths) + 2 * (len(widths) - 1)))
print(
    f"\npingpong round trips (one-way latency = RTT/2) between CPUs {cpus}; medians of {reps} "
    "repetitions per tool, each a fresh pair of processes; ±: coefficient of variation of the "
    "repetitions.\n"
    "ratio = ipcperf / reference. The reference is the minimal loop of the same system calls "
    "(build/release/ipcperf_syscall_ref): no framing, no verification, no sampling clock.\n"
    "The two tools ran interleaved: one repetition of each per backend and round, back to back, "
    "alternating which went first, so that drift of the machine affects both alike."
)
for n, text in enumerate(notes, 1):
    print(f"[{n}] {text}")
sys.exit(1 if bad else 0)
EOF
  table_status=$?
cat "$out/table.txt"
ipcperf_log "table: $out/table.txt; JSON per round: $out/ipcperf-*-N.json, $out/ref-*-N.json (.log: the reference's output)"
if ((status != 0 || table_status != 0)); then
  ipcperf_log "not every row is within 10 % (or a run failed): see above"
  exit 1
fi
