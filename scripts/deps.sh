#!/usr/bin/env bash
# Installs the Debian 12 packages that ipcperf needs to build, test and plot.
#
#   scripts/deps.sh            install what is missing (as root, or via passwordless sudo)
#   scripts/deps.sh --check    only report; exit 1 if something is missing
#
# The other scripts source this file and call ipcperf_deps. When everything is installed it
# runs one dpkg-query and nothing else (no apt-get, no network), so it is cheap to call often.
#
# Environment:
#   IPCPERF_DEPS_EXTRA  space-separated packages added to the list. Used to test the install
#                       paths (e.g. IPCPERF_DEPS_EXTRA=hello scripts/deps.sh --check), or to
#                       pull in optional tools (IPCPERF_DEPS_EXTRA="clang-tidy clang-format").
#   IPCPERF_SKIP_DEPS=1 skip the check entirely: for systems that are not Debian, where you
#                       installed the equivalents yourself.
#   IPCPERF_DEPS_OK=1   set (and exported) by ipcperf_deps after a successful check, so that
#                       scripts started from a script do not check again.

IPCPERF_DEPS_PACKAGES=(
  build-essential cmake ninja-build git pkg-config
  libbenchmark-dev libbenchmark-tools libboost-dev libconcurrentqueue-dev
  libreaderwriterqueue-dev libgtest-dev googletest libcli11-dev nlohmann-json3-dev libfmt-dev
  python3-matplotlib python3-numpy python3-pytest python3-scipy
)

ipcperf_log() { printf 'ipcperf: %s\n' "$*" >&2; }

# Usage: ipcperf_help SCRIPT FIRST LAST [ARG]  when ARG is -h or --help, prints lines FIRST..LAST
# of SCRIPT's header comment without the "# " and exits 0.
ipcperf_help() {
  if [[ ${4:-} == -h || ${4:-} == --help ]]; then
    sed -n "$2,$3s/^# \{0,1\}//p" "$1"
    exit 0
  fi
}

# Prints, one per line, the packages of "$@" that dpkg does not report as installed.
# "hold ok installed" counts as installed: a held package is present, it just is not upgraded.
ipcperf_deps_missing() {
  local -A installed=()
  local name want flag state
  # One dpkg-query for all names; unknown names only produce a complaint on stderr.
  while read -r name want flag state; do
    if [[ $flag == ok && $state == installed && ($want == install || $want == hold) ]]; then
      installed[$name]=1
    fi
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true)
  local pkg
  for pkg in "$@"; do
    [[ -n ${installed[$pkg]:-} ]] || printf '%s\n' "$pkg"
  done
}

# True when the apt package lists are missing, or when apt-get update last ran over a day ago.
# File mtimes are no clock for that: apt stamps each list with the mirror's Last-Modified (weeks
# old for a stable release) and leaves unchanged lists alone. What a run of apt-get update does
# change is the lists/ and lists/partial/ directories (it downloads there and renames files in).
ipcperf_apt_lists_stale() {
  local lists=/var/lib/apt/lists
  [[ -n $(find "$lists" -maxdepth 1 -type f -name '*_Packages*' -print -quit 2>/dev/null) ]] ||
    return 0
  [[ -z $(find "$lists" "$lists/partial" -maxdepth 0 -mmin -1440 -print -quit 2>/dev/null) ]]
}

