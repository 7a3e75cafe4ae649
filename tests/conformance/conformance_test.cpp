// ONE conformance suite, run against every registered backend: each backend gets it by being in
// the registry. The supervisor side (prepare/cleanup) runs in the test process; endpoint B runs
// in a forked child, endpoint A in the test process, exactly as two peers would. In-process
// backends run B in a thread instead (their peers are threads); lossy backends (udp) may drop
// messages where the test floods them, and everything that arrives is still verified.
#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <random>
#include <thread>

#include <dirent.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/objects.hpp"
#include "registry.hpp"
#include "support/backend_support.hpp"

namespace ipcperf {
using testing_support::backend_waits;
using testing_support::fork_endpoint_b;
using testing_support::message;
namespace {

// Objects named after this test process: /dev/shm, /dev/mqueue, private directories (FIFOs,
// socket paths).
std::vector<std::string> my_objects() { return objects_of(::getpid()); }

// System V queues have no name to find them by: prepare() lists each as "sysv-msq:<id>" in
// Endpoints::objects, and those must be gone after cleanup. (Comparing the machine's queue list
// before and after would blame queues of unrelated processes that run at the same time.)
std::vector<std::string> surviving_sysv_queues(const std::vector<std::string>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) {
    constexpr std::string_view kPrefix = "sysv-msq:";
    if (o.rfind(kPrefix, 0) != 0) continue;
    const int id = std::stoi(o.substr(kPrefix.size()));
    msqid_ds ds{};
    if (::msgctl(id, IPC_STAT, &ds) == 0) out.push_back(o);
  }
  return out;
}

// Thrown by endpoint B running as a thread to vanish without a word (a process would _exit).
struct Vanish {};

// One instance per backend and wait strategy it supports: spinning, yielding and sleeping paths
// each have their own full-buffer, wake-up and peer-death code.
struct Param {
  std::string backend;
  Wait wait;
};

std::vector<Param> all_params() {
  std::vector<Param> out;
  for (const auto& [name, w] : backend_waits()) out.push_back({name, w});
  return out;
}

void PrintTo(const Param& p, std::ostream* os) { *os << p.backend << "/" << to_string(p.wait); }

class Conformance : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // as in the peers: a dead reader is EPIPE, not a dead test
    backend_ = make_backend(GetParam().backend);
    ASSERT_NE(backend_, nullptr);
    opt_ = backend_->resolve({});
    opt_.wait = GetParam().wait;
    in_process_ = backend_->info().family == Family::kInProcess;
    lossy_ = backend_->info().lossy;
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
    a_.reset();  // endpoint A closes first: a thread B still waiting sees it go
    if (thread_.joinable()) thread_.join();
    if (prepared_) {
      const std::vector<std::string> created = ep_.objects;
      backend_->cleanup(ep_);
      EXPECT_TRUE(surviving_sysv_queues(created).empty())
          << "left behind: " << fmt::format("{}", fmt::join(surviving_sysv_queues(created), " "));
    }
    EXPECT_TRUE(my_objects().empty())
        << "left behind: " << fmt::format("{}", fmt::join(my_objects(), " "));
  }

  // Round trips for the many-message tests. Two spinning endpoints need a CPU each for every
  // round trip; on a loaded 2-core machine one may wait a whole scheduler tick for its turn, so
  // spin runs fewer (the paths they exercise are the same after the first few hundred).
  [[nodiscard]] uint64_t round_trips(uint64_t n) const {
    return GetParam().wait == Wait::kSpin ? n / 10 : n;
  }

  // recv that, on a lossy channel, waits through quiet loss timeouts (up to ~10 s).
  size_t recv(AnyChannel& ch, std::span<std::byte> buf) const {
    for (int i = 0;; ++i) {
      const size_t n = ch.recv(buf);
      if (n != 0 || !lossy_ || i >= 40) return n;
    }
  }

  // Prepares the objects, forks endpoint B running `b` (its return value is the exit code), and
  // opens endpoint A here. In-process backends: B is a thread.
  AnyChannel* start(const std::function<int(AnyChannel&)>& b, size_t max_message) {
    opt_.max_message = max_message;
    ep_ = backend_->prepare(opt_);
    prepared_ = true;
    if (in_process_) {
      std::promise<int> code;
      thread_code_ = code.get_future();
      thread_ = std::thread([this, b, code = std::move(code)]() mutable {
        int c = 0;
        try {
          auto ch = backend_->open(ep_.spec, Role::kB, opt_);
          c = b(*ch);
        } catch (const Vanish&) {
          c = 0;  // the channel is destroyed on the way out: this side is closed
        } catch (const std::exception& e) {
          fmt::print(stderr, "endpoint B: {}\n", e.what());
          c = 100;
        }
        code.set_value(c);
      });
      a_ = backend_->open(ep_.spec, Role::kA, opt_);
      return a_.get();
    }
    child_ = fork_endpoint_b(*backend_, ep_, opt_, b);
    a_ = backend_->open(ep_.spec, Role::kA, opt_);
    return a_.get();
  }

  // B leaves without closing anything: a process _exits, a thread unwinds (closing its side).
  [[noreturn]] void vanish() const {
    if (in_process_) throw Vanish{};
    ::_exit(0);
  }

  int join() {
    if (in_process_) {
      thread_.join();
      return thread_code_.get();
    }
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
  }

  // Echoes n messages back, verifying each against the expected sizes.
  int echo(AnyChannel& ch, uint64_t n, const std::function<size_t(uint64_t)>& size_of,
           size_t cap) const {
    std::vector<std::byte> buf(cap);
    for (uint64_t seq = 0; seq < n; ++seq) {
      const size_t got = recv(ch, buf);
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
  bool in_process_ = false;
  bool lossy_ = false;
  pid_t child_ = -1;
  std::thread thread_;
  std::future<int> thread_code_;
  std::unique_ptr<AnyChannel> a_;
};

TEST_P(Conformance, ExchangeOneMessageEachWay) {
  auto a = start(
      [this](AnyChannel& ch) {
        return echo(
            ch, 1, [](uint64_t) { return 64; }, 64);
      },
      64);
  auto m = message(0, 64);
  a->send(m);
  std::vector<std::byte> buf(64);
  ASSERT_EQ(recv(*a, buf), 64U);
  EXPECT_FALSE(verify_message(buf, 0, 64).has_value());
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, ManyMessagesStayInOrder) {
  const uint64_t kN = round_trips(20000);
  auto a = start(
      [this, kN](AnyChannel& ch) {
        return echo(
            ch, kN, [](uint64_t) { return 32; }, 32);
      },
      32);
  std::vector<std::byte> buf(32);
  for (uint64_t seq = 0; seq < kN; ++seq) {
    a->send(message(seq, 32));
    ASSERT_EQ(recv(*a, buf), 32U);
    auto why = verify_message(buf, seq, 32);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, MaximumSizeRoundTrips) {
  const size_t max = std::min<size_t>(backend_->max_message_size(opt_), 16 * 1024 * 1024);
  auto a = start(
      [this, max](AnyChannel& ch) {
        return echo(
            ch, 3, [max](uint64_t) { return max; }, max);
      },
      max);
  std::vector<std::byte> buf(max);
  for (uint64_t seq = 0; seq < 3; ++seq) {
    a->send(message(seq, max));
    ASSERT_EQ(recv(*a, buf), max);
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
    EXPECT_NE(what.find(GetParam().backend), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(o.max_message)), std::string::npos) << what;
  }
  EXPECT_TRUE(my_objects().empty());
}

TEST_P(Conformance, RandomSizesVerifiedBothWays) {
  const uint64_t kN = round_trips(5000);
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
    const size_t got = recv(*a, buf);
    auto why = verify_message({buf.data(), got}, seq, s);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  EXPECT_EQ(join(), 0);
}

// B sends far more than the buffer holds before A reads anything: the sender must wait while
// full (never overwrite or drop), and everything arrives in order. A lossy backend may drop
// instead of waiting: what arrives must still be verified and in increasing order.
TEST_P(Conformance, FullBufferMakesTheSenderWait) {
  const size_t size = 1000;
  const uint64_t n = 4 * opt_.capacity / size + 64;
  auto a = start(
      [this, n, size](AnyChannel& ch) {
        for (uint64_t seq = 0; seq < n; ++seq) ch.send(message(seq, size));
        std::vector<std::byte> ack(size);
        recv(ch, ack);  // stay until A has read everything
        return 0;
      },
      size);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let B fill the buffer
  std::vector<std::byte> buf(size);
  if (lossy_) {
    uint64_t arrived = 0, next = 0;
    for (size_t got; (got = a->recv(buf)) != 0;) {  // until a quiet loss timeout
      ASSERT_EQ(got, size);
      const uint64_t seq = read_header(buf).seq;
      ASSERT_GE(seq, next) << "duplicated or reordered";
      auto why = verify_message(buf, seq, size);
      ASSERT_FALSE(why.has_value()) << *why;
      next = seq + 1;
      ++arrived;
    }
    EXPECT_GT(arrived, 0U);
    EXPECT_LE(arrived, n);
    RecordProperty("arrived", static_cast<int>(arrived));
    a->send(message(0, size));
    EXPECT_EQ(join(), 0);
    return;
  }
  for (uint64_t seq = 0; seq < n; ++seq) {
    ASSERT_EQ(recv(*a, buf), size);
    auto why = verify_message(buf, seq, size);
    ASSERT_FALSE(why.has_value()) << *why;
  }
  a->send(message(0, size));
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, PeerExitIsAnErrorNotAHang) {
  auto a = start(
      [this](AnyChannel& ch) -> int {
        std::vector<std::byte> buf(64);
        recv(ch, buf);
        vanish();  // gone without closing anything
      },
      64);
  a->send(message(0, 64));
  std::vector<std::byte> buf(64);
  EXPECT_THROW(recv(*a, buf), PeerGone);
  EXPECT_EQ(join(), 0);
}

TEST_P(Conformance, KilledPeerMakesSendFail) {
  if (in_process_) GTEST_SKIP() << "one thread of a process cannot be killed on its own";
  auto a = start(
      [](AnyChannel& ch) {
        ch.send(message(0, 64));  // attached: now it may be killed
        ::pause();
        return 0;
      },
      4096);
  std::vector<std::byte> hello(4096);
  ASSERT_EQ(recv(*a, hello), 64U);
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
  EXPECT_TRUE(my_objects().empty());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, Conformance, ::testing::ValuesIn(all_params()),
                         [](const auto& p) {
                           return testing_support::instance_name(p.param.backend, p.param.wait);
                         });

}  // namespace
}  // namespace ipcperf
