// stream: A sends as fast as the channel accepts; B verifies and measures the rate from the first
// to the last measured message.
#pragma once

#include "workloads/common.hpp"

namespace ipcperf::detail {

template <Channel Ch, bool kLossy>
PeerOutcome stream_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  for (uint64_t seq = 0; seq < job.warmup; ++seq) {
    fill_message(tx, seq);
    ch.send(tx);
  }
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    fill_message(tx, job.warmup + i, (last && !kLossy) ? kFlagLast : 0);
    ch.send(tx);
  }
  // Reliable: the acknowledgement of the last message is in A's phase (its CPU account covers
  // delivery). Lossy: END may be re-sent after loss timeouts, which are not the channel's cost.
  if constexpr (!kLossy) finish_sending<Ch, false>(ch, tx, rx, job.warmup + i, job.size);
  close_phase(out, u0, t0, i, job.size);  // sent (lossy: B reports what was delivered)
  if constexpr (kLossy) finish_sending<Ch, true>(ch, tx, rx, job.warmup + i, job.size);
  out.verified = 1;
  return out;
}

template <Channel Ch, class Delay = SpinDelay>
PeerOutcome stream_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0;
  uint64_t seq = 0;
  Injection<Delay> inject(job);
  for (;; ++seq) {
    const auto got = recv_checked(ch, rx, seq, job.size);
    if (seq == job.warmup) {
      first = now_ns();
      u0 = Usage::now();
    }
    if (inject.any() && seq >= job.warmup) [[unlikely]]
      inject.apply(seq - job.warmup, first);
    if (read_header(got).flags & kFlagLast) break;
  }
  // Rate is measured from the first to the last measured message: (count - 1) intervals.
  finish_receiving(ch, out, u0, first, seq, job);
  return out;
}

}  // namespace ipcperf::detail
