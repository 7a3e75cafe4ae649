// pingpong in the supervisor: round trips timed by A; rate and latency from A's outcome.
#include <fmt/format.h>

#include "workloads/workload.hpp"

namespace ipcperf {

namespace {

std::vector<CaseVariant> variants(const RunOptions& opt) {
  // Once per sampling interval when several are asked for (…/sample:N/…), side by side.
  if (opt.sample_everys.size() <= 1) return {{0, opt.sample_every, ""}};
  std::vector<CaseVariant> v;
  for (uint32_t every : opt.sample_everys) v.push_back({0, every, fmt::format("sample:{}", every)});
  return v;
}

bool metrics(const CaseSpec& spec, RepSample& s) {
  // A times the round trips; B must have echoed exactly as many (lossy: at least as many, as an
  // echo can be lost on its way back).
  if (spec.lossy) {
    s.sent = s.a.messages + s.a.lost;
    s.lost = s.a.lost;
    if (s.a.messages == 0) {
      s.error = fmt::format("pingpong: all {} round trips lost", s.sent);
      return false;
    }
  } else if (s.b.messages != s.a.messages) {
    s.error = fmt::format("peer B echoed {} measured messages, peer A sent {}", s.b.messages,
                          s.a.messages);
    return false;
  }
  s.messages = s.a.messages;
  const double el = static_cast<double>(s.a.elapsed_ns);
  s.real_ns = el / static_cast<double>(s.messages);
  s.items_per_second = static_cast<double>(s.messages) / (el / 1e9);
  // A round trip carries the message both ways.
  s.bytes_per_second = s.items_per_second * 2.0 * static_cast<double>(spec.size);
  account_cpu_and_verified(s);
  s.latency = std::move(s.a.latency);  // the peers' copies are not kept twice
  s.a.latency = Histogram(3);
  return true;
}

// Automatic sampling: say what the peers chose (every round trip when they were slow).
void finish(CaseResult& c, const RunOptions& opt) {
  if (!opt.sample_auto) return;
  for (const auto& rep : c.reps) {
    if (rep.ok && rep.a.sample_every == 1) {
      c.sampling = "every round trip (automatic: round trips of 5 us or more)";
      return;
    }
  }
}

}  // namespace

const WorkloadDef& pingpong_def() {
  static const WorkloadDef d{
      Workload::kPingpong,
      "pingpong",
      "round trip: A sends, B echoes (one-way is about half a round trip)",
      [](const RunOptions&) {},
      variants,
      metrics,
      round_trip_sampling,
      finish,
      {Better::kLower, [](const RepSample& s) { return s.real_ns; }, "round trip"}};
  return d;
}

}  // namespace ipcperf
