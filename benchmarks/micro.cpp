// Google Benchmark micro-benchmarks of the primitives the harness is built from. They explain
// the end-to-end numbers: what a clock read, a histogram record, a message fill/verify and a
// ring push/pop (same thread, no sharing) cost on this machine.
#include <cstdlib>
#include <vector>

#include <benchmark/benchmark.h>

#include "ipcperf/message.hpp"
#include "ipcperf/spsc_ring.hpp"
#include "ipcperf/wait.hpp"
#include "stats/histogram.hpp"

namespace ipcperf {
namespace {

void BM_ClockGettime(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(now_ns());
}
BENCHMARK(BM_ClockGettime);

void BM_HistogramRecord(benchmark::State& state) {
  Histogram h(3);
  uint64_t v = 1;
  for (auto _ : state) {
    h.record(v);
    v = (v * 6364136223846793005ULL + 1442695040888963407ULL) >> 40;  // spread over buckets
  }
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord);

void BM_FillMessage(benchmark::State& state) {
  std::vector<std::byte> m(static_cast<size_t>(state.range(0)));
  uint64_t seq = 0;
  for (auto _ : state) {
    fill_message(m, seq++);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_FillMessage)->Arg(64)->Arg(4096)->Arg(65536);

void BM_VerifyPayload(benchmark::State& state) {
  std::vector<std::byte> m(static_cast<size_t>(state.range(0)));
  fill_message(m, 42);
  for (auto _ : state) benchmark::DoNotOptimize(payload_ok(m, 42));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_VerifyPayload)->Arg(64)->Arg(4096)->Arg(65536);

// Push then pop in one thread: the ring's own instruction cost, without cache-line transfers.
void BM_RingPushPopSameThread(benchmark::State& state) {
  const size_t cap = 1 << 16;
  const size_t bytes = SpscRing::region_size(cap);
  void* mem = std::aligned_alloc(64, bytes);
  SpscRing::init(mem, cap);
  {
    SpscRing tx(mem, bytes, SpscRing::Side::kProducer, Wait::kSpin);
    SpscRing rx(mem, bytes, SpscRing::Side::kConsumer, Wait::kSpin);
    std::vector<std::byte> m(static_cast<size_t>(state.range(0))), out(m.size());
    fill_message(m, 0);
    for (auto _ : state) {
      tx.try_send(m);
      benchmark::DoNotOptimize(rx.try_recv(out));
    }
  }
  std::free(mem);
}
BENCHMARK(BM_RingPushPopSameThread)->Arg(16)->Arg(64)->Arg(4096);

}  // namespace
}  // namespace ipcperf

BENCHMARK_MAIN();
