// The measured loops. Each is a template over the concrete channel type, so send/recv inline
// into the loop: nothing virtual sits between two messages.
//
// Timing never distorts the loop: the measured phase is timed as a whole (two clock reads), and
// pingpong times one round trip in every `sample_every` on its own (one clock_gettime pair, ~47 ns
// on the reference machine, amortised to <1 ns per round trip at 1 in 64) for the latency
// histogram. Both are CLOCK_MONOTONIC via the vDSO.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include <sys/resource.h>
#include <time.h>

#include <fmt/format.h>

#include "ipcperf/message.hpp"
#include "ipcperf/wait.hpp"
#include "workloads/job.hpp"

namespace ipcperf {

template <class C>
concept Channel = requires(C c, std::span<const std::byte> in, std::span<std::byte> out) {
  c.send(in);
  { c.recv(out) } -> std::convertible_to<size_t>;
};

// A lossy channel (udp) declares `static constexpr bool kLossy = true;`. Its recv returns 0 when
// no message arrived within its loss timeout while the peer is alive (it throws PeerGone when the
// peer is not). The workloads then count what was lost instead of failing, and still verify
// everything that arrives: sequence numbers only increase (no duplicate, no reordering), size and
// payload exact. Because the last message can itself be lost, a lossy run ends with an END
// message that is re-sent until the receiver acknowledges it.
template <class C>
concept LossyChannel = Channel<C> && requires {
  requires C::kLossy;
};

// A received message was wrong: lost, duplicated, reordered, truncated or corrupted.
class VerificationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CPU time and context switches of this process, for deltas around a measured phase.
struct Usage {
  int64_t user_ns = 0, sys_ns = 0, ctx_vol = 0, ctx_invol = 0;
  static Usage now() noexcept {
    rusage ru{};
    // This thread only: in-process backends run both endpoints as threads of one process.
    ::getrusage(RUSAGE_THREAD, &ru);
    auto ns = [](const timeval& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_usec * 1000; };
    return {ns(ru.ru_utime), ns(ru.ru_stime), ru.ru_nvcsw, ru.ru_nivcsw};
  }
  void store_delta(const Usage& start, PeerOutcome& out) const noexcept {
    out.cpu_user_ns = user_ns - start.user_ns;
    out.cpu_sys_ns = sys_ns - start.sys_ns;
    out.ctx_voluntary = ctx_vol - start.ctx_vol;
    out.ctx_involuntary = ctx_invol - start.ctx_invol;
  }
};

namespace detail {

inline void check(std::span<const std::byte> got, uint64_t seq, size_t size) {
  if (got.size() != size || got.size() < kMessageHeaderSize || read_header(got).seq != seq ||
      read_header(got).size != size || !payload_ok(got, seq)) [[unlikely]] {
    auto why = verify_message(got, seq, size);
    throw VerificationError(why ? *why : "message failed verification");
  }
}

// Decides when a measured phase ends: after `messages`, or once the clock passes the deadline
// (looked at every 256 messages, so the check costs nothing measurable).
class PhaseEnd {
 public:
  PhaseEnd(const PeerJob& job, int64_t start_ns)
      : messages_(job.messages), deadline_(start_ns + job.duration_ns) {}
  // True when message i (0-based in the measured phase) is the last one.
  bool last(uint64_t i) noexcept {
    if (messages_ != 0) return i + 1 >= messages_;
    if ((i & 255) == 255) stop_ = now_ns() >= deadline_;
    return stop_;
  }

