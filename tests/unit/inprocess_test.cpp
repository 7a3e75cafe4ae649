// The in-process backends (Family::kInProcess) with every wait strategy they accept (the
// conformance suite runs each with its default only): both endpoints are opened in this process
// with Backend::open() and driven from two threads, including messages larger than the buffer
// where a backend carries them, and a short pingpong and stream go through run_peer() (role AB) as
// `ipcperf run` does.
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/message.hpp"
#include "protocol.hpp"
#include "registry.hpp"
#include "support/backend_support.hpp"

namespace ipcperf {
using testing_support::backend_waits;
using testing_support::fork_endpoint_b;
using testing_support::message;
namespace {

std::vector<std::tuple<std::string, Wait>> cases() { return backend_waits(Family::kInProcess); }

class InProcess : public ::testing::TestWithParam<std::tuple<std::string, Wait>> {
 protected:
  void SetUp() override {
    backend_ = make_backend(std::get<0>(GetParam()));
    ASSERT_NE(backend_, nullptr);
    opt_ = backend_->resolve({});
    opt_.wait = std::get<1>(GetParam());
  }
  void TearDown() override {
    if (prepared_) backend_->cleanup(ep_);
  }
  // Opens both endpoints of a fresh channel.
  std::pair<std::unique_ptr<AnyChannel>, std::unique_ptr<AnyChannel>> open(size_t max_message) {
    opt_.max_message = max_message;
    backend_->check(opt_);
    ep_ = backend_->prepare(opt_);
    prepared_ = true;
    auto a = backend_->open(ep_.spec, Role::kA, opt_);
    auto b = backend_->open(ep_.spec, Role::kB, opt_);
    return {std::move(a), std::move(b)};
  }

  std::unique_ptr<Backend> backend_;
  ChannelOptions opt_;
  Endpoints ep_;
  bool prepared_ = false;
};

// Random sizes up to the maximum, echoed and verified both ways; where the backend carries
// messages larger than its buffer (they travel in pieces as space frees), some are.
TEST_P(InProcess, RandomSizesEchoedUpToTheMaximum) {
  const size_t max = std::min(3 * opt_.capacity + 1000, backend_->max_message_size(opt_));
  auto size_of = [max](uint64_t seq) {
    std::mt19937_64 r(seq * 7919 + 1);
    return r() % 16 == 0 ? kMinMessageSize + r() % (max - kMinMessageSize + 1)
                         : kMinMessageSize + r() % 200;
  };
  constexpr uint64_t kN = 3000;
  auto [a, b] = open(max);
  std::string b_error;
  std::thread tb([&, &b = b] {
    std::vector<std::byte> buf(max);
    for (uint64_t seq = 0; seq < kN; ++seq) {
      const size_t got = b->recv(buf);
      if (auto why = verify_message({buf.data(), got}, seq, size_of(seq))) {
        b_error = *why;
        return;
      }
      b->send({buf.data(), got});
    }
  });
  std::vector<std::byte> buf(max);
  for (uint64_t seq = 0; seq < kN && b_error.empty(); ++seq) {
    const size_t s = size_of(seq);
    a->send(message(seq, s));
    const size_t got = a->recv(buf);
    auto why = verify_message({buf.data(), got}, seq, s);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  tb.join();
  EXPECT_EQ(b_error, "");
}

// B sends far more than the buffer holds before A reads: B waits while full, nothing is lost.
TEST_P(InProcess, FullBufferMakesTheSenderWait) {
  const size_t size = 1000;
  const uint64_t n = 4 * opt_.capacity / size + 64;
  auto [a, b] = open(size);
  std::thread tb([&, &b = b] {
    for (uint64_t seq = 0; seq < n; ++seq) b->send(message(seq, size));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<std::byte> buf(size);
  for (uint64_t seq = 0; seq < n; ++seq) {
    ASSERT_EQ(a->recv(buf), size);
    auto why = verify_message(buf, seq, size);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  tb.join();
}

// What was sent before closing is delivered, then the receiver's wait ends with PeerGone.
TEST_P(InProcess, ClosingDrainsThenEndsThePeersWait) {
  auto [a, b] = open(64);
  std::thread tb([&, &b = b] {
    for (uint64_t seq = 0; seq < 3; ++seq) b->send(message(seq, 64));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    b.reset();  // closes B
  });
  std::vector<std::byte> buf(64);
  for (uint64_t seq = 0; seq < 3; ++seq) {
    ASSERT_EQ(a->recv(buf), 64U);
    EXPECT_FALSE(verify_message(buf, seq, 64).has_value());
  }
  EXPECT_THROW(a->recv(buf), PeerGone);  // may already be waiting when B closes
  tb.join();
}

// A receiver that closed makes the sender fail once the buffer is full, never hang.
TEST_P(InProcess, ClosedReceiverMakesSendFail) {
  auto [a, b] = open(4096);
  b.reset();
  EXPECT_THROW(
      {
        auto m = message(0, 4096);
        for (int i = 0; i < 1'000'000; ++i) a->send(m);
      },
      PeerGone);
}

// The path `ipcperf run` takes: run_peer() of role AB with a pingpong and a stream.
TEST_P(InProcess, RunPeerABPingpongAndStream) {
  for (Workload w : {Workload::kPingpong, Workload::kStream}) {
    PeerJob ja;
    ja.peer = PeerRole::kAB;
    ja.options = opt_;
    ja.options.max_message = 256;
    ja.workload = w;
    ja.size = 256;
    ja.warmup = 100;
    ja.messages = 5000;
    PeerOutcome ob;
    const PeerOutcome oa = backend_->run_peer(ja, &ob);
    if (w == Workload::kPingpong) {
      EXPECT_EQ(oa.messages, 5000U);
      EXPECT_EQ(ob.verified, 5100U);
    } else {
      EXPECT_EQ(ob.verified, 5100U);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(InProcessBackends, InProcess, ::testing::ValuesIn(cases()),
                         testing_support::BackendWaitName{});

}  // namespace
}  // namespace ipcperf
