#!/usr/bin/env bash
# Everything CI checks, in one command (also what .ci/run runs):
#   1. build the release preset (tool, tests, micro-benchmarks)
#   2. ctest --preset release
#   3. build ring_test under ThreadSanitizer (preset tsan, that one target only) and run it:
#      TSan cannot follow shared memory across processes, so the ring is tested between threads
#   4. build unit_test and conformance_test under AddressSanitizer + UBSan (preset asan, those two
#      targets only) and run both; any report (memory error, leak, undefined behaviour) fails
#   5. the Python tests: /usr/bin/python3 -m pytest -q reports/tests
# Every step runs even if an earlier one failed (a step that needs a failed build is marked
# SKIP); a summary line per step closes the output. Exits 1 if any step failed.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit 0
fi

ipcperf_deps || exit 1
trap 'ipcperf_return_ownership build' EXIT

summary=()
failed=0
# Usage: step NAME COMMAND...  runs the command, records PASS/FAIL and its duration.
step() {
  local name=$1
  shift
  ipcperf_log "=== $name"
  local start=$SECONDS status=0
  "$@" || status=$?
  local took=$((SECONDS - start))
  if ((status == 0)); then
    summary+=("PASS  $name (${took}s)")
  else
    summary+=("FAIL  $name (${took}s, exit $status)")
    failed=1
  fi
  return "$status"
}
skip() { summary+=("SKIP  $1 ($2)"); }

# TSan's shadow memory needs a fixed address layout; on kernels with vm.mmap_rnd_bits > 28 the
# GCC 12 runtime dies with "unexpected memory mapping". Then run it again without ASLR.
run_ring_test_tsan() {
  local binary
  binary=$(find build/tsan -type f -name ring_test -perm -u+x -print -quit 2>/dev/null)
  if [[ -z $binary ]]; then
    ipcperf_log "ring_test was built but not found under build/tsan"
    return 1
  fi
  local log=build/tsan/ring_test.log status=0
  TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
    timeout 300 "$binary" 2>&1 | tee "$log" || status=$?
  if ((status != 0)) && grep -q 'unexpected memory mapping' "$log"; then
    ipcperf_log "TSan cannot map its shadow memory with this ASLR setting; rerunning without ASLR"
    status=0
    TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
      timeout 300 setarch "$(uname -m)" -R "$binary" || status=$?
  fi
  return "$status"
}

# The unit and conformance suites under ASan + UBSan. The conformance suite forks endpoint B; the
# children _exit(), so LeakSanitizer checks the test process only, where every channel is closed.
run_asan_tests() {
  local status=0 t
  for t in unit_test conformance_test; do
    if [[ ! -x build/asan/tests/$t ]]; then
      ipcperf_log "$t was built but not found under build/asan/tests"
      status=1
      continue
    fi
    ipcperf_log "--- $t under ASan + UBSan"
    ASAN_OPTIONS="halt_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
      UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
      timeout 600 "build/asan/tests/$t" --gtest_brief=1 || status=$?
  done
  return "$status"
}

run_pytest() {
  local status=0
  # No .pytest_cache or __pycache__ in the source tree.
  PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider reports/tests || status=$?
  if ((status == 5)); then
    # 5 = no tests collected: only an error if there are test files that failed to yield tests.
    if [[ -n $(find reports/tests -name 'test_*.py' -o -name '*_test.py' | head -n 1) ]]; then
      ipcperf_log "pytest collected no tests although reports/tests has test files"
      return 5
    fi
    ipcperf_log "reports/tests has no test files yet"
    return 0
  fi
  return "$status"
}

if step "build release" scripts/build.sh release; then
  step "ctest release" ctest --preset release --output-on-failure || true
else
  skip "ctest release" "release build failed"
fi

if step "build tsan ring_test" scripts/build.sh tsan --target ring_test; then
  step "ring_test under ThreadSanitizer" run_ring_test_tsan || true
else
  skip "ring_test under ThreadSanitizer" "tsan build failed"
fi

if step "build asan unit_test conformance_test" \
  scripts/build.sh asan --target unit_test conformance_test; then
  step "unit_test, conformance_test under ASan + UBSan" run_asan_tests || true
else
  skip "unit_test, conformance_test under ASan + UBSan" "asan build failed"
fi

if [[ -d reports/tests ]]; then
  step "pytest reports/tests" run_pytest || true
else
  skip "pytest reports/tests" "no reports/tests directory"
fi

ipcperf_log "summary:"
printf '  %s\n' "${summary[@]}" >&2
if ((failed)); then
  ipcperf_log "FAILED"
  exit 1
fi
ipcperf_log "all steps passed"