 private:
  uint64_t messages_;
  int64_t deadline_;
  bool stop_ = false;
};

template <Channel Ch>
PeerOutcome pingpong_a(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> tx(job.size), rx(job.size);
  for (uint64_t seq = 0; seq < job.warmup; ++seq) {
    fill_message(tx, seq);
    ch.send(tx);
    size_t n = ch.recv(rx);
    check({rx.data(), n}, seq, job.size);
  }
  const uint64_t mask = job.sample_every - 1;  // a power of two
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    fill_message(tx, seq, last ? kFlagLast : 0);
    if ((i & mask) == 0) {
      const int64_t s = now_ns();
      ch.send(tx);
      size_t n = ch.recv(rx);
      out.latency.record(static_cast<uint64_t>(now_ns() - s));
      check({rx.data(), n}, seq, job.size);
    } else {
      ch.send(tx);
      size_t n = ch.recv(rx);
      check({rx.data(), n}, seq, job.size);
    }
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = i;
  out.bytes = i * job.size;
  out.verified = job.warmup + i;
  return out;
}

template <Channel Ch>
PeerOutcome pingpong_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t t0 = 0;
  for (uint64_t seq = 0;; ++seq) {
    if (seq == job.warmup) {
      u0 = Usage::now();
      t0 = now_ns();
    }
    size_t n = ch.recv(rx);
    std::span<const std::byte> got{rx.data(), n};
    check(got, seq, job.size);
    ch.send(got);  // echo the verified bytes unchanged
    ++out.verified;
    if (read_header(got).flags & kFlagLast) break;
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = out.verified - job.warmup;
  out.bytes = out.messages * job.size;
  return out;
}

template <Channel Ch>
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
    fill_message(tx, job.warmup + i, last ? kFlagLast : 0);
    ch.send(tx);
  }
  // The receiver acknowledges the last message: our phase (and CPU account) covers delivery.
  size_t n = ch.recv(rx);
  std::span<const std::byte> ack{rx.data(), n};
  const uint64_t ack_seq = job.warmup + i;
  check(ack, ack_seq, job.size);
  if (!(read_header(ack).flags & kFlagAck))
    throw VerificationError("stream: expected the acknowledgement");
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  out.messages = i;
  out.bytes = i * job.size;
  out.verified = 1;
  return out;
}

template <Channel Ch>
PeerOutcome stream_b(Ch& ch, const PeerJob& job) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0;
  uint64_t seq = 0;
  for (;; ++seq) {
    size_t n = ch.recv(rx);
    std::span<const std::byte> got{rx.data(), n};
    check(got, seq, job.size);
    if (seq == job.warmup) {
      first = now_ns();
      u0 = Usage::now();
    }
    if (read_header(got).flags & kFlagLast) break;
  }
  // Rate is measured from the first to the last measured message: (count - 1) intervals.
  out.elapsed_ns = now_ns() - first;
  Usage::now().store_delta(u0, out);
  out.verified = seq + 1;
  out.messages = seq + 1 - job.warmup;
  out.bytes = out.messages * job.size;
  std::vector<std::byte> ack(job.size);
  fill_message(ack, seq + 1, kFlagAck);
  ch.send(ack);
  return out;
}

// ---- lossy channels -------------------------------------------------------------------------

// How often END is re-sent before giving up (x the channel's loss timeout).
inline constexpr int kEndAttempts = 40;

// A verified message of a lossy stream: the sequence may jump forward (loss) but never back.
inline void check_lossy(std::span<const std::byte> got, uint64_t lowest_ok, size_t size) {
  if (got.size() < kMessageHeaderSize) [[unlikely]] {
    throw VerificationError(fmt::format("truncated datagram: {} bytes", got.size()));
  }
  const uint64_t seq = read_header(got).seq;
  if (seq < lowest_ok) [[unlikely]] {
    throw VerificationError(fmt::format(
        "duplicated or reordered message: seq {} received after seq {}", seq, lowest_ok - 1));
  }
  check(got, seq, size);
}

// A: sends END (seq end_seq, flag last) until B acknowledges it.
template <Channel Ch>
void end_lossy(Ch& ch, std::vector<std::byte>& tx, std::vector<std::byte>& rx, uint64_t end_seq,
               size_t size) {
  fill_message(tx, end_seq, kFlagLast);
  for (int attempt = 0; attempt < kEndAttempts; ++attempt) {
    ch.send(tx);
    for (;;) {
      const size_t n = ch.recv(rx);
      if (n == 0) break;  // nothing within the loss timeout: send END again
      std::span<const std::byte> got{rx.data(), n};
      if (n >= kMessageHeaderSize && read_header(got).seq < end_seq) continue;  // a late echo
      check(got, end_seq, size);
      if (!(read_header(got).flags & kFlagAck)) {
        throw VerificationError("lossy end: expected the acknowledgement");
      }
      return;
    }
  }
  throw VerificationError(
      fmt::format("lossy end: no acknowledgement after {} attempts", kEndAttempts));
}

