#!/usr/bin/python3
"""Fault matrix: every backend under every fault the supervisor must survive, as a table.

For each backend and fault it runs one `ipcperf run` (pingpong, 64 B, one long repetition), injects
the fault about a second in, and records the exit status, the time from the fault to the end of
the run, the one line that names the cause, and what was left behind: POSIX shm and queues, System
V queues, private directories, and peer processes. It is a check for people changing the
supervisor, not part of the test command (it takes minutes): the tests assert each behaviour on a
few backends; this runs all of them.

    scripts/fault-matrix.py [--ipcperf build/release/ipcperf] [--backends pipe,tcp] [--faults kill-a]

Exit 0 when every row is as expected, 1 otherwise (the table marks the rows that are not).
Run as the user the results are for; the leftover counts look at that user's objects only.
"""
import argparse
import os
import resource
import signal
import subprocess
import sys
import time

SIGNALS = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sighup": signal.SIGHUP,
           "sigquit": signal.SIGQUIT, "sigusr1": signal.SIGUSR1, "sigusr2": signal.SIGUSR2,
           "sigalrm": signal.SIGALRM, "sigpipe": signal.SIGPIPE}
FAULTS = ["kill-a", "kill-b", "stop-b", "sup-kill", *SIGNALS, "nofile-8", "nofile-16"]
EXPECT = {  # fault -> the exit statuses a correct run gives
    "kill-a": (1,), "kill-b": (1,), "stop-b": (1,), "sup-kill": (-9,),
    **{name: (128 + int(sig),) for name, sig in SIGNALS.items()},
    # Ignored on purpose: a reader of stdout that quits must not cost the files (EPIPE is handled
    # where it occurs), so a SIGPIPE sent by hand is ignored too and the run goes on.
    "sigpipe": (0,),
    # A backend that needs few descriptors runs; one that needs more fails its case naming the limit.
    "nofile-8": (0, 1), "nofile-16": (0, 1),
}
NAMES = {  # (fault, exit) -> words the cause must contain
    ("kill-a", 1): ("peer A", "SIGKILL"), ("kill-b", 1): ("peer B", "SIGKILL"),
    ("stop-b", 1): ("peer B",), ("nofile-8", 1): ("ulimit -n",), ("nofile-16", 1): ("ulimit -n",),
}


def sysv_queues():
    """Ids of the System V queues this user owns."""
    uid, ids = os.geteuid(), set()
    try:
        with open("/proc/sysvipc/msg") as f:
            next(f)
            for line in f:
                p = line.split()
                if int(p[7]) == uid:  # key msqid perms cbytes qnum lspid lrpid uid ...
                    ids.add(p[1])
    except OSError:
        pass
    return ids


def private_dirs():
    roots = [f"{os.environ.get('TMPDIR', '/tmp')}/ipcperf-{os.geteuid()}"]
    x = os.environ.get("XDG_RUNTIME_DIR")
    if x:
        roots.append(f"{x}/ipcperf")
    found = []
    for r in roots:
        try:
            found += [f"{r}/{n}" for n in os.listdir(r) if n.startswith("ipcperf-")]
        except OSError:
            pass
    try:  # the fallback place when no personal root can be used
        found += [f"/tmp/{n}" for n in os.listdir("/tmp")
                  if n.startswith("ipcperf-") and "-d" in n]
    except OSError:
        pass
    return found


def peer_pids():
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if len(argv) > 1 and argv[0].endswith(b"ipcperf") and argv[1] == b"peer":
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                pids.append((int(d), ppid))
        except OSError:
            pass
    return pids


def snapshot():
    ls = lambda d: {n for n in os.listdir(d) if n.startswith("ipcperf-")} if os.path.isdir(d) else set()
    return {"shm": ls("/dev/shm"), "mq": ls("/dev/mqueue"), "msq": sysv_queues(),
            "dirs": set(private_dirs()), "peers": {p for p, _ in peer_pids()}}


def leftovers(before):
    now = snapshot()
    out = []
    for k in ("shm", "mq", "msq", "dirs", "peers"):
        extra = now[k] - before[k]
        if extra:
            out.append(f"{len(extra)} {k}")
    return ", ".join(out)


def cause(stdout, stderr):
    """The line that says why the case failed (the table's FAILED cell), or why the run stopped."""
    rows = stdout.splitlines()
    for i, l in enumerate(rows):
        if "FAILED:" in l:
            text = l.split("FAILED:", 1)[1].strip()
            for cont in rows[i + 1:]:  # the cell's wrapped lines
                if not cont.startswith(" ") or not cont.strip():
                    break
                text += " " + cont.strip()
            return text
    lines = [l for l in stderr.splitlines() if l.strip() and not l.startswith("warning:")]
    for key in ("failed", "error", "timed out", "interrupted", "stopped", "killed", "signal"):
        for l in lines:
            if key in l.lower() and "removed a stale" not in l:
                return l.strip()
    return lines[-1].strip() if lines else ""


