// stream in the supervisor: the rate at the receiver, first to last measured message.
#include <fmt/format.h>

#include "workloads/workload.hpp"

namespace ipcperf {

namespace {

bool metrics(const CaseSpec& spec, RepSample& s) {
  if (!account_delivery(spec, s)) return false;
  if (s.b.messages < 2 || s.b.elapsed_ns <= 0) {
    s.error = spec.lossy ? fmt::format(
                               "stream: {} of {} measured messages arrived; at least 2 are "
                               "needed for a rate",
                               s.b.messages, s.a.messages)
                         : "stream: fewer than 2 measured messages; raise --messages or --duration";
    return false;
  }
  // Receiver's view, first to last measured message: (count - 1) intervals.
  s.messages = s.b.messages;
  const double intervals = static_cast<double>(s.messages - 1);
  const double el = static_cast<double>(s.b.elapsed_ns);
  s.real_ns = el / intervals;
  s.items_per_second = intervals / (el / 1e9);
  s.bytes_per_second = s.items_per_second * static_cast<double>(spec.size);
  account_cpu_and_verified(s);
  return true;
}

}  // namespace

const WorkloadDef& stream_def() {
  static const WorkloadDef d{
      Workload::kStream,
      "stream",
      "throughput: A sends as fast as the channel accepts, B measures the rate",
      [](const RunOptions&) {},
      [](const RunOptions& opt) {
        return std::vector<CaseVariant>{{0, opt.sample_every, ""}};
      },
      metrics,
      [](uint32_t) { return std::string(); },
      nullptr,
      {Better::kHigher, [](const RepSample& s) { return s.items_per_second; }, "msg/s"}};
  return d;
}

}  // namespace ipcperf