// B: acknowledges END.
template <Channel Ch>
void ack_lossy(Ch& ch, uint64_t end_seq, size_t size) {
  std::vector<std::byte> ack(size);
  fill_message(ack, end_seq, kFlagAck);
  ch.send(ack);
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
  for (uint64_t seq = 0; seq < job.warmup; ++seq) round_trip(seq, 0);
  const uint64_t mask = job.sample_every - 1;
  const Usage u0 = Usage::now();
  const int64_t t0 = now_ns();
  PhaseEnd end(job, t0);
  uint64_t i = 0, ok = 0;
  for (bool last = false; !last; ++i) {
    const uint64_t seq = job.warmup + i;
    last = end.last(i);
    if ((i & mask) == 0) {
      const int64_t s = now_ns();
      const bool got = round_trip(seq, 0);
      if (got) out.latency.record(static_cast<uint64_t>(now_ns() - s));
      ok += got ? 1 : 0;
    } else {
      ok += round_trip(seq, 0) ? 1 : 0;
    }
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  end_lossy(ch, tx, rx, job.warmup + i, job.size);
  out.messages = ok;
  out.lost = i - ok;
  out.bytes = ok * job.size;
  out.verified = ok;
  return out;
}

// B of both workloads on a lossy channel: verifies, echoes (pingpong) or counts (stream), until
// END.
template <Channel Ch>
PeerOutcome receive_lossy(Ch& ch, const PeerJob& job, bool echo) {
  PeerOutcome out;
  std::vector<std::byte> rx(job.size);
  Usage u0{};
  int64_t first = 0, last_at = 0;
  uint64_t lowest_ok = 0;  // the next sequence number not yet seen
  for (;;) {
    const size_t n = ch.recv(rx);
    if (n == 0) continue;  // quiet: A is alive and will send more or END again
    std::span<const std::byte> got{rx.data(), n};
    check_lossy(got, lowest_ok, job.size);
    const MessageHeader h = read_header(got);
    if (h.flags & kFlagLast) {
      ack_lossy(ch, h.seq, job.size);
      break;
    }
    if (echo) ch.send(got);
    ++out.verified;
    if (h.seq >= job.warmup) {
      if (out.messages == 0) {
        first = now_ns();
        u0 = Usage::now();
        out.lost += h.seq - job.warmup;  // measured messages lost before the first arrived
      } else {
        out.lost += h.seq - lowest_ok;
      }
      ++out.messages;
      if (!echo) last_at = now_ns();
    }
    lowest_ok = h.seq + 1;
  }
  // Stream: first to last measured message delivered; pingpong: B's phase for its CPU account.
  out.elapsed_ns = (echo ? now_ns() : last_at) - first;
  Usage::now().store_delta(u0, out);
  out.bytes = out.messages * job.size;
  return out;
}

template <Channel Ch>
PeerOutcome stream_a_lossy(Ch& ch, const PeerJob& job) {
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
    fill_message(tx, job.warmup + i);
    ch.send(tx);
  }
  out.elapsed_ns = now_ns() - t0;
  Usage::now().store_delta(u0, out);
  end_lossy(ch, tx, rx, job.warmup + i, job.size);
  out.messages = i;  // sent; B reports what was delivered
  out.bytes = i * job.size;
  out.verified = 1;
  return out;
}
}  // namespace detail

// Runs the job's workload in this peer on a concrete, open channel. Calls job.ready() (the start
// barrier) before the first message.
template <Channel Ch>
PeerOutcome run_workload(Ch& ch, const PeerJob& job) {
  if (job.ready) job.ready();
  const bool a = job.role == Role::kA;
  if constexpr (LossyChannel<Ch>) {
    switch (job.workload) {
      case Workload::kPingpong:
        return a ? detail::pingpong_a_lossy(ch, job) : detail::receive_lossy(ch, job, true);
      case Workload::kStream:
        return a ? detail::stream_a_lossy(ch, job) : detail::receive_lossy(ch, job, false);
    }
    throw std::logic_error("unknown workload");
  }
  switch (job.workload) {
    case Workload::kPingpong:
      return a ? detail::pingpong_a(ch, job) : detail::pingpong_b(ch, job);
    case Workload::kStream:
      return a ? detail::stream_a(ch, job) : detail::stream_b(ch, job);
  }
  throw std::logic_error("unknown workload");
}

}  // namespace ipcperf
