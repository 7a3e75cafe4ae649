// ONE conformance suite, run against every registered backend: each backend gets it by being in
// the registry. The supervisor side (prepare/cleanup) runs in the test process; endpoint B runs
// in a forked child, endpoint A in the test process, exactly as two peers would.
#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/message.hpp"

namespace ipcperf {
namespace {

// Objects in /dev/shm named after this test process.
std::vector<std::string> my_shm_objects() {
  std::vector<std::string> out;
  const std::string prefix = fmt::format("ipcperf-{}-", ::getpid());
  if (DIR* d = ::opendir("/dev/shm")) {
    while (dirent* e = ::readdir(d)) {
      if (std::string_view(e->d_name).substr(0, prefix.size()) == prefix)
        out.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

std::vector<std::byte> message(uint64_t seq, size_t size, uint32_t flags = 0) {
  std::vector<std::byte> m(size);
  fill_message(m, seq, flags);
  return m;
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // as in the peers: a dead reader is EPIPE, not a dead test
    backend_ = make_backend(GetParam());
    ASSERT_NE(backend_, nullptr);
    if (backend_->info().family == Family::kInProcess) {
      // Endpoint B runs in a forked child here, and an in-process channel cannot reach it.
      // Until B runs as a thread for these, tests/unit/inprocess_test.cpp covers them.
      GTEST_SKIP() << "in-process backend: covered by inprocess_test";
    }
    opt_ = backend_->resolve({});
    opt_.wait = backend_->info().default_wait;
    try {
      backend_->check(opt_);
    } catch (const Unsupported& e) {
      GTEST_SKIP() << e.what();
    }
    ::alarm(120);  // a hang is a failure, not a stuck CI job
  }
  void TearDown() override {
    ::alarm(0);
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (prepared_) backend_->cleanup(ep_);
    EXPECT_TRUE(my_shm_objects().empty())
        << "left behind: " << fmt::format("{}", fmt::join(my_shm_objects(), " "));
  }

  // Prepares the objects, forks endpoint B running `b` (its return value is the exit code), and
  // opens endpoint A here.
  std::unique_ptr<AnyChannel> start(const std::function<int(AnyChannel&)>& b, size_t max_message) {
    opt_.max_message = max_message;
    ep_ = backend_->prepare(opt_);
    prepared_ = true;
    child_ = ::fork();
    if (child_ == 0) {
      int code = 0;
      try {
        ep_.keep_only(Role::kB);
        auto ch = backend_->open(ep_.spec, Role::kB, opt_);
        code = b(*ch);
      } catch (const std::exception& e) {
        fmt::print(stderr, "endpoint B: {}\n", e.what());
        code = 100;
      }
      ::_exit(code);
    }
    ep_.keep_only(Role::kA);
    return backend_->open(ep_.spec, Role::kA, opt_);
  }

  int join() {
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
  }

  // Echoes n messages back, verifying each against the expected sizes.
  static int echo(AnyChannel& ch, uint64_t n, const std::function<size_t(uint64_t)>& size_of,
                  size_t cap) {
    std::vector<std::byte> buf(cap);
    for (uint64_t seq = 0; seq < n; ++seq) {
      const size_t got = ch.recv(buf);
      if (auto why = verify_message({buf.data(), got}, seq, size_of(seq))) {
        fmt::print(stderr, "endpoint B: {}\n", *why);
        return 1;
      }
      ch.send({buf.data(), got});
    }
    return 0;
  }

  std::unique_ptr<Backend> backend_;
  ChannelOptions opt_;
  Endpoints ep_;
  bool prepared_ = false;
  pid_t child_ = -1;
};

TEST_P(Conformance, ExchangeOneMessageEachWay) {
  auto a = start(
      [](AnyChannel& ch) {
        return echo(
            ch, 1, [](uint64_t) { return 64; }, 64);
      },
      64);
  auto m = message(0, 64);
  a->send(m);
  std::vector<std::byte> buf(64);
  ASSERT_EQ(a->recv(buf), 64U);
  EXPECT_FALSE(verify_message(buf, 0, 64).has_value());
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, ManyMessagesStayInOrder) {
  constexpr uint64_t kN = 20000;
  auto a = start(
      [](AnyChannel& ch) {
        return echo(
            ch, kN, [](uint64_t) { return 32; }, 32);
      },
      32);
  std::vector<std::byte> buf(32);
  for (uint64_t seq = 0; seq < kN; ++seq) {
    a->send(message(seq, 32));
    ASSERT_EQ(a->recv(buf), 32U);
    auto why = verify_message(buf, seq, 32);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, MaximumSizeRoundTrips) {
  const size_t max = std::min<size_t>(backend_->max_message_size(opt_), 16 * 1024 * 1024);
  auto a = start(
      [max](AnyChannel& ch) {
        return echo(
            ch, 3, [max](uint64_t) { return max; }, max);
      },
      max);
  std::vector<std::byte> buf(max);
  for (uint64_t seq = 0; seq < 3; ++seq) {
    a->send(message(seq, max));
    ASSERT_EQ(a->recv(buf), max);
    auto why = verify_message(buf, seq, max);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, OversizeIsRefusedBeforeAnythingIsCreated) {
  ChannelOptions o = opt_;
  o.max_message = backend_->max_message_size(o) + 1;
  try {
    backend_->check(o);
    FAIL() << "a message of " << o.max_message << " bytes was accepted";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(GetParam()), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(o.max_message)), std::string::npos) << what;
  }
  EXPECT_TRUE(my_shm_objects().empty());
}

TEST_P(Conformance, RandomSizesVerifiedBothWays) {
  constexpr uint64_t kN = 5000;
  const size_t max = std::min<size_t>(backend_->max_message_size(opt_), 70000);
  auto size_of = [max](uint64_t seq) {
    std::mt19937_64 r(seq * 7919 + 1);
    // Mostly small, some large: crosses buffer-full and wrap-around transitions.
    return r() % 8 == 0 ? kMinMessageSize + r() % (max - kMinMessageSize + 1)
                        : kMinMessageSize + r() % 200;
  };
  auto a = start([&](AnyChannel& ch) { return echo(ch, kN, size_of, max); }, max);
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

// B sends far more than the buffer holds before A reads anything: the sender must wait while
// full (never overwrite or drop), and everything arrives in order.
TEST_P(Conformance, FullBufferMakesTheSenderWait) {
  const size_t size = 1000;
  const uint64_t n = 4 * opt_.capacity / size + 64;
  auto a = start(
      [n, size](AnyChannel& ch) {
        for (uint64_t seq = 0; seq < n; ++seq) ch.send(message(seq, size));
        std::vector<std::byte> ack(size);
        ch.recv(ack);  // stay until A has read everything
        return 0;
      },
      size);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let B fill the buffer
  std::vector<std::byte> buf(size);
  for (uint64_t seq = 0; seq < n; ++seq) {
    ASSERT_EQ(a->recv(buf), size);
    auto why = verify_message(buf, seq, size);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  a->send(message(0, size));
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, PeerExitIsAnErrorNotAHang) {
  auto a = start(
      [](AnyChannel& ch) {
        std::vector<std::byte> buf(64);
        ch.recv(buf);
        ::_exit(0);  // gone without closing anything
        return 0;
      },
      64);
  a->send(message(0, 64));
  std::vector<std::byte> buf(64);
  EXPECT_THROW(a->recv(buf), PeerGone);
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, KilledPeerMakesSendFail) {
  auto a = start(
      [](AnyChannel& ch) {
        ch.send(message(0, 64));  // attached: now it may be killed
        ::pause();
        return 0;
      },
      4096);
  std::vector<std::byte> hello(4096);
  ASSERT_EQ(a->recv(hello), 64U);
  ::kill(child_, SIGKILL);
  EXPECT_THROW(
      {
        // Fills the buffer, then must notice that nobody will ever read it.
        auto m = message(0, 4096);
        for (int i = 0; i < 1'000'000; ++i) a->send(m);
      },
      PeerGone);
  EXPECT_EQ(join(), 200 + SIGKILL);
}

TEST_P(Conformance, CleanupRemovesEverythingAndIsIdempotent) {
  ep_ = backend_->prepare(opt_);
  prepared_ = true;
  backend_->cleanup(ep_);
  backend_->cleanup(ep_);
  EXPECT_TRUE(my_shm_objects().empty());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, Conformance, ::testing::ValuesIn(backend_names()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace ipcperf