def children_of(pid, deadline):
    while time.monotonic() < deadline:
        kids = sorted(p for p, pp in peer_pids() if pp == pid)
        if len(kids) >= 2:
            return kids
        time.sleep(0.02)
    return []


def one(ipcperf, backend, fault):
    before = snapshot()
    cmd = [ipcperf, "run", "--backends", backend, "--workloads", "pingpong", "--sizes", "64",
           "--reps", "1", "--duration", "2s" if fault.startswith("nofile-") else "6s", "--no-floor", "--seed", "1", "--wide"]
    if fault == "stop-b":
        cmd += ["--timeout", "3"]
    pre = None
    if fault.startswith("nofile-"):
        n = int(fault.split("-")[1])
        pre = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=pre)
    t_fault = time.monotonic()
    note = ""
    if not fault.startswith("nofile-"):
        kids = children_of(p.pid, time.monotonic() + 10)
        time.sleep(1.0)
        t_fault = time.monotonic()
        if fault in ("kill-a", "kill-b", "stop-b") and len(kids) < 2:
            note = "no peers seen"
        elif fault == "kill-a":
            os.kill(kids[0], signal.SIGKILL)
        elif fault == "kill-b":
            os.kill(kids[1], signal.SIGKILL)
        elif fault == "stop-b":
            os.kill(kids[1], signal.SIGSTOP)
        elif fault == "sup-kill":
            os.kill(p.pid, signal.SIGKILL)
        else:
            os.kill(p.pid, SIGNALS[fault])
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        note = "HUNG (killed after 30 s)"
    took = time.monotonic() - t_fault
    line = cause(out, err)
    if fault == "sup-kill":
        time.sleep(0.3)  # PDEATHSIG: the peers die with the supervisor
        left = leftovers(before)
        c = subprocess.run([ipcperf, "clean"], capture_output=True, text=True)
        said = (c.stdout + c.stderr).splitlines()
        removed = sum(1 for l in said if l.startswith("removed") or "removed a stale" in l)
        line = (f"left until clean: {left or 'nothing'}; "
                f"ipcperf clean (exit {c.returncode}) removed {removed}")
        left = leftovers(before)
    else:
        time.sleep(0.1)
        left = leftovers(before)
    ok = (p.returncode in EXPECT[fault] and not left and not note
          and all(w in line for w in NAMES.get((fault, p.returncode), ())))
    return {"backend": backend, "fault": fault, "rc": p.returncode, "s": took, "left": left,
            "line": note or line, "ok": ok}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ipcperf", default="build/release/ipcperf")
    ap.add_argument("--backends", default="")
    ap.add_argument("--faults", default=",".join(FAULTS))
    ap.add_argument("--width", type=int, default=90, help="characters of the cause column")
    a = ap.parse_args()
    if not os.access(a.ipcperf, os.X_OK):
        print(f"fault-matrix: {a.ipcperf} is not an executable (build first: scripts/build.sh)",
              file=sys.stderr)
        return 2
    faults = a.faults.split(",")
    bad = [f for f in faults if f not in FAULTS]
    if bad:
        print(f"fault-matrix: unknown fault {bad[0]} (known: {', '.join(FAULTS)})", file=sys.stderr)
        return 2
    if a.backends:
        backends = a.backends.split(",")
    else:  # every backend with processes (the in-process ones have no peers to kill)
        out = subprocess.run([a.ipcperf, "list"], capture_output=True, text=True).stdout
        backends = [l.split()[0] for l in out.splitlines()[1:]
                    if l.strip() and len(l.split()) > 1 and l.split()[1] in ("shared", "kernel")]
    rows = []
    print(f"{'backend':<15} {'fault':<10} {'exit':>4} {'ms':>6}  {'left':<8} cause", flush=True)
    for b in backends:
        for f in faults:
            r = one(a.ipcperf, b, f)
            rows.append(r)
            mark = "" if r["ok"] else "  <-- UNEXPECTED"
            print(f"{b:<15} {f:<10} {r['rc']:>4} {r['s'] * 1e3:6.0f}  {r['left'] or 'nothing':<8} "
                  f"{r['line'][:a.width]}{mark}", flush=True)
    bad = [r for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} rows as expected", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
