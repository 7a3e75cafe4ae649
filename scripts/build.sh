#!/usr/bin/env bash
# Configures and builds one CMake preset (CMakePresets.json) into build/<preset> with Ninja.
#
#   scripts/build.sh [PRESET] [cmake --build args...]
#
#   scripts/build.sh                        release: the tool, tests and micro-benchmarks
#   scripts/build.sh asan                   Debug + AddressSanitizer/UBSan, tests only
#   scripts/build.sh tsan --target ring_test
#
# Presets: release (default), debug, asan, tsan. Missing Debian packages are installed first
# (scripts/deps.sh).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh

preset=release
if (($# > 0)) && [[ $1 != -* ]]; then
  preset=$1
  shift
fi
ipcperf_help "${BASH_SOURCE[0]}" 2 10 "${1:-}"

ipcperf_deps || exit 1
trap 'ipcperf_return_ownership build' EXIT

jobs=$(nproc 2>/dev/null || echo 2)
ipcperf_log "configuring preset '$preset' in build/$preset"
cmake --preset "$preset"
ipcperf_log "building preset '$preset' with $jobs jobs${*:+ ($*)}"
cmake --build --preset "$preset" -j"$jobs" "$@"

# Say where the binaries are. After a partial build (--target ...) only the tool is named, as
# another binary there may be stale.
if [[ -x build/$preset/ipcperf ]]; then
  ipcperf_log "the tool: $repo_root/build/$preset/ipcperf"
fi
if (($# == 0)) && [[ -x build/$preset/ipcperf_micro ]]; then
  ipcperf_log "micro-benchmarks: $repo_root/build/$preset/ipcperf_micro"
fi