# Usage: ipcperf_deps [--check]. Returns non-zero (after saying why) when packages are missing
# and cannot be installed; never exits the calling shell itself.
ipcperf_deps() {
  local check_only=0
  case ${1:-} in
    --check) check_only=1 ;;
    '') ;;
    -h | --help)
      sed -n '2,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
      return 0
      ;;
    *)
      ipcperf_log "deps: unknown argument '$1' (usage: scripts/deps.sh [--check])"
      return 2
      ;;
  esac

  if [[ ${IPCPERF_SKIP_DEPS:-0} == 1 ]]; then
    ipcperf_log "dependencies: not checked (IPCPERF_SKIP_DEPS=1)"
    return 0
  fi
  if [[ ${IPCPERF_DEPS_OK:-0} == 1 && $check_only == 0 ]]; then
    return 0
  fi

  local -a wanted=("${IPCPERF_DEPS_PACKAGES[@]}")
  local -a extra=()
  # Word splitting is the point: IPCPERF_DEPS_EXTRA is a space-separated list.
  read -r -a extra <<<"${IPCPERF_DEPS_EXTRA:-}"
  wanted+=("${extra[@]}")

  if ! command -v dpkg-query >/dev/null 2>&1; then
    ipcperf_log "dpkg-query not found: scripts/deps.sh only knows Debian 12 (bookworm) packages."
    ipcperf_log "install the equivalents of: ${wanted[*]}"
    ipcperf_log "then rerun with IPCPERF_SKIP_DEPS=1."
    return 1
  fi

  local -a missing=()
  mapfile -t missing < <(ipcperf_deps_missing "${wanted[@]}")
  if ((${#missing[@]} == 0)); then
    ipcperf_log "dependencies: all ${#wanted[@]} Debian packages installed"
    export IPCPERF_DEPS_OK=1
    return 0
  fi

  local install_line="apt-get install -y --no-install-recommends ${missing[*]}"
  if ((check_only)); then
    ipcperf_log "dependencies: missing ${missing[*]}"
    ipcperf_log "install them with: sudo $install_line"
    return 1
  fi

  # apt-get through the right door: directly as root, else passwordless sudo, else tell the user.
  local -a as_root=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      as_root=(sudo -n)
    else
      ipcperf_log "missing Debian packages: ${missing[*]}"
      ipcperf_log "not root and no passwordless sudo; run this, then rerun the script:"
      printf '  sudo %s\n' "$install_line" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    ipcperf_log "apt-get not found; install these packages yourself: ${missing[*]}"
    return 1
  fi

  if [[ -r /etc/os-release ]]; then
    local os_id='' os_version=''
    # shellcheck disable=SC1091 # a system file, read in a subshell
    read -r os_id os_version < <(. /etc/os-release && printf '%s %s\n' "${ID:-}" "${VERSION_ID:-}") ||
      true
    if [[ $os_id != debian || $os_version != 12 ]]; then
      ipcperf_log "note: the package list is written for Debian 12; this is ${os_id} ${os_version}"
    fi
  fi

  ipcperf_log "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  # env instead of VAR=value: sudo may refuse to pass variables given on its command line.
  local -a apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q
    -o DPkg::Lock::Timeout=300)
  local updated=0
  if ipcperf_apt_lists_stale; then
    ipcperf_log "apt package lists are empty or over a day old: running apt-get update"
    "${apt[@]}" update || {
      ipcperf_log "apt-get update failed"
      return 1
    }
    updated=1
  fi
  if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
    if ((updated)); then
      ipcperf_log "apt-get install failed for: ${missing[*]}"
      return 1
    fi
    ipcperf_log "apt-get install failed; refreshing the package lists and trying once more"
    if ! "${apt[@]}" update || ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
    then
      ipcperf_log "apt-get install failed for: ${missing[*]}"
      return 1
    fi
  fi

  mapfile -t missing < <(ipcperf_deps_missing "${wanted[@]}")
  if ((${#missing[@]} != 0)); then
    ipcperf_log "still not installed after apt-get: ${missing[*]}"
    return 1
  fi
  ipcperf_log "dependencies: installed; all ${#wanted[@]} Debian packages present"
  export IPCPERF_DEPS_OK=1
}

# Usage: ipcperf_return_ownership PATH...  (paths relative to the repo root, the cwd).
# Under `sudo scripts/bench.sh`, build/ and results/ would otherwise end up owned by root and
# the user could no longer rebuild or delete them without sudo. When we run as root through sudo
# in a checkout that belongs to the invoking user, hand the given trees back to that user.
ipcperf_return_ownership() {
  ((EUID == 0)) && [[ -n ${SUDO_UID:-} && -n ${SUDO_GID:-} ]] || return 0
  [[ $(stat -c %u .) == "$SUDO_UID" ]] || return 0
  local path
  for path in "$@"; do
    if [[ -e $path ]]; then
      chown -R "$SUDO_UID:$SUDO_GID" -- "$path" || true
    fi
  done
}

# Run directly (not sourced): do the work and exit with its status.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  ipcperf_deps "$@"
fi
