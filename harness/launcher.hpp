// The supervisor's process management: spawn peers (fork + exec of this binary as
// `ipcperf peer --control-fd N`), pin them, hand each its JOB, run the READY -> GO start barrier
// over one control socket per peer (protocol.hpp), enforce the timeout, collect each peer's
// result or error (with its stderr), kill the survivors when one fails, and reap every child.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ipcperf/backend.hpp"
#include "protocol.hpp"

namespace ipcperf {

struct PeerLaunch {
  std::string label;         // "A", "B", "A+B": used in error messages
  PeerJob job;               // sent to the peer as its JOB
  int cpu = -1;              // pin to this CPU (-1: leave to the scheduler)
  std::vector<int> inherit;  // descriptors this peer keeps across exec
};

struct PeerReport {
  std::vector<PeerOutcome> outcomes;  // the peer's RESULT (empty when it failed)
  std::string error;                  // why it failed ("" when it reported a result)
  bool secondary = false;             // failed only because another peer failed first
};

// Spawns every peer, releases them together once all are READY, and waits for all results.
// `endpoints` (may be null) is closed in the supervisor right after the spawn, so that a peer's
// death is visible to the other as EOF. Never throws for peer failures: they come back as
// PeerReport::error.
std::vector<PeerReport> run_peers(const std::vector<PeerLaunch>& peers, double timeout_s,
                                  Endpoints* endpoints);

// The report to blame for a failed case: the first that failed on its own, else the first that
// failed at all; nullptr when every peer reported a result.
const PeerReport* first_failure(const std::vector<PeerReport>& reports);

// What the launcher knows of one peer while the case runs, for choosing the culprit.
struct PeerState {
  bool started = false;     // spawned
  bool has_result = false;  // sent RESULT
  bool failed = false;      // sent ERROR or GONE, or an unreadable message
  bool gone = false;        // its failure was GONE: it saw another peer go away
  bool ctl_eof = false;     // its control socket closed (it exited or died)
};
// The peer whose failure is the case's cause, or -1 while none failed: one that died without a
// word (its control socket closed with no result and no error), else one that failed on its own
// (ERROR), before one that only saw another go (GONE). Ties: the lowest index.
int pick_culprit(const std::vector<PeerState>& peers);

// The path of this executable (for exec), resolved once at start-up.
void set_self_exe(std::string path);
const std::string& self_exe();

// SIGINT/SIGTERM handling: install_interrupt_handler() makes those signals set a flag that stops
// run_peers (the peers are killed, the objects cleaned up by the callers) and further cases.
void install_interrupt_handler();
bool interrupted();
int interrupt_signal();

}  // namespace ipcperf
