#!/usr/bin/env bash
# The one-command benchmark: install what is missing, build the release preset, run the quick
# suite, then draw the charts and the report.
#
#   scripts/bench.sh [extra `ipcperf run` args...]
#
# Writes results/quick-<UTC time>.json and .csv, the charts (PDF, SVG, PNG) in
# results/quick-<UTC time>-charts/ and the report (report.md, report.html) in
# results/quick-<UTC time>-report/, next to the JSON; results/latest.json, latest.csv, charts and
# report point at the newest. Prints where they are. Exits with ipcperf's status (1 if a case
# failed); if ipcperf succeeded but a chart or report script failed, exits 1 too.
#
# IPCPERF_SUITE=ci scripts/bench.sh runs another suite (file names follow it).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

ipcperf_help "${BASH_SOURCE[0]}" 2 13 "${1:-}"

ipcperf_deps || exit 1
trap 'ipcperf_return_ownership build results' EXIT

# Only the tool: the benchmark needs nothing else, and scripts/test.sh builds the rest.
scripts/build.sh release --target ipcperf

suite=${IPCPERF_SUITE:-quick}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p results
# Never reuse a name: a stale file from a run in the same second would pass for this run's.
name=$suite-$stamp
n=1
while [[ -e results/$name.json || -e results/$name.csv ]]; do
  n=$((n + 1))
  name=$suite-$stamp-$n
done
json=results/$name.json
csv=results/$name.csv

ipcperf_log "running: build/release/ipcperf run --suite $suite --out $json --csv $csv $*"
status=0
build/release/ipcperf run --suite "$suite" --out "$json" --csv "$csv" "$@" || status=$?
if ((status != 0)); then
  ipcperf_log "ipcperf exited with status $status"
fi

if [[ ! -s $json ]]; then
  ipcperf_log "no results written to $json; results/latest.json left as it was"
  exit $((status != 0 ? status : 1))
fi

# Relative links, so that results/ can be moved or copied as a whole.
ln -sfn "$(basename "$json")" results/latest.json
if [[ -s $csv ]]; then
  ln -sfn "$(basename "$csv")" results/latest.csv
fi

# Headless plotting, and no __pycache__ owned by root next to the sources.
export MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1
charts=results/$name-charts
report=results/$name-report
post_failed=0
# results/charts and results/report follow the newest run, like latest.json; a real directory of
# that name (from an older bench.sh) is left alone.
link_latest() {
  if [[ -L results/$2 || ! -e results/$2 ]]; then
    ln -sfn "$(basename "$1")" "results/$2"
  fi
}
# Usage: post SCRIPT WHAT DIR LINK  runs reports/SCRIPT on the JSON into DIR and points
# results/LINK at it; a missing or failed script is said, and a failure fails the run.
post() {
  local script=reports/$1 what=$2 dir=$3 link=$4
  if [[ ! -f $script ]]; then
    ipcperf_log "skipping $what: $script does not exist"
    return
  fi
  ipcperf_log "writing $what into $dir"
  if /usr/bin/python3 "$script" "$json" -o "$dir"; then
    link_latest "$dir" "$link"
  else
    ipcperf_log "$script failed"
    post_failed=1
  fi
}
post plot.py "the charts" "$charts" charts
post report.py "the report" "$report" report

ipcperf_log "results:"
printf '  JSON    %s/%s  (results/latest.json)\n' "$repo_root" "$json" >&2
if [[ -s $csv ]]; then
  printf '  CSV     %s/%s  (results/latest.csv)\n' "$repo_root" "$csv" >&2
fi
if [[ -f $charts/index.md ]]; then
  printf '  charts  %s/%s/  (index.md lists each figure with a caption)\n' "$repo_root" \
    "$charts" >&2
fi
if [[ -f $report/report.html ]]; then
  printf '  report  %s/%s/report.html  (and report.md)\n' "$repo_root" "$report" >&2
fi

if ((status == 1)); then
  ipcperf_log "FAILED: at least one case failed (see above); exit status 1"
  exit 1
elif ((status != 0)); then
  ipcperf_log "FAILED: ipcperf exited with status $status (see above)"
  exit "$status"
fi
if ((post_failed)); then
  ipcperf_log "FAILED: the benchmark ran, but a chart or report script failed"
  exit 1
fi
