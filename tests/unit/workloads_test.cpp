// The workload loops (harness/workloads/) against a scripted in-memory channel: both ends are
// played in this thread, so every message, loss, late reply and corruption is placed exactly and
// the outcomes are checked to the count. A threaded pair at the end runs both roles of each
// reliable workload against each other through run_workload. Nothing here is timed.
#include "workloads/workloads.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ipcperf/message.hpp"
#include "ipcperf/sys.hpp"
#include "support/error_text.hpp"

namespace ipcperf {
namespace {

using Bytes = std::vector<std::byte>;

Bytes msg(uint64_t seq, size_t size = 64, uint32_t flags = 0) {
  Bytes m(size);
  fill_message(m, seq, flags);
  return m;
}
// A paced message: the first payload word is its intended send time.
Bytes stamped(uint64_t seq, int64_t when, size_t size = 64, uint32_t flags = 0) {
  Bytes m = msg(seq, size, flags);
  std::memcpy(m.data() + kMessageHeaderSize, &when, 8);
  return m;
}
MessageHeader header(const Bytes& m) { return read_header(m); }

// A scripted channel. recv() hands out what `inbox` holds, queued by the test or by `peer`, which
// plays the other endpoint and sees every message sent; send() records each message. An empty
// slot (nullopt) in the inbox is one recv that found nothing within the loss timeout (lossy:
// returns 0). With the inbox empty, a lossy recv returns 0 as well (up to a bound, then the peer
// counts as gone) and a reliable one throws PeerGone (a real one would block forever).
template <bool kIsLossy>
struct Fake {
  static constexpr bool kLossy = kIsLossy;

  std::deque<std::optional<Bytes>> inbox;
  std::vector<Bytes> sent;
  std::function<void(Fake&, const Bytes&)> peer;
  uint64_t received = 0;  // messages recv() returned
  uint64_t quiet = 0;     // recv() calls that returned nothing

