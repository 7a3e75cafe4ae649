// Ring design comparison: ping-pong round trips between two threads pinned to two CPUs, for the
// designs an SPSC ring can take. It is the measurement behind the layout of SpscRing (see
// spsc_ring.hpp): run `ipcperf_ring_designs [cpuA cpuB]` and read the ratios to the one-line floor.
//
//   floor/one-line        one cache line bounced: the hardware limit of a round trip
//   mailbox/two-lines     one line per direction, a single 8-byte store each way
//   index-polling         fixed 64-byte slots, the consumer polls the producer's index (Lamport
//                         with cached indices): message line + index line per direction
//   in-slot (SpscRing)    our ring: the consumer polls the header word inside the slot
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include <pthread.h>
#include <sched.h>

#include "ipcperf/spsc_ring.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf {
namespace {

constexpr uint64_t kRoundTrips = 500'000;

void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

template <class A, class B>
double time_round_trips(int cpu_a, int cpu_b, A&& a, B&& b) {
  std::atomic<int> ready{0};
  std::thread tb([&] {
    pin(cpu_b);
    ready.fetch_add(1);
    while (ready.load() < 2) cpu_relax();
    b();
  });
  pin(cpu_a);
  ready.fetch_add(1);
  while (ready.load() < 2) cpu_relax();
  const int64_t t0 = now_ns();
  a();
  const int64_t t1 = now_ns();
  tb.join();
  return static_cast<double>(t1 - t0) / kRoundTrips;
}

struct alignas(64) Line {
  std::atomic<uint64_t> v{0};
};

double floor_one_line(int ca, int cb) {
  Line l;
  return time_round_trips(
      ca, cb,
      [&] {
        for (uint64_t i = 0; i < kRoundTrips; ++i) {
          l.v.store(2 * i + 1, std::memory_order_release);
          while (l.v.load(std::memory_order_acquire) != 2 * i + 2) cpu_relax();
        }
      },
      [&] {
        for (uint64_t i = 0; i < kRoundTrips; ++i) {
          while (l.v.load(std::memory_order_acquire) != 2 * i + 1) cpu_relax();
          l.v.store(2 * i + 2, std::memory_order_release);
        }
      });
}

double mailbox_two_lines(int ca, int cb) {
  Line ab, ba;
  return time_round_trips(
      ca, cb,
      [&] {
        for (uint64_t i = 1; i <= kRoundTrips; ++i) {
          ab.v.store(i, std::memory_order_release);
          while (ba.v.load(std::memory_order_acquire) != i) cpu_relax();
        }
      },
      [&] {
        for (uint64_t i = 1; i <= kRoundTrips; ++i) {
          while (ab.v.load(std::memory_order_acquire) != i) cpu_relax();
          ba.v.store(i, std::memory_order_release);
        }
      });
}

// Lamport ring with cached indices, fixed 64-byte slots, 16-byte messages.
struct IndexRing {
  static constexpr uint64_t kSlots = 4096;
  alignas(64) std::atomic<uint64_t> tail{0};  // producer publishes after writing the slot
  alignas(64) std::atomic<uint64_t> head{0};  // consumer publishes after reading
  alignas(64) std::byte slots[kSlots][64];
};

double index_polling(int ca, int cb) {
  auto* ab = new IndexRing;
  auto* ba = new IndexRing;
  auto send = [](IndexRing& r, uint64_t& t, uint64_t& cached_head, const void* m) {
    while (t - cached_head >= IndexRing::kSlots)
      cached_head = r.head.load(std::memory_order_acquire);
    std::memcpy(r.slots[t % IndexRing::kSlots], m, 16);
    r.tail.store(++t, std::memory_order_release);
  };
  auto recv = [](IndexRing& r, uint64_t& h, uint64_t& cached_tail, void* m) {
    while (cached_tail == h) {
      cached_tail = r.tail.load(std::memory_order_acquire);
      if (cached_tail == h) cpu_relax();
    }
    std::memcpy(m, r.slots[h % IndexRing::kSlots], 16);
    r.head.store(++h, std::memory_order_release);
  };
  // One side's loop: A sends on ab and then receives on ba, B receives on ab and answers on ba
  // (kSendsFirst is a constant of each instantiation: no branch in the loop).
  auto side = [&]<bool kSendsFirst>(std::bool_constant<kSendsFirst>) {
    return [&] {
      uint64_t t = 0, ch = 0, h = 0, ct = 0;
      char m[16] = {};
      for (uint64_t i = 0; i < kRoundTrips; ++i) {
        if constexpr (kSendsFirst) {
          send(*ab, t, ch, m);
          recv(*ba, h, ct, m);
        } else {
          recv(*ab, h, ct, m);
          send(*ba, t, ch, m);
        }
      }
    };
  };
  const double ns = time_round_trips(ca, cb, side(std::true_type{}), side(std::false_type{}));
  delete ab;
  delete ba;
  return ns;
}

double in_slot(int ca, int cb, size_t size, size_t cap) {
  const size_t bytes = SpscRing::region_size(cap);
  void* r1 = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  void* r2 = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  SpscRing::init(r1, cap);
  SpscRing::init(r2, cap);
  const double ns = time_round_trips(
      ca, cb,
      [&] {
        SpscRing tx(r1, bytes, SpscRing::Side::kProducer, Wait::kSpin);
        SpscRing rx(r2, bytes, SpscRing::Side::kConsumer, Wait::kSpin);
        std::vector<std::byte> m(size), o(size);
        for (uint64_t i = 0; i < kRoundTrips; ++i) {
          tx.send(m);
          rx.recv(o);
        }
      },
      [&] {
        SpscRing rx(r1, bytes, SpscRing::Side::kConsumer, Wait::kSpin);
        SpscRing tx(r2, bytes, SpscRing::Side::kProducer, Wait::kSpin);
        std::vector<std::byte> o(size);
        for (uint64_t i = 0; i < kRoundTrips; ++i) {
          const size_t n = rx.recv(o);
          tx.send({o.data(), n});
        }
      });
  std::free(r1);
  std::free(r2);
  return ns;
}

}  // namespace
}  // namespace ipcperf

int main(int argc, char** argv) {
  using namespace ipcperf;
  const int ca = argc > 2 ? std::atoi(argv[1]) : 0;
  const int cb = argc > 2 ? std::atoi(argv[2]) : 1;
  std::printf(
      "round trips between CPU %d and CPU %d, %llu each, 3 passes (ns per round trip, "
      "ratio to the one-line floor of the same pass)\n",
      ca, cb, static_cast<unsigned long long>(kRoundTrips));
  for (int pass = 0; pass < 3; ++pass) {
    const double floor = floor_one_line(ca, cb);
    const double two = mailbox_two_lines(ca, cb);
    const double idx = index_polling(ca, cb);
    const double s16 = in_slot(ca, cb, 16, 256 * 1024);
    const double s64 = in_slot(ca, cb, 64, 256 * 1024);
    std::printf(
        "floor %.1f | two-lines %.1f (%.2fx) | index-polling 16B %.1f (%.2fx) | in-slot 16B "
        "%.1f (%.2fx) | in-slot 64B %.1f (%.2fx)\n",
        floor, two, two / floor, idx, idx / floor, s16, s16 / floor, s64, s64 / floor);
  }
  return 0;
}
