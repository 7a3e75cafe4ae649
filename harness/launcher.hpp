// The supervisor's process management: spawn peers (fork + exec of this binary in the hidden
// `peer` role), pin them, run the READY -> GO start barrier over one control socket per peer,
// enforce the timeout, collect each peer's result or error (with its stderr), kill the
// survivors when one fails, and reap every child.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipcperf/backend.hpp"

namespace ipcperf {

struct PeerLaunch {
  std::string label;              // "A", "B": used in error messages
  std::vector<std::string> args;  // after the executable: {"peer", "--role", "A", ...}
  int cpu = -1;                   // pin to this CPU (-1: leave to the scheduler)
  std::vector<int> inherit;       // descriptors this peer keeps across exec
};

struct PeerReport {
  std::optional<nlohmann::json> result;  // the peer's RESULT
  std::string error;                     // why it failed ("" when result is set)
  bool secondary = false;                // failed only because another peer failed first
};

// Spawns every peer, releases them together once all are READY, and waits for all results.
// `endpoints` (may be null) is closed in the supervisor right after the spawn, so that a peer's
// death is visible to the other as EOF. Never throws for peer failures: they come back as
// PeerReport::error. Throws SystemError when fork/socketpair fail.
std::vector<PeerReport> run_peers(const std::vector<PeerLaunch>& peers, double timeout_s,
                                  Endpoints* endpoints);

// The path of this executable (for exec), resolved once at start-up.
void set_self_exe(std::string path);
const std::string& self_exe();

// SIGINT/SIGTERM handling: install_interrupt_handler() makes those signals set a flag that stops
// run_peers (the peers are killed, the objects cleaned up by the callers) and further cases.
void install_interrupt_handler();
bool interrupted();
int interrupt_signal();

}  // namespace ipcperf
