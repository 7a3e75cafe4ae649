// The workloads: each owns its loops per role (pingpong.hpp, stream.hpp, paced.hpp, templates
// over the concrete channel type) and, in the supervisor, what its peers' outcomes turn into
// (its WorkloadDef in workload.hpp). run_workload is the one switch from the job's workload to
// its loop; it is instantiated per channel type in harness/backend_glue.hpp.
#pragma once

#include "workloads/paced.hpp"
#include "workloads/pingpong.hpp"
#include "workloads/stream.hpp"

namespace ipcperf {

// Runs the job's workload in this peer on a concrete, open channel. Calls job.ready() (the start
// barrier) before the first message.
template <Channel Ch>
PeerOutcome run_workload(Ch& ch, const PeerJob& job) {
  if (job.ready) job.ready();
  const bool a = job.role == Role::kA;
  if constexpr (LossyChannel<Ch>) {
    switch (job.workload) {
      case Workload::kPingpong:
        return a ? detail::pingpong_a_lossy(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kEcho);
      case Workload::kStream:
        return a ? detail::stream_a<Ch, true>(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kCount);
      case Workload::kPaced:
        return a ? detail::paced_a<Ch, true>(ch, job)
                 : detail::receive_lossy(ch, job, detail::LossyMode::kPaced);
    }
    throw std::logic_error("unknown workload");
  }
  switch (job.workload) {
    case Workload::kPingpong:
      return a ? detail::pingpong_a(ch, job) : detail::pingpong_b(ch, job);
    case Workload::kStream:
      return a ? detail::stream_a<Ch, false>(ch, job) : detail::stream_b(ch, job);
    case Workload::kPaced:
      return a ? detail::paced_a<Ch, false>(ch, job) : detail::paced_b(ch, job);
  }
  throw std::logic_error("unknown workload");
}

}  // namespace ipcperf
