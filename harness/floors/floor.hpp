// The hardware floors: registered measurements that bound what IPC can reach on these CPUs,
// measured in the same rounds as the cases so that ratios compare like with like. A floor is
// listed by `ipcperf list` under its own heading, never part of `--backends all`, and named
// nowhere outside its own file and the list in floors.cpp.
//   floor/cacheline      one cache line bounced between the two pinned CPUs (cacheline.cpp)
//   floor/memcpy/size:N  single-core memcpy of N bytes on CPU A (memcpy.cpp)
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "plan.hpp"
#include "protocol.hpp"
#include "results.hpp"

namespace ipcperf {

// The family of every floor row (CaseSpec::family): what is not a backend's case.
inline constexpr std::string_view kFloorFamily = "floor";

struct FloorInfo {
  std::string_view name;  // "cacheline": rows floor/cacheline[/size:N], peers' part floor-cacheline
  std::string_view summary;  // one line for `ipcperf list` and the table's notes
  bool first = false;        // planned before the backends' cases (else after them)
};

class Floor {
 public:
  virtual ~Floor() = default;
  [[nodiscard]] virtual const FloorInfo& info() const = 0;
  // The rows this floor adds to a plan (skipped, with the reason, where the placement does not
  // allow the measurement).
  [[nodiscard]] virtual std::vector<PlannedCase> plan(const RunOptions& opt) const = 0;
  // One repetition, in the supervisor (which may launch peers for it: runner.hpp).
  [[nodiscard]] virtual RepSample run(const PlannedCase& pc, const RunOptions& opt) const = 0;
  // A peer process's side of a floor measured between processes.
  [[nodiscard]] virtual PeerOutcome run_peer(const PeerJob& job) const;

  // "floor-<name>": the part name in jobs and the rows' kind.
  [[nodiscard]] std::string part() const;
  // A planned row of this floor: name floor/<name>[/size:N], family "floor".
  [[nodiscard]] PlannedCase row(size_t size, bool sized) const;
};

// The registered floors, in display order.
std::span<const Floor* const> floors();
// The floor whose part() is `part`, or nullptr.
const Floor* find_floor(std::string_view part);

}  // namespace ipcperf
