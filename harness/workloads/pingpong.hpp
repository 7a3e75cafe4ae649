// pingpong: A sends, B verifies and echoes; A times the round trips (one-way is about half of
// one, which the docs say). Lossy channels: a reply that does not come within the loss timeout
// counts the round trip as lost.
#pragma once

#include "workloads/common.hpp"

namespace ipcperf::detail {

template <Channel Ch>
PeerOutcome pingpong_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  const int64_t w0 = now_ns();
  for (uint64_t seq = 0; seq < job.warmup; ++seq) {
    fill_message(tx, seq);
    ch.send(tx);
    recv_checked(ch, rx, seq, job.size);
  }
  const Sampler sample(job, now_ns() - w0, out);
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    fill_message(tx, seq, last ? kFlagLast : 0);
    if (sample.due(i)) {
      const int64_t s = now_ns();
      ch.send(tx);
      size_t n = ch.recv(rx);
      out.latency.record(static_cast<uint64_t>(now_ns() - s));
      check({rx.data(), n}, seq, job.size);
    } else {
      ch.send(tx);
      recv_checked(ch, rx, seq, job.size);
    }
  }
  close_phase(out, u0, t0, i, job.size);
  out.verified = job.warmup + i;
  return out;
}

template <Channel Ch, class Delay = SpinDelay>
PeerOutcome pingpong_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t t0 = 0;
  Injection<Delay> inject(job);
  for (uint64_t seq = 0;; ++seq) {
    if (seq == job.warmup) {
      u0 = Usage::now();
      t0 = now_ns();
    }
    const auto got = recv_checked(ch, rx, seq, job.size);
    if (inject.any() && seq >= job.warmup) [[unlikely]]
      inject.apply(seq - job.warmup, t0);
    ch.send(got);  // echo the verified bytes unchanged
    ++out.verified;
    if (read_header(got).flags & kFlagLast) break;
  }
  close_phase(out, u0, t0, out.verified - job.warmup, job.size);
  return out;
}

template <Channel Ch>
PeerOutcome pingpong_a_lossy(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  // One round trip; false when the reply did not come within the loss timeout.
  auto round_trip = [&](uint64_t seq, uint32_t flags) {
    fill_message(tx, seq, flags);
    ch.send(tx);
    for (;;) {
      const size_t n = ch.recv(rx);
      if (n == 0) return false;
      std::span<const std::byte> got{rx.data(), n};
      if (n >= kMessageHeaderSize && read_header(got).seq < seq) continue;  // a late echo
      check(got, seq, job.size);
      return true;
    }
  };
  const int64_t w0 = now_ns();
  for (uint64_t seq = 0; seq < job.warmup; ++seq) round_trip(seq, 0);
  const Sampler sample(job, now_ns() - w0, out);
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0, ok = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    if (sample.due(i)) {
      const int64_t s = now_ns();
      const bool got = round_trip(seq, 0);
      if (got) out.latency.record(static_cast<uint64_t>(now_ns() - s));
      ok += got ? 1 : 0;
    } else {
      ok += round_trip(seq, 0) ? 1 : 0;
    }
  }
  close_phase(out, u0, t0, ok, job.size);
  end_lossy(ch, tx, rx, job.warmup + i, job.size);
  out.lost = i - ok;
  out.verified = ok;
  return out;
}

}  // namespace ipcperf::detail
