// paced: open loop. A sends message k at its intended time whatever happened before; B records
// every message's one-way latency from that intended time (no coordinated omission).
#pragma once

#include "workloads/common.hpp"

namespace ipcperf::detail {

// ---- paced helpers ------------------------------------------------------------------

// Intended send time of message k of a schedule that starts at t0 (integer ns: both sides
// compute the same value).
inline int64_t intended_ns(int64_t t0, uint64_t k, uint64_t rate) noexcept {
  return t0 + static_cast<int64_t>((k * 1'000'000'000ULL) / rate);
}

// Waits until `when` (CLOCK_MONOTONIC ns): sleeps while more than 200 us are left, then spins,
// so that a send starts within a few hundred ns of its time at any rate. Returns the lateness.
inline int64_t wait_until_ns(int64_t when) noexcept {
  int64_t now = now_ns();
  if (when - now > 200'000) {
    const int64_t wake = when - 100'000;
    timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    now = now_ns();
  }
  while (now < when) {
    cpu_relax();
    now = now_ns();
  }
  return now - when;
}

// A: sends message k at its intended time t0 + k/rate whatever happened before: a late send is
// not skipped and does not move the schedule, so a stall shows in the latency of every message
// that waited behind it (no coordinated omission).
template <Channel Ch, bool kLossy>
PeerOutcome paced_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  const uint64_t rate = job.rate;
  const int64_t w0 = now_ns() + 1'000'000;  // the schedule starts 1 ms from now
  auto send = [&](uint64_t seq, uint32_t flags) {
    const int64_t when = intended_ns(w0, seq, rate);
    const int64_t lag = wait_until_ns(when);
    fill_message(tx, seq, flags);
    stamp(tx, when);
    ch.send(tx);
    return lag;
  };
  for (uint64_t seq = 0; seq < job.warmup; ++seq) send(seq, 0);
  const int64_t t0 = intended_ns(w0, job.warmup, rate);
  wait_until_ns(t0);
  const Usage u0 = Usage::now();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  int64_t last_send = t0;
  for (bool last = false; !last; ++i) {
    last = end.last(i);
    const int64_t lag = send(job.warmup + i, (last && !kLossy) ? kFlagLast : 0);
    out.max_lag_ns = std::max(out.max_lag_ns, lag);
    last_send = intended_ns(w0, job.warmup + i, rate) + lag;
  }
  out.elapsed_ns = last_send - t0;  // first to last send: (i - 1) intervals
  Usage::now().store_delta(u0, out);
  finish_sending<Ch, kLossy>(ch, tx, rx, job.warmup + i, job.size);
  out.messages = i;
  out.bytes = i * job.size;
  out.verified = 1;
  return out;
}

// B: one-way latency of every measured message = receive time - intended send time (both from
// CLOCK_MONOTONIC, which all processes of a machine share).
template <Channel Ch, class Delay = SpinDelay>
PeerOutcome paced_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  out.latency.reserve();  // every measured message is recorded: allocate before the first
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0, prev_when = INT64_MIN;
  Injection<Delay> inject(job);
  uint64_t seq = 0;
  for (;; ++seq) {
    const size_t n = ch.recv(rx);
    std::span<std::byte> got{rx.data(), n};
    if (n < kPacedMinSize) check(got, seq, job.size);  // says what is wrong
    const int64_t when = unstamp(got, seq);
    check(got, seq, job.size);
    if (when <= prev_when) {
      throw VerificationError(fmt::format(
          "paced: message seq {} is stamped {} ns, not after the previous one", seq, when));
    }
    prev_when = when;
    const bool last = (read_header(got).flags & kFlagLast) != 0;
    if (seq >= job.warmup) {
      if (seq == job.warmup) {
        first = now_ns();
        u0 = Usage::now();
      }
      if (inject.any()) [[unlikely]]
        inject.apply(seq - job.warmup, first);
      out.latency.record(static_cast<uint64_t>(std::max<int64_t>(now_ns() - when, 0)));
    }
    if (last) break;
  }
  finish_receiving(ch, out, u0, first, seq, job);
  return out;
}

}  // namespace ipcperf::detail
