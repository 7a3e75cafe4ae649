// The helpers of the datagram and message-queue backends: the hello, the peer watch, and the
// record that lets the stale sweep find POSIX queues where /dev/mqueue is not mounted.
#include "ipcperf/liveness.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/objects.hpp"
#include "registry.hpp"

namespace ipcperf {
namespace {

TEST(Hello, RoundTripsPidAndState) {
  const auto b = Hello{4242, 2}.encode();
  const auto h = Hello::decode(b);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->pid, 4242);
  EXPECT_EQ(h->state, 2);
  EXPECT_EQ(Hello::mine().pid, ::getpid());
}

TEST(Hello, IsNeverAMessage) {
  auto b = Hello::mine().encode();
  EXPECT_LT(b.size(), kMinMessageSize);
  std::byte longer[kHelloSize + 1]{};
  std::memcpy(longer, b.data(), b.size());
  EXPECT_FALSE(Hello::decode(longer).has_value());
  b[0] ^= std::byte{1};  // wrong magic
  EXPECT_FALSE(Hello::decode(b).has_value());
  EXPECT_FALSE(Hello::decode(Hello{0, 0}.encode()).has_value());  // no such pid
}

TEST(Hello, ExchangeReturnsThePeersPid) {
  std::vector<std::byte> sent;
  int empty_polls = 2;
  const pid_t peer = exchange_hello(
      "test", [&](std::span<const std::byte> h) { sent.assign(h.begin(), h.end()); },
      [&](std::span<std::byte> buf) -> long {
        if (empty_polls-- > 0) return -1;  // nothing yet
        const auto h = Hello{777, 0}.encode();
        std::memcpy(buf.data(), h.data(), h.size());
        return static_cast<long>(h.size());
      });
  EXPECT_EQ(peer, 777);
  EXPECT_EQ(Hello::decode(sent)->pid, ::getpid());
}

TEST(Hello, AMessageBeforeTheHelloIsAProtocolError) {
  EXPECT_THROW(exchange_hello(
                   "test", [](std::span<const std::byte>) {},
                   [](std::span<std::byte> buf) -> long {
                     std::fill(buf.begin(), buf.end(), std::byte{0});
                     return static_cast<long>(buf.size());
                   }),
               std::runtime_error);
}

TEST(PeerWatch, SeesAnExitedPeerWithinOneCheckPeriod) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  PeerWatch w("test");
  w.watch(child);
  // Until the child has exited, without reaping it: an exited, unreaped peer must read as gone.
  // (A 20 ms sleep here instead failed in a full run of unit_test under ASan on a loaded 2-core
  // machine: the child had not exited yet.)
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  bool alive = true;
  for (uint32_t i = 0; i < kSpinPollsPerCheck && alive; ++i) alive = w.spin_tick();
  EXPECT_FALSE(alive);
  EXPECT_FALSE(w.alive());
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_FALSE(w.alive()) << "reaped";
}

TEST(PeerWatch, ALivePeerStaysAlive) {
  PeerWatch w("test");
  w.watch(::getppid());
  for (uint32_t i = 0; i < 2 * kSpinPollsPerCheck; ++i) ASSERT_TRUE(w.spin_tick());
}

TEST(PrivateDir, RemovesRecordedPosixQueues) {
  const std::string dir = make_private_dir();
  const std::string name = "/" + make_object_name() + "-test";
  record_posix_queue(dir, name);
  mq_attr attr{};
  attr.mq_maxmsg = 1;
  attr.mq_msgsize = 16;
  const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
  if (q < 0 && errno == ENOSYS) GTEST_SKIP() << "no POSIX message queues in this kernel";
  ASSERT_GE(q, 0);
  ::mq_close(q);
  const auto removed = remove_private_dir(dir);
  EXPECT_NE(std::find(removed.begin(), removed.end(), "POSIX message queue " + name),
            removed.end());
  EXPECT_LT(::mq_open(name.c_str(), O_RDONLY), 0);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_NE(::access(dir.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace ipcperf
