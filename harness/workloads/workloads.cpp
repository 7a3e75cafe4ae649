// The workload registry and what the workloads' metrics share.
#include <fmt/format.h>

#include "workloads/workload.hpp"

namespace ipcperf {

const WorkloadDef& pingpong_def();
const WorkloadDef& stream_def();
const WorkloadDef& paced_def();

std::span<const WorkloadDef> workload_defs() {
  static const WorkloadDef defs[] = {pingpong_def(), stream_def(), paced_def()};
  return defs;
}

const WorkloadDef& workload_def(Workload w) {
  for (const auto& d : workload_defs()) {
    if (d.id == w) return d;
  }
  throw std::logic_error("unregistered workload");
}

Workload parse_workload(std::string_view s) {
  std::string known;
  for (const auto& d : workload_defs()) {
    if (d.name == s) return d.id;
    known += (known.empty() ? "" : ", ") + std::string(d.name);
  }
  throw UsageError(fmt::format("--workloads: unknown workload '{}' (known: {})", s, known));
}

void account_cpu_and_verified(RepSample& s) {
  const auto cpu_total =
      static_cast<double>(s.a.cpu_user_ns + s.a.cpu_sys_ns + s.b.cpu_user_ns + s.b.cpu_sys_ns);
  s.cpu_ns = cpu_total / static_cast<double>(s.messages);
  s.verified = s.a.verified + s.b.verified;
}

std::string round_trip_sampling(uint32_t every) {
  if (every == 0) return "none (--sample-every 0)";
  return every == 1 ? "every round trip" : fmt::format("1 in {} round trips", every);
}

bool account_delivery(const CaseSpec& spec, RepSample& s) {
  if (spec.lossy) {
    if (s.b.messages > s.a.messages) {
      s.error = fmt::format("peer B received {} measured messages, more than the {} A sent",
                            s.b.messages, s.a.messages);
      return false;
    }
    s.sent = s.a.messages;
    s.lost = s.a.messages - s.b.messages;
  } else if (s.b.messages != s.a.messages) {
    s.error = fmt::format("peer B received {} measured messages, peer A sent {}", s.b.messages,
                          s.a.messages);
    return false;
  }
  return true;
}

}  // namespace ipcperf
