// The hidden `ipcperf peer --control-fd N` role: one process of a case, spawned by the
// supervisor. It reads its JOB from the control descriptor, attaches to the prepared objects (or
// runs its floor), reports READY, waits for GO, runs the workload and reports its outcome (or an
// error) over the same descriptor (protocol.hpp).
#pragma once

namespace ipcperf {

// Runs the peer on `control_fd`; returns the process exit code.
int peer_main(int control_fd);

}  // namespace ipcperf