  void send(std::span<const std::byte> m) {
    sent.emplace_back(m.begin(), m.end());
    if (peer) peer(*this, Bytes(m.begin(), m.end()));
  }
  size_t recv(std::span<std::byte> buf) {
    if (inbox.empty() || !inbox.front()) {
      if (!inbox.empty()) inbox.pop_front();
      if constexpr (kIsLossy) {
        if (++quiet <= 1000) return 0;
      }
      throw PeerGone("fake: nothing more will come");
    }
    Bytes m = std::move(*inbox.front());
    inbox.pop_front();
    if (m.size() > buf.size()) throw std::logic_error("fake: message larger than the buffer");
    std::copy(m.begin(), m.end(), buf.begin());
    ++received;
    return m.size();
  }
  void queue(Bytes m) { inbox.emplace_back(std::move(m)); }
};
using Reliable = Fake<false>;
using Lossy = Fake<true>;
static_assert(Channel<Reliable> && !LossyChannel<Reliable>);
static_assert(LossyChannel<Lossy>);

// The other endpoint's parts: echo everything; acknowledge the last message (reliable one-way).
template <class Ch>
void echo(Ch& ch, const Bytes& m) {
  ch.queue(m);
}
template <class Ch>
void ack_last(Ch& ch, const Bytes& m) {
  if (header(m).flags & kFlagLast) ch.queue(msg(header(m).seq + 1, m.size(), kFlagAck));
}

PeerJob job(uint64_t warmup, uint64_t messages, size_t size = 64) {
  PeerJob j;
  j.warmup = warmup;
  j.messages = messages;
  j.size = size;
  j.sample_every = 64;
  return j;
}

// What a verification error says ("" when none was thrown).
template <class F>
std::string verification_error(F&& f) {
  return testing_support::error_text<VerificationError>(f);
}
bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- the end of a measured phase ------------------------------------------------------------

TEST(PhaseEnd, ByMessagesTheLastIsTheNth) {
  const PeerJob j = job(0, 5);
  detail::PhaseEnd end(j, now_ns());
  for (uint64_t i = 0; i < 4; ++i) EXPECT_FALSE(end.last(i)) << i;
  EXPECT_TRUE(end.last(4));
}

// --min-time: past the count, the phase goes on until the deadline (start + min_time).
TEST(PhaseEnd, MinTimeHoldsTheEndBackUntilItsDeadline) {
  PeerJob j = job(0, 3);
  j.min_time_ns = 3'600'000'000'000;  // 1 h: not reached in this test
  detail::PhaseEnd running(j, now_ns());
  EXPECT_FALSE(running.last(2));
  EXPECT_FALSE(running.last(1000));
  detail::PhaseEnd passed(j, now_ns() - 2 * j.min_time_ns);  // started 2 h ago
  EXPECT_FALSE(passed.last(1)) << "the count still comes first";
  EXPECT_TRUE(passed.last(2));
}

// Bounded by time: the clock is looked at every 256 messages only, and once past the deadline
// every later message is the last too (the loop ends at the first).
TEST(PhaseEnd, ByTimeTheClockIsReadEvery256Messages) {
  PeerJob j = job(0, 0);
  j.duration_ns = 1;
  detail::PhaseEnd over(j, now_ns() - 1'000'000'000);
  for (uint64_t i = 0; i < 255; ++i) ASSERT_FALSE(over.last(i)) << i;
  EXPECT_TRUE(over.last(255));
  EXPECT_TRUE(over.last(256));
  j.duration_ns = 3'600'000'000'000;
  detail::PhaseEnd running(j, now_ns());
  for (uint64_t i = 0; i < 1024; ++i) ASSERT_FALSE(running.last(i)) << i;
}

// ---- pingpong -------------------------------------------------------------------------------

TEST(Pingpong, ASendsWarmupAndMeasuredAndFlagsOnlyTheLast) {
  Reliable ch;
  ch.peer = echo<Reliable>;
  const PeerOutcome out = detail::pingpong_a(ch, job(3, 7));
  ASSERT_EQ(ch.sent.size(), 10U);
  for (uint64_t k = 0; k < 10; ++k) {
    EXPECT_EQ(verify_message(ch.sent[k], k, 64), std::nullopt);
    EXPECT_EQ(header(ch.sent[k]).flags, k == 9 ? kFlagLast : 0U) << k;
  }
  EXPECT_EQ(out.messages, 7U);
  EXPECT_EQ(out.verified, 10U);
  EXPECT_EQ(out.bytes, 7U * 64);
  EXPECT_EQ(out.sample_every, 64U);
  EXPECT_EQ(out.latency.count(), 1U) << "1 in 64 of 7 round trips: the first";
  EXPECT_TRUE(ch.inbox.empty());
}

TEST(Pingpong, ATimesOneRoundTripInEverySampleEvery) {
  const std::vector<std::pair<uint32_t, uint64_t>> cases = {{1, 9}, {2, 5}, {4, 3}, {0, 0}};
  for (const auto& [every, samples] : cases) {
    Reliable ch;
    ch.peer = echo<Reliable>;
    PeerJob j = job(2, 9);
    j.sample_every = every;
    const PeerOutcome out = detail::pingpong_a(ch, j);
    EXPECT_EQ(out.sample_every, every);
    EXPECT_EQ(out.latency.count(), samples) << "sample every " << every;
  }
}

TEST(Pingpong, BEchoesEveryMessageUntilTheLast) {
  Reliable ch;
  for (uint64_t k = 0; k < 10; ++k) ch.queue(msg(k, 64, k == 9 ? kFlagLast : 0));
  ch.queue(msg(10));  // after the last: must stay unread
  const PeerOutcome out = detail::pingpong_b(ch, job(3, 7));
  ASSERT_EQ(ch.sent.size(), 10U);
  for (uint64_t k = 0; k < 10; ++k) {
    EXPECT_EQ(ch.sent[k], msg(k, 64, k == 9 ? kFlagLast : 0)) << "echo " << k << " changed";
  }
  EXPECT_EQ(ch.inbox.size(), 1U);
  EXPECT_EQ(out.verified, 10U);
  EXPECT_EQ(out.messages, 7U);
  EXPECT_EQ(out.bytes, 7U * 64);
}

TEST(Pingpong, ACorruptedOrLostEchoIsAVerificationError) {
  Reliable ch;
  ch.peer = [](Reliable& c, const Bytes& m) {
    Bytes e = m;
    if (header(m).seq == 5) e[40] ^= std::byte{0x10};
    c.queue(e);
  };
  EXPECT_TRUE(has(verification_error([&] { detail::pingpong_a(ch, job(2, 10)); }),
                  "corrupted payload in message seq 5 (64 bytes): first difference at byte 40"));
  EXPECT_EQ(ch.sent.size(), 6U) << "A stops at the bad echo";

  Reliable skip;
  skip.peer = [](Reliable& c, const Bytes& m) {
    c.queue(header(m).seq == 4 ? msg(5) : m);  // echo 4 lost, 5 in its place
  };
  EXPECT_TRUE(has(verification_error([&] { detail::pingpong_a(skip, job(2, 10)); }),
                  "lost message(s): seq 5 received, expected 4"));
}

TEST(Pingpong, BRejectsACorruptedMessageAndDoesNotEchoIt) {
  Reliable ch;
  for (uint64_t k = 0; k < 10; ++k) ch.queue(msg(k));
  (*ch.inbox[4])[63] ^= std::byte{1};  // the last payload byte of seq 4
  EXPECT_TRUE(has(verification_error([&] { detail::pingpong_b(ch, job(2, 8)); }),
                  "corrupted payload in message seq 4 (64 bytes): first difference at byte 63"));
  EXPECT_EQ(ch.sent.size(), 4U);
}

// ---- stream ---------------------------------------------------------------------------------

TEST(Stream, AFlagsTheLastAndWaitsForTheAcknowledgement) {
  Reliable ch;
  ch.peer = ack_last<Reliable>;
  const PeerOutcome out = detail::stream_a<Reliable, false>(ch, job(5, 20));
  ASSERT_EQ(ch.sent.size(), 25U);
  for (uint64_t k = 0; k < 25; ++k) {
    EXPECT_EQ(verify_message(ch.sent[k], k, 64), std::nullopt);
    EXPECT_EQ(header(ch.sent[k]).flags, k == 24 ? kFlagLast : 0U) << k;
  }
  EXPECT_TRUE(ch.inbox.empty()) << "the acknowledgement was read";
  EXPECT_EQ(out.messages, 20U);
  EXPECT_EQ(out.bytes, 20U * 64);
  EXPECT_EQ(out.verified, 1U);
}

TEST(Stream, ARejectsAWrongAcknowledgement) {
  Reliable wrong_seq;
  wrong_seq.peer = [](Reliable& c, const Bytes& m) {
    if (header(m).flags & kFlagLast) c.queue(msg(header(m).seq, 64, kFlagAck));
  };
  EXPECT_TRUE(
      has(verification_error([&] { detail::stream_a<Reliable, false>(wrong_seq, job(1, 4)); }),
          "seq 4 received, expected 5"));
  Reliable no_flag;
  no_flag.peer = [](Reliable& c, const Bytes& m) {
    if (header(m).flags & kFlagLast) c.queue(msg(header(m).seq + 1));
  };
  EXPECT_TRUE(
      has(verification_error([&] { detail::stream_a<Reliable, false>(no_flag, job(1, 4)); }),
          "expected the receiver's acknowledgement"));
}

TEST(Stream, BCountsToTheLastAndAcknowledgesIt) {
  Reliable ch;
  for (uint64_t k = 0; k < 25; ++k) ch.queue(msg(k, 64, k == 24 ? kFlagLast : 0));
  const PeerOutcome out = detail::stream_b(ch, job(5, 20));
  ASSERT_EQ(ch.sent.size(), 1U);
  EXPECT_EQ(ch.sent[0], msg(25, 64, kFlagAck));
  EXPECT_EQ(out.messages, 20U);
  EXPECT_EQ(out.verified, 25U);
  EXPECT_EQ(out.bytes, 20U * 64);
}

// A time-bounded stream ends where A flags it, not after a count B knows.
TEST(Stream, BEndsWhereTheSenderFlagsTheLast) {
  Reliable ch;
  for (uint64_t k = 0; k < 8; ++k) ch.queue(msg(k, 64, k == 5 ? kFlagLast : 0));
  PeerJob j = job(2, 0);
  j.duration_ns = 1'000'000'000;
  const PeerOutcome out = detail::stream_b(ch, j);
  EXPECT_EQ(out.messages, 4U);
  EXPECT_EQ(ch.sent.at(0), msg(6, 64, kFlagAck));
  EXPECT_EQ(ch.inbox.size(), 2U);
}

// ---- paced ----------------------------------------------------------------------------------

TEST(Paced, IntendedTimesAreExactIntegerSteps) {
  EXPECT_EQ(detail::intended_ns(100, 0, 3), 100);
  EXPECT_EQ(detail::intended_ns(0, 1, 3), 333'333'333);
  EXPECT_EQ(detail::intended_ns(100, 3, 3), 1'000'000'100);
  EXPECT_EQ(detail::intended_ns(0, 7, 1'000'000), 7'000);
}

// A stamps each message with its intended send time on one schedule (1 us apart at 1 M/s), warm-up
// included, and otherwise sends the usual pattern.
TEST(Paced, AStampsTheScheduleAndWaitsForTheAcknowledgement) {
  Reliable ch;
  ch.peer = ack_last<Reliable>;
  PeerJob j = job(2, 10);
  j.rate = 1'000'000;
  const PeerOutcome out = detail::paced_a<Reliable, false>(ch, j);
  ASSERT_EQ(ch.sent.size(), 12U);
  int64_t first = 0;
  for (uint64_t k = 0; k < 12; ++k) {
    Bytes m = ch.sent[k];
    const int64_t when = detail::unstamp(m, k);
    if (k == 0) first = when;
    EXPECT_EQ(when - first, static_cast<int64_t>(k) * 1000) << k;
    EXPECT_EQ(verify_message(m, k, 64), std::nullopt) << "with the stamp put back";
    EXPECT_EQ(header(m).flags, k == 11 ? kFlagLast : 0U) << k;
  }
  EXPECT_TRUE(ch.inbox.empty());
  EXPECT_EQ(out.messages, 10U);
  EXPECT_EQ(out.verified, 1U);
  EXPECT_GE(out.max_lag_ns, 0);
}

TEST(Paced, BRecordsEveryMeasuredMessageAndAcknowledgesTheLast) {
  Reliable ch;
  for (uint64_t k = 0; k < 12; ++k)
    ch.queue(stamped(k, static_cast<int64_t>(1000 * (k + 1)), 64, k == 11 ? kFlagLast : 0));
  const PeerOutcome out = detail::paced_b(ch, job(2, 10));
  EXPECT_EQ(out.latency.count(), 10U);
  EXPECT_EQ(out.messages, 10U);
  EXPECT_EQ(out.verified, 12U);
  ASSERT_EQ(ch.sent.size(), 1U);
  EXPECT_EQ(ch.sent[0], msg(12, 64, kFlagAck));
}

TEST(Paced, BRejectsAStampThatDoesNotMoveOn) {
  Reliable ch;
  ch.queue(stamped(0, 5000));
  ch.queue(stamped(1, 5000));
  EXPECT_TRUE(has(verification_error([&] { detail::paced_b(ch, job(1, 5)); }),
                  "paced: message seq 1 is stamped 5000 ns, not after the previous one"));
}

// ---- what every receiver rejects --------------------------------------------------------------

// Corruption anywhere, a wrong size, a truncated message and a sequence gap fail every receiving
// loop, reliable and lossy, with the sentence that says what was wrong.
TEST(Verification, EveryReceiverRejectsABadMessage) {
  // The usual message of `seq`, stamped for the paced loops.
  auto good = [](uint64_t seq, bool paced) {
    return paced ? stamped(seq, static_cast<int64_t>(1000 * (seq + 1))) : msg(seq);
  };
  struct Bad {
    const char* what;
    std::function<Bytes(bool paced)> make;  // the bad message in place of seq 3
    const char* says;
  };
  const std::vector<Bad> bads = {
      {"payload bit",
       [&](bool p) {
         Bytes m = good(3, p);
         m[50] ^= std::byte{0x80};
         return m;
       },
       "corrupted payload in message seq 3 (64 bytes): first difference at byte 50"},
      {"header size",
       [&](bool p) {
         Bytes m = good(3, p);
         m[8] = std::byte{65};
         return m;
       },
       "header says 65"},
      {"truncated",
       [&](bool p) {
         Bytes m = good(3, p);
         m.resize(40);
         return m;
       },
       "truncated message seq 3: 40 bytes received"},
      {"gap", [&](bool p) { return good(5, p); }, "lost message(s): seq 5 received, expected 3"},
  };
  using Inbox = std::deque<std::optional<Bytes>>;
  struct Loop {
    const char* name;
    bool paced, lossy;
    std::function<void(Inbox)> run;
  };
  const std::vector<Loop> loops = {
      {"pingpong B", false, false,
       [](Inbox in) {
         Reliable c;
         c.inbox = std::move(in);
         detail::pingpong_b(c, job(1, 5));
       }},
      {"stream B", false, false,
       [](Inbox in) {
         Reliable c;
         c.inbox = std::move(in);
         detail::stream_b(c, job(1, 5));
       }},
      {"paced B", true, false,
       [](Inbox in) {
         Reliable c;
         c.inbox = std::move(in);
         detail::paced_b(c, job(1, 5));
       }},
  };
  std::vector<Loop> all = loops;
  for (auto [mode, name] : {std::pair{detail::LossyMode::kEcho, "lossy echo"},
                            std::pair{detail::LossyMode::kCount, "lossy count"},
                            std::pair{detail::LossyMode::kPaced, "lossy paced"}}) {
    all.push_back({name, mode == detail::LossyMode::kPaced, true, [mode = mode](Inbox in) {
                     Lossy c;
                     c.inbox = std::move(in);
                     detail::receive_lossy(c, job(1, 5), mode);
                   }});
  }
  for (const auto& loop : all) {
    for (const auto& bad : bads) {
      // A gap is a loss on a lossy channel, not an error.
      if (loop.lossy && std::string(bad.what) == "gap") continue;
      Inbox in;
      for (uint64_t k = 0; k < 3; ++k) in.emplace_back(good(k, loop.paced));
      in.emplace_back(bad.make(loop.paced));
      const std::string text = verification_error([&] { loop.run(std::move(in)); });
      EXPECT_TRUE(has(text, bad.says)) << loop.name << ", " << bad.what << ": \"" << text << "\"";
    }
  }
}

// ---- the self-check's injected delays ---------------------------------------------------------

// The delays recorded instead of spent, with how far the channel had got at each.
struct RecordedDelay {
  struct Call {
    int64_t ns;
    uint64_t received;
    size_t sent;
  };
  static inline std::vector<Call> calls;
  static inline std::function<std::pair<uint64_t, size_t>()> progress;
  static void spin(int64_t ns) {
    const auto [r, s] = progress ? progress() : std::pair<uint64_t, size_t>{0, 0};
    calls.push_back({ns, r, s});
  }
};

class Injection : public ::testing::Test {
 protected:
  void SetUp() override { RecordedDelay::calls.clear(); }
  void TearDown() override { RecordedDelay::progress = nullptr; }
  template <class Ch>
  void watch(Ch& ch) {
    RecordedDelay::progress = [&ch] { return std::pair{ch.received, ch.sent.size()}; };
  }
  static std::vector<RecordedDelay::Call>& calls() { return RecordedDelay::calls; }
  // Watched, with n 64-byte messages queued, the last flagged last.
  void load(Reliable& ch, uint64_t n) {
    watch(ch);
    for (uint64_t k = 0; k < n; ++k) ch.queue(msg(k, 64, k + 1 == n ? kFlagLast : 0));
  }
};

TEST_F(Injection, TheDefaultSpinsAtLeastThatLong) {
  const int64_t t0 = now_ns();
  detail::SpinDelay::spin(20'000);
  EXPECT_GE(now_ns() - t0, 20'000);
}

TEST_F(Injection, NothingInjectedByDefault) {
  Reliable ch;
  for (uint64_t k = 0; k < 6; ++k) ch.queue(msg(k, 64, k == 5 ? kFlagLast : 0));
  detail::pingpong_b<Reliable, RecordedDelay>(ch, job(1, 5));
  EXPECT_TRUE(calls().empty());
}

// pingpong B: the delay comes after each measured message is received and before it is echoed;
// none in the warm-up.
TEST_F(Injection, PingpongDelaysEveryMeasuredMessageBeforeItsEcho) {
  Reliable ch;
  load(ch, 11);
  PeerJob j = job(3, 8);
  j.inject_delay_ns = 250;
  detail::pingpong_b<Reliable, RecordedDelay>(ch, j);
  ASSERT_EQ(calls().size(), 8U);
  for (uint64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(calls()[i].ns, 250);
    EXPECT_EQ(calls()[i].received, 3 + i + 1) << i;
    EXPECT_EQ(calls()[i].sent, 3 + i) << "delay " << i << " after the echo";
  }
}

// The stall comes once, at the measured message that is half-way by count, after its delay.
TEST_F(Injection, StallOnceHalfWayByCount) {
  Reliable ch;
  load(ch, 11);
  PeerJob j = job(3, 8);
  j.inject_delay_ns = 7;
  j.inject_stall_ns = 9'999;
  detail::pingpong_b<Reliable, RecordedDelay>(ch, j);
  ASSERT_EQ(calls().size(), 9U);
  EXPECT_EQ(calls()[4].ns, 7);
  EXPECT_EQ(calls()[5].ns, 9'999);
  EXPECT_EQ(calls()[5].received, 3U + 4 + 1) << "measured message 4 of 8";
  for (size_t c = 0; c < calls().size(); ++c) {
    if (c != 5) {
      EXPECT_EQ(calls()[c].ns, 7) << c;
    }
  }
}

// Bounded by time, half-way is by the clock: a 1 h phase never gets there in a few messages; a
// zero-length one is past half-way at its first measured message. Once, either way.
TEST_F(Injection, StallHalfWayByTime) {
  for (int64_t duration : {int64_t{3'600'000'000'000}, int64_t{0}}) {
    calls().clear();
    Reliable ch;
    watch(ch);
    for (uint64_t k = 0; k < 7; ++k) ch.queue(msg(k, 64, k == 6 ? kFlagLast : 0));
    PeerJob j = job(2, 0);
    j.duration_ns = duration;
    j.inject_stall_ns = 500;
    detail::stream_b<Reliable, RecordedDelay>(ch, j);
    if (duration != 0) {
      EXPECT_TRUE(calls().empty());
    } else {
      ASSERT_EQ(calls().size(), 1U);
      EXPECT_EQ(calls()[0].ns, 500);
      EXPECT_EQ(calls()[0].received, 3U) << "at the first measured message";
    }
  }
}

// Every receiving loop delays each measured message it gets (and only those).
TEST_F(Injection, EveryReceiverDelaysEachMeasuredMessage) {
  PeerJob j = job(2, 6);
  j.inject_delay_ns = 42;
  auto reliable_in = [](bool paced) {
    std::deque<std::optional<Bytes>> in;
    for (uint64_t k = 0; k < 8; ++k) {
      const uint32_t flags = k == 7 ? kFlagLast : 0;
      in.emplace_back(paced ? stamped(k, static_cast<int64_t>(1000 * (k + 1)), 64, flags)
                            : msg(k, 64, flags));
    }
    return in;
  };
  {
    Reliable ch;
    ch.inbox = reliable_in(false);
    detail::stream_b<Reliable, RecordedDelay>(ch, j);
    EXPECT_EQ(calls().size(), 6U) << "stream";
  }
  calls().clear();
  {
    Reliable ch;
    ch.inbox = reliable_in(true);
    detail::paced_b<Reliable, RecordedDelay>(ch, j);
    EXPECT_EQ(calls().size(), 6U) << "paced";
  }
  for (auto mode :
       {detail::LossyMode::kEcho, detail::LossyMode::kCount, detail::LossyMode::kPaced}) {
    calls().clear();
    Lossy ch;
    // seq 0, 1 warm-up; 2..7 measured with 4 lost; END 8.
    const bool paced = mode == detail::LossyMode::kPaced;
    for (uint64_t k : {0, 1, 2, 3, 5, 6, 7}) {
      ch.queue(paced ? stamped(k, static_cast<int64_t>(1000 * (k + 1))) : msg(k));
    }
    ch.queue(msg(8, 64, kFlagLast));
    detail::receive_lossy<Lossy, RecordedDelay>(ch, j, mode);
    EXPECT_EQ(calls().size(), 5U) << "lossy mode " << static_cast<int>(mode);
    for (const auto& c : calls()) EXPECT_EQ(c.ns, 42);
  }
}

// ---- lossy: the END / ACK handshake -------------------------------------------------------------

// The receiving side of the handshake, played by the fake: answers END with an ACK unless the
// test drops it.
struct LossyB {
  int ends = 0;                                                   // ENDs seen
  std::function<bool(int)> drop_ack = [](int) { return false; };  // by END number, from 1
  void operator()(Lossy& ch, const Bytes& m) {
    if (!(header(m).flags & kFlagLast)) return;
    if (drop_ack(++ends)) return;
    ch.queue(msg(header(m).seq, m.size(), kFlagAck));
  }
};

TEST(LossyEnd, ResendsEndUntilAcknowledged) {
  Lossy ch;
  LossyB b;
  b.drop_ack = [](int n) { return n <= 2; };  // the first two ACKs are lost
  ch.peer = std::ref(b);
  Bytes tx(64), rx(64);
  detail::end_lossy(ch, tx, rx, 50, 64);
  ASSERT_EQ(ch.sent.size(), 3U);
  for (const auto& m : ch.sent) EXPECT_EQ(m, msg(50, 64, kFlagLast));
  EXPECT_EQ(ch.quiet, 2U) << "one loss timeout per lost ACK";
  EXPECT_TRUE(ch.inbox.empty());
}

// The ACK of the first END comes after A has given up waiting and sent END again: A takes it (and
// skips a late echo of a data message before it); the second ACK is left unread.
TEST(LossyEnd, ALateAcknowledgementIsTaken) {
  Lossy ch;
  int ends = 0;
  ch.peer = [&ends](Lossy& c, const Bytes& /*end*/) {
    if (++ends == 2) {
      c.queue(msg(49));                // the echo of a data message, later still
      c.queue(msg(50, 64, kFlagAck));  // ACK of the first END
      c.queue(msg(50, 64, kFlagAck));  // ACK of this one
    }
  };
  Bytes tx(64), rx(64);
  detail::end_lossy(ch, tx, rx, 50, 64);
  EXPECT_EQ(ch.sent.size(), 2U);
  EXPECT_EQ(ch.quiet, 1U);
  EXPECT_EQ(ch.inbox.size(), 1U);
}

TEST(LossyEnd, GivesUpAfterEveryAttempt) {
  Lossy ch;
  Bytes tx(64), rx(64);
  EXPECT_TRUE(has(verification_error([&] { detail::end_lossy(ch, tx, rx, 7, 64); }),
                  "lossy end: no acknowledgement after 40 attempts"));
  EXPECT_EQ(ch.sent.size(), static_cast<size_t>(detail::kEndAttempts));
}

TEST(LossyEnd, AReplyThatIsNotAnAcknowledgementIsAnError) {
  Lossy ch;
  ch.peer = echo<Lossy>;  // END comes back as it went
  Bytes tx(64), rx(64);
  EXPECT_TRUE(has(verification_error([&] { detail::end_lossy(ch, tx, rx, 7, 64); }),
                  "lossy end: expected the acknowledgement"));
}

// B counts the measured messages that are missing (before the first that arrived too), and
// answers END with its ACK.
TEST(LossyReceive, CountsGapsAndAcknowledgesEnd) {
  Lossy ch;
  for (uint64_t k : {0, 1, 4, 5, 7}) ch.queue(msg(k));
  ch.inbox.emplace_back(std::nullopt);  // a quiet loss timeout: B waits on
  ch.queue(msg(9));
  ch.queue(msg(10, 64, kFlagLast));
  const PeerOutcome out = detail::receive_lossy(ch, job(2, 8), detail::LossyMode::kCount);
  EXPECT_EQ(out.messages, 4U);  // 4, 5, 7, 9
  EXPECT_EQ(out.lost, 4U);      // 2, 3, 6, 8
  EXPECT_EQ(out.verified, 6U);
  EXPECT_EQ(out.bytes, 4U * 64);
  ASSERT_EQ(ch.sent.size(), 1U);
  EXPECT_EQ(ch.sent[0], msg(10, 64, kFlagAck));
}

TEST(LossyReceive, EchoesWhatArrives) {
  Lossy ch;
  for (uint64_t k : {0, 2, 3}) ch.queue(msg(k));
  ch.queue(msg(4, 64, kFlagLast));
  const PeerOutcome out = detail::receive_lossy(ch, job(1, 3), detail::LossyMode::kEcho);
  ASSERT_EQ(ch.sent.size(), 4U);
  EXPECT_EQ(ch.sent[0], msg(0));
  EXPECT_EQ(ch.sent[1], msg(2));
  EXPECT_EQ(ch.sent[2], msg(3));
  EXPECT_EQ(ch.sent[3], msg(4, 64, kFlagAck));
  EXPECT_EQ(out.messages, 2U);
  EXPECT_EQ(out.lost, 1U);
}

TEST(LossyReceive, PacedRecordsTheLatencyOfWhatArrives) {
  Lossy ch;
  for (uint64_t k : {0, 1, 3, 4}) ch.queue(stamped(k, static_cast<int64_t>(1000 * (k + 1))));
  ch.queue(msg(5, 64, kFlagLast));
  const PeerOutcome out = detail::receive_lossy(ch, job(1, 4), detail::LossyMode::kPaced);
  EXPECT_EQ(out.latency.count(), 3U);
  EXPECT_EQ(out.lost, 1U);
}

TEST(LossyReceive, ADuplicateOrAnOlderMessageIsAnError) {
  Lossy dup;
  for (uint64_t k : {0, 1, 2, 2}) dup.queue(msg(k));
  EXPECT_TRUE(has(
      verification_error([&] { detail::receive_lossy(dup, job(1, 5), detail::LossyMode::kCount); }),
      "duplicated or reordered message: seq 2 received after seq 2"));
  Lossy older;
  for (uint64_t k : {0, 3, 1}) older.queue(msg(k));
  EXPECT_TRUE(has(verification_error(
                      [&] { detail::receive_lossy(older, job(1, 5), detail::LossyMode::kCount); }),
                  "seq 1 received after seq 3"));
  Lossy tiny;
  tiny.queue(Bytes(8));
  EXPECT_TRUE(has(verification_error(
                      [&] { detail::receive_lossy(tiny, job(1, 5), detail::LossyMode::kCount); }),
                  "truncated datagram: 8 bytes"));
}

// A of a lossy pingpong: a reply that does not come within the loss timeout is a lost round trip;
// a reply that comes later still is skipped; then END until acknowledged.
TEST(LossyPingpong, ACountsLostRoundTripsAndEnds) {
  Lossy ch;
  std::optional<Bytes> held;
  ch.peer = [&held](Lossy& c, const Bytes& m) {
    const MessageHeader h = header(m);
    if (h.flags & kFlagLast) {
      c.queue(msg(h.seq, 64, kFlagAck));
      return;
    }
    if (held) {
      c.queue(*held);  // the late echo of 7 arrives before the echo of 8
      held.reset();
    }
    if (h.seq == 4) return;  // lost
    if (h.seq == 7) {
      held = m;
      return;
    }
    c.queue(m);
  };
  const PeerOutcome out = detail::pingpong_a_lossy(ch, job(2, 10));
  EXPECT_EQ(out.messages, 8U);
  EXPECT_EQ(out.lost, 2U);
  EXPECT_EQ(out.verified, 8U);
  ASSERT_EQ(ch.sent.size(), 13U);
  EXPECT_EQ(ch.sent.back(), msg(12, 64, kFlagLast));
  for (uint64_t k = 0; k < 12; ++k) EXPECT_EQ(header(ch.sent[k]).flags, 0U) << k;
  EXPECT_TRUE(ch.inbox.empty());
}

// A of a lossy stream or paced run: no data message carries the last flag (it may be lost); END
// follows, re-sent when its ACK is lost.
TEST(LossyOneWay, AEndsWithTheHandshake) {
  for (bool paced : {false, true}) {
    Lossy ch;
    LossyB b;
    b.drop_ack = [](int n) { return n == 1; };
    ch.peer = std::ref(b);
    PeerJob j = job(3, 9);
    j.rate = 1'000'000;
    const PeerOutcome out =
        paced ? detail::paced_a<Lossy, true>(ch, j) : detail::stream_a<Lossy, true>(ch, j);
    ASSERT_EQ(ch.sent.size(), 14U) << "12 data messages and END twice";
    for (uint64_t k = 0; k < 12; ++k) EXPECT_EQ(header(ch.sent[k]).flags, 0U) << k;
    EXPECT_EQ(ch.sent[12], msg(12, 64, kFlagLast));
    EXPECT_EQ(ch.sent[13], msg(12, 64, kFlagLast));
    EXPECT_EQ(out.messages, 9U);
    EXPECT_EQ(b.ends, 2);
  }
}

// ---- both roles against each other
// ----------------------------------------------------------------

// One direction between two threads: push never blocks, pop waits; once closed and empty, pop
// returns nothing (the peer has gone).
class Queue {
 public:
  void push(Bytes m) {
    {
      std::lock_guard lock(mutex_);
      q_.push_back(std::move(m));
    }
    cv_.notify_one();
  }
  std::optional<Bytes> pop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    Bytes m = std::move(q_.front());
    q_.pop_front();
    return m;
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Bytes> q_;
  bool closed_ = false;
};

struct ThreadEnd {
  Queue& in;
  Queue& out;
  void send(std::span<const std::byte> m) { out.push(Bytes(m.begin(), m.end())); }
  size_t recv(std::span<std::byte> buf) {
    auto m = in.pop();
    if (!m) throw PeerGone("thread end: the peer has gone");
    if (m->size() > buf.size())
      throw std::logic_error("thread end: message larger than the buffer");
    std::copy(m->begin(), m->end(), buf.begin());
    return m->size();
  }
};

class BothRoles : public ::testing::TestWithParam<Workload> {};

TEST_P(BothRoles, RunToTheEndAndAgree) {
  Queue ab, ba;
  PeerJob j = job(50, 500, 100);
  j.workload = GetParam();
  j.rate = 10'000'000;
  PeerOutcome out_b;
  std::exception_ptr error_b;
  std::thread tb([&] {
    ThreadEnd end{ab, ba};
    PeerJob jb = j;
    jb.role = Role::kB;
    try {
      out_b = run_workload(end, jb);
    } catch (...) {
      error_b = std::current_exception();
    }
    ba.close();
  });
  ThreadEnd end{ba, ab};
  PeerOutcome out_a;
  std::exception_ptr error_a;
  try {
    out_a = run_workload(end, j);
  } catch (...) {
    error_a = std::current_exception();
  }
  ab.close();
  tb.join();
  auto text = [](const std::exception_ptr& e) -> std::string {
    if (!e) return "";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    }
  };
  ASSERT_EQ(text(error_a), "");
  ASSERT_EQ(text(error_b), "");
  EXPECT_EQ(out_a.messages, 500U);
  EXPECT_EQ(out_b.messages, 500U);
  EXPECT_EQ(out_b.bytes, 500U * 100);
  switch (GetParam()) {
    case Workload::kPingpong:
      EXPECT_EQ(out_a.verified, 550U);
      EXPECT_EQ(out_b.verified, 550U);
      EXPECT_EQ(out_a.latency.count(), 8U) << "1 in 64 of 500";
      break;
    case Workload::kStream:
      EXPECT_EQ(out_b.verified, 550U);
      break;
    case Workload::kPaced:
      EXPECT_EQ(out_b.verified, 550U);
      EXPECT_EQ(out_b.latency.count(), 500U);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Workloads, BothRoles,
                         ::testing::Values(Workload::kPingpong, Workload::kStream,
                                           Workload::kPaced),
                         [](const auto& p) { return std::string(to_string(p.param)); });

}  // namespace
}  // namespace ipcperf
