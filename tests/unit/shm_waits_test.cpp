// The shared-memory backends with every wait strategy they accept (the conformance suite runs
// each backend with its default only), between this process and a forked child; and the
// shm-mutex fault that the conformance suite cannot provoke from outside: a peer that dies while
// holding the ring's robust mutex.
#include <random>
#include <tuple>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/backends/shm_mutex.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/objects.hpp"
#include "registry.hpp"
#include "support/backend_support.hpp"

namespace ipcperf {
using testing_support::backend_waits;
using testing_support::fork_endpoint_b;
using testing_support::message;

namespace {

std::vector<std::tuple<std::string, Wait>> cases() { return backend_waits(Family::kSharedMemory); }

class ShmWaits : public ::testing::TestWithParam<std::tuple<std::string, Wait>> {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    backend_ = make_backend(std::get<0>(GetParam()));
    ASSERT_NE(backend_, nullptr);
    opt_ = backend_->resolve({});
    opt_.wait = std::get<1>(GetParam());
    ::alarm(120);  // a hang is a failure
  }
  void TearDown() override {
    ::alarm(0);
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (prepared_) backend_->cleanup(ep_);
    EXPECT_TRUE(objects_of(::getpid()).empty());
  }
  std::unique_ptr<AnyChannel> start(const std::function<int(AnyChannel&)>& b, size_t max) {
    opt_.max_message = max;
    backend_->check(opt_);
    ep_ = backend_->prepare(opt_);
    prepared_ = true;
    child_ = fork_endpoint_b(*backend_, ep_, opt_, b);
    return backend_->open(ep_.spec, Role::kA, opt_);
  }
  int join() {
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
  }

  std::unique_ptr<Backend> backend_;
  ChannelOptions opt_;
  Endpoints ep_;
  bool prepared_ = false;
  pid_t child_ = -1;
};

TEST_P(ShmWaits, RandomSizesEchoed) {
  const size_t max = std::min<size_t>(backend_->max_message_size(opt_), 70000);
  auto size_of = [max](uint64_t seq) {
    std::mt19937_64 r(seq * 7919 + 1);
    return r() % 8 == 0 ? kMinMessageSize + r() % (max - kMinMessageSize + 1)
                        : kMinMessageSize + r() % 200;
  };
  constexpr uint64_t kN = 2000;
  auto a = start(
      [&](AnyChannel& ch) {
        std::vector<std::byte> buf(max);
        for (uint64_t seq = 0; seq < kN; ++seq) {
          const size_t got = ch.recv(buf);
          if (auto why = verify_message({buf.data(), got}, seq, size_of(seq))) {
            fmt::print(stderr, "endpoint B: {}\n", *why);
            return 1;
          }
          ch.send({buf.data(), got});
        }
        return 0;
      },
      max);
  std::vector<std::byte> buf(max);
  for (uint64_t seq = 0; seq < kN; ++seq) {
    const size_t s = size_of(seq);
    a->send(message(seq, s));
    const size_t got = a->recv(buf);
    auto why = verify_message({buf.data(), got}, seq, s);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  EXPECT_EQ(join(), 0);
}

TEST_P(ShmWaits, KilledPeerEndsBothWaits) {
  auto a = start(
      [](AnyChannel& ch) {
        ch.send(message(0, 64));
        ::pause();
        return 0;
      },
      4096);
  std::vector<std::byte> buf(4096);
  ASSERT_EQ(a->recv(buf), 64U);
  ::kill(child_, SIGKILL);
  EXPECT_THROW(a->recv(buf), PeerGone);
  EXPECT_THROW(
      {
        auto m = message(0, 4096);
        for (int i = 0; i < 1'000'000; ++i) a->send(m);
      },
      PeerGone);
  EXPECT_EQ(join(), 200 + SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(SharedMemoryBackends, ShmWaits, ::testing::ValuesIn(cases()),
                         testing_support::BackendWaitName{});

// A peer killed inside send() or recv() leaves the ring's mutex locked: the robust mutex hands
// it to the survivor with EOWNERDEAD, which must become PeerGone, never a hang.
TEST(ShmMutex, PeerDyingWhileHoldingTheMutexIsPeerGone) {
  ::alarm(60);
  auto backend = make_backend("shm-mutex");
  ASSERT_NE(backend, nullptr);
  for (Wait w : {Wait::kBlock, Wait::kSpin}) {
    ChannelOptions opt = backend->resolve({});
    opt.wait = w;
    opt.max_message = 64;
    Endpoints ep = backend->prepare(opt);
    const pid_t child = ::fork();
    if (child == 0) backends::shm_mutex::die_holding_lock(ep.spec, Role::kB);  // the B->A ring
    int status = 0;
    ::waitpid(child, &status, 0);
    auto a = backend->open(ep.spec, Role::kA, opt);
    std::vector<std::byte> buf(64);
    try {
      a->recv(buf);
      ADD_FAILURE() << "recv returned";
    } catch (const PeerGone& e) {
      EXPECT_NE(std::string(e.what()).find("EOWNERDEAD"), std::string::npos) << e.what();
    }
    a.reset();
    backend->cleanup(ep);
  }
  ::alarm(0);
}

}  // namespace
}  // namespace ipcperf
