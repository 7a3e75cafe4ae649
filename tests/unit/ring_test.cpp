// The SPSC ring on its own: wrap-around at every offset, full/empty transitions, variable sizes,
// close semantics, and a two-thread stress run with random sizes (also built with -fsanitize=thread
// by the tsan preset: TSan cannot see across processes, so the ring runs between threads here).
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipcperf/message.hpp"
#include "ipcperf/spsc_ring.hpp"

namespace ipcperf {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr uint64_t kStressMessages = 200'000;
#else
constexpr uint64_t kStressMessages = 2'000'000;
#endif

struct Region {
  explicit Region(size_t capacity) : bytes(SpscRing::region_size(capacity)) {
    mem = static_cast<std::byte*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
    SpscRing::init(mem, capacity);
  }
  ~Region() { std::free(mem); }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  std::byte* mem;
  size_t bytes;
};

std::vector<std::byte> message(uint64_t seq, size_t size) {
  std::vector<std::byte> m(size);
  fill_message(m, seq);
  return m;
}

void expect_message(std::span<const std::byte> got, uint64_t seq, size_t size) {
  auto why = verify_message(got, seq, size);
  ASSERT_FALSE(why.has_value()) << *why;
}

TEST(SpscRing, CapacityRules) {
  EXPECT_TRUE(SpscRing::valid_capacity(256));
  EXPECT_TRUE(SpscRing::valid_capacity(1 << 20));
  EXPECT_FALSE(SpscRing::valid_capacity(255));
  EXPECT_FALSE(SpscRing::valid_capacity(1000));
  EXPECT_FALSE(SpscRing::valid_capacity(128));
  EXPECT_EQ(SpscRing::max_message(4096), 2048U - 16U);
}

TEST(SpscRing, EmptyRingHasNothing) {
  Region r(256);
  SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
  std::vector<std::byte> buf(256);
  EXPECT_EQ(rx.try_recv(buf), -1);
}

TEST(SpscRing, RejectsUninitialisedRegion) {
  std::vector<std::byte> junk(SpscRing::region_size(256) + 64);
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(junk.data()) + 63) & ~uintptr_t{63});
  EXPECT_THROW(
      SpscRing(aligned, SpscRing::region_size(256), SpscRing::Side::kConsumer, Wait::kSpin),
      std::runtime_error);
}

// For every 8-byte offset of a small ring, start there and send messages of several sizes, so
// that records wrap (or end exactly at the end) from every position; also start just below the
// point where the 31-bit position tag wraps.
TEST(SpscRing, WrapAroundAtEveryOffset) {
  constexpr size_t kCap = 512;
  std::vector<std::byte> buf(kCap);
  const uint64_t tag_wrap = uint64_t{1} << 34;  // (position / 8) overflows 31 bits here
  for (uint64_t base : {uint64_t{0}, tag_wrap - 4 * kCap}) {
    for (size_t start = 0; start < kCap; start += 8) {
      for (size_t size : {16UL, 17UL, 23UL, 24UL, 64UL, 100UL, SpscRing::max_message(kCap)}) {
        Region r(kCap);
        SpscRing::init(r.mem, kCap, base + start);
        SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
        SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
        uint64_t got = 0;
        auto take = [&] {
          const int64_t n = rx.try_recv(buf);
          ASSERT_EQ(n, static_cast<int64_t>(size)) << "start " << start << " size " << size;
          expect_message({buf.data(), size}, got++, size);
        };
        for (uint64_t seq = 0; seq < 24; ++seq) {
          auto m = message(seq, size);
          // Keep messages pending until the ring refuses: wraps happen with data in the ring.
          while (!tx.try_send(m)) {
            ASSERT_LT(got, seq) << "an empty ring refused a message (start " << start << ")";
            take();
          }
        }
        while (got < 24) take();
        EXPECT_EQ(rx.try_recv(buf), -1);
      }
    }
  }
}

TEST(SpscRing, FullAndEmptyTransitions) {
  constexpr size_t kCap = 1024;
  for (size_t size : {16UL, 40UL, 64UL, 200UL, 496UL}) {
    Region r(kCap);
    SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
    SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
    std::vector<std::byte> buf(kCap);
    uint64_t sent = 0, got = 0;
    for (int round = 0; round < 50; ++round) {
      // Fill until full: the ring must refuse, not overwrite.
      int accepted = 0;
      while (tx.try_send(message(sent, size))) {
        ++sent;
        ++accepted;
      }
      ASSERT_GT(accepted, 0) << "an empty ring accepted nothing (size " << size << ")";
      ASSERT_FALSE(tx.try_send(message(sent, size)));
      // Drain half, then refill: partial transitions.
      for (int i = 0; i < (accepted + 1) / 2; ++i, ++got) {
        const int64_t n = rx.try_recv(buf);
        ASSERT_EQ(n, static_cast<int64_t>(size));
        expect_message({buf.data(), size}, got, size);
      }
      // Space freed at the head may not be contiguous yet: a send may or may not fit here.
      if (tx.try_send(message(sent, size))) ++sent;
      // Drain completely: empty again.
      for (int64_t n; (n = rx.try_recv(buf)) >= 0; ++got) {
        ASSERT_EQ(n, static_cast<int64_t>(size));
        expect_message({buf.data(), size}, got, size);
      }
      ASSERT_EQ(got, sent);
      // An empty ring always takes a message of the maximum size or less.
      ASSERT_TRUE(tx.try_send(message(sent, size)));
      ASSERT_EQ(rx.try_recv(buf), static_cast<int64_t>(size));
      expect_message({buf.data(), size}, sent, size);
      got = ++sent;
    }
  }
}

TEST(SpscRing, VariableSizesKeepOrder) {
  constexpr size_t kCap = 4096;
  Region r(kCap);
  SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
  SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<size_t> dist(kMinMessageSize, SpscRing::max_message(kCap));
  std::vector<std::byte> buf(kCap);
  std::vector<size_t> sizes;
  uint64_t sent = 0, got = 0;
  for (int i = 0; i < 20000; ++i) {
    const size_t s = dist(rng);
    if (tx.try_send(message(sent, s))) {
      sizes.push_back(s);
      ++sent;
    }
    if (rng() % 3 != 0) {
      const int64_t n = rx.try_recv(buf);
      if (n >= 0) {
        ASSERT_EQ(static_cast<size_t>(n), sizes[got]);
        expect_message({buf.data(), sizes[got]}, got, sizes[got]);
        ++got;
      }
    }
  }
  for (int64_t n; (n = rx.try_recv(buf)) >= 0; ++got) {
    expect_message({buf.data(), static_cast<size_t>(n)}, got, sizes[got]);
  }
  EXPECT_EQ(got, sent);
  EXPECT_GT(sent, 10000U);
}

TEST(SpscRing, TooSmallBufferIsAContractViolation) {
  Region r(1024);
  SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
  SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
  ASSERT_TRUE(tx.try_send(message(0, 100)));
  std::vector<std::byte> small(50);
  EXPECT_THROW(rx.try_recv(small), std::length_error);
}

TEST(SpscRing, ClosedProducerIsSeenAfterDraining) {
  Region r(1024);
  SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin);
  {
    SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
    tx.send(message(0, 64));
    tx.send(message(1, 64));
  }  // closed
  std::vector<std::byte> buf(1024);
  EXPECT_EQ(rx.recv(buf), 64U);
  expect_message({buf.data(), 64}, 0, 64);
  EXPECT_EQ(rx.recv(buf), 64U);
  expect_message({buf.data(), 64}, 1, 64);
  EXPECT_THROW(rx.recv(buf), PeerGone);
}

TEST(SpscRing, ClosedConsumerStopsAFullProducer) {
  Region r(256);
  SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, Wait::kSpin);
  { SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, Wait::kSpin); }
  auto m = message(0, 64);
  EXPECT_THROW(
      {
        for (int i = 0; i < 100; ++i) tx.send(m);
      },
      PeerGone);
}

// Two threads, random sizes, every message verified; for each wait strategy.
class RingStress : public ::testing::TestWithParam<Wait> {};

TEST_P(RingStress, TwoThreadsRandomSizesVerified) {
  const Wait wait = GetParam();
  constexpr size_t kCap = 1 << 14;
  const uint64_t n = wait == Wait::kSpin ? kStressMessages : kStressMessages / 10;
  Region r(kCap);
  SpscRing rx(r.mem, r.bytes, SpscRing::Side::kConsumer, wait);
  std::thread producer([&] {
    SpscRing tx(r.mem, r.bytes, SpscRing::Side::kProducer, wait);
    std::mt19937_64 rng(7);
    std::vector<std::byte> m(kCap);
    for (uint64_t seq = 0; seq < n; ++seq) {
      // Mostly small, sometimes large: exercises wrap and full transitions.
      const size_t s =
          (rng() % 16 == 0)
              ? kMinMessageSize + rng() % (SpscRing::max_message(kCap) - kMinMessageSize)
              : kMinMessageSize + rng() % 120;
      fill_message({m.data(), s}, seq);
      tx.send({m.data(), s});
    }
  });
  std::mt19937_64 rng(7);
  std::vector<std::byte> buf(kCap);
  uint64_t bad = 0;
  std::string first_error;
  for (uint64_t seq = 0; seq < n; ++seq) {
    const size_t s = (rng() % 16 == 0)
                         ? kMinMessageSize + rng() % (SpscRing::max_message(kCap) - kMinMessageSize)
                         : kMinMessageSize + rng() % 120;
    const size_t got = rx.recv(buf);
    if (auto why = verify_message({buf.data(), got}, seq, s)) {
      if (bad++ == 0) first_error = *why;
    }
  }
  producer.join();
  EXPECT_EQ(bad, 0U) << first_error;
  EXPECT_EQ(rx.try_recv(buf), -1);
}

INSTANTIATE_TEST_SUITE_P(Waits, RingStress,
                         ::testing::Values(Wait::kSpin, Wait::kYield, Wait::kBlock),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

}  // namespace
}  // namespace ipcperf
