// Peer authentication of the tcp backend (ipcperf/sockets.hpp): any local process can connect to
// the case's port, so B takes only the connection that presents the case's token, and A only
// talks to a listener that answers with it.
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipcperf/backends/tcp.hpp"
#include "ipcperf/backends/udp.hpp"
#include "ipcperf/message.hpp"
#include "ipcperf/sockets.hpp"

namespace ipcperf {
namespace {

using backends::tcp::Spec;
using backends::tcp::Tcp;
using backends::udp::Udp;

Fd connect_to(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in a = backends::tcp::loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0)
      << std::strerror(errno);
  return fd;
}

ChannelOptions options() {
  ChannelOptions o;
  o.wait = Wait::kBlock;
  o.max_message = 256;
  return o;
}

TEST(PeerAuth, TokensAreRandomAndRoundTripThroughHex) {
  const Token a = random_token();
  const Token b = random_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(parse_token("tcp", token_hex(a)), a);
  EXPECT_EQ(token_hex(a).size(), 2 * kTokenSize);
  EXPECT_THROW(parse_token("tcp", "00"), std::runtime_error);
  EXPECT_THROW(parse_token("tcp", std::string(2 * kTokenSize, 'g')), std::runtime_error);
  EXPECT_THROW(parse_token("tcp", std::string(2 * kTokenSize, 'A')), std::runtime_error);
}

TEST(PeerAuth, TheTcpSpecCarriesAFreshTokenPerCase) {
  Endpoints e1 = Tcp::prepare(options());
  Endpoints e2 = Tcp::prepare(options());
  const Spec s1 = Spec::parse(e1.spec);
  const Spec s2 = Spec::parse(e2.spec);
  EXPECT_NE(s1.token, s2.token);
  EXPECT_THROW(Spec::parse(fmt::format("{}:{}", s1.listen_fd, s1.port)), std::runtime_error);
  Tcp::cleanup(e1);
  Tcp::cleanup(e2);
}

// Three strangers connect before either peer opens its end: one stays silent, one sends 16
// wrong bytes, one sends a few bytes and closes. The peers' channel still opens, carries
// messages both ways, and B counts the three as refused.
TEST(PeerAuth, StrangersThatConnectFirstAreRefusedAndThePeersConnect) {
  Endpoints ep = Tcp::prepare(options());
  const Spec spec = Spec::parse(ep.spec);
  for (Fd& f : ep.owned) (void)f.release();  // B's channel takes the listener over

  Fd silent = connect_to(spec.port);
  Fd wrong = connect_to(spec.port);
  Token guess = spec.token;
  guess[0] ^= std::byte{1};
  ASSERT_EQ(::write(wrong.get(), guess.data(), guess.size()), static_cast<ssize_t>(guess.size()));
  {
    Fd short_one = connect_to(spec.port);
    ASSERT_EQ(::write(short_one.get(), "hello", 5), 5);
  }

  uint64_t refused = 99;
  std::exception_ptr b_error;
  std::vector<std::byte> got(256);
  size_t got_n = 0;
  std::thread b([&] {
    try {
      Tcp::Channel ch(ep.spec, Role::kB, options());
      refused = ch.refused();
      got_n = ch.recv(got);
      ch.send(std::span(got.data(), got_n));
    } catch (...) {
      b_error = std::current_exception();
    }
  });
  std::vector<std::byte> msg(64);
  fill_message(msg, 7, 0);
  std::vector<std::byte> echo(256);
  size_t echo_n = 0;
  try {
    Tcp::Channel a(ep.spec, Role::kA, options());
    EXPECT_EQ(a.refused(), 0U);
    a.send(msg);
    echo_n = a.recv(echo);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "A: " << e.what();
  }
  b.join();
  if (b_error) std::rethrow_exception(b_error);
  EXPECT_EQ(refused, 3U);
  ASSERT_EQ(echo_n, msg.size());
  EXPECT_TRUE(std::equal(msg.begin(), msg.end(), echo.begin()));
  // The strangers were closed unheard: their next read sees EOF (or ECONNRESET, when B closed
  // with their bytes unread), never a byte of ours.
  for (const Fd* s : {&silent, &wrong}) {
    char c = 0;
    const ssize_t n = ::read(s->get(), &c, 1);
    EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << n << " " << std::strerror(errno);
  }
}

// A only talks to the peer: a listener that answers with other bytes, or closes, is refused.
TEST(PeerAuth, AnAnswerOtherThanTheTokenIsRefusedByA) {
  const Token token = random_token();
  for (const bool close_instead : {false, true}) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    Fd mine(sv[0]);
    Fd theirs(sv[1]);
    std::thread impostor([&] {
      Token seen{};
      ASSERT_EQ(::read(theirs.get(), seen.data(), seen.size()), static_cast<ssize_t>(seen.size()));
      if (close_instead) {
        theirs.reset();
        return;
      }
      seen[3] ^= std::byte{0x40};
      ASSERT_EQ(::write(theirs.get(), seen.data(), seen.size()), static_cast<ssize_t>(seen.size()));
    });
    if (close_instead) {
      EXPECT_THROW(present_token(mine.get(), token, "tcp"), PeerGone);
    } else {
      try {
        present_token(mine.get(), token, "tcp");
        ADD_FAILURE() << "a wrong answer was accepted";
      } catch (const PeerGone&) {
        ADD_FAILURE() << "a wrong answer was taken for a closed connection";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("wrong token"), std::string::npos) << e.what();
      }
    }
    impostor.join();
  }
}

// udp needs no token: both sockets are connect()ed to each other, and the kernel delivers to a
// connected UDP socket only datagrams from the address and port it is connected to (the 4-tuple
// lookup of __udp4_lib_lookup); another source's datagram never reaches its buffer (so it cannot
// even take room and cause a loss): the stranger gets ECONNREFUSED, as from a closed port.
// This test floods both ends from a third socket before and while the peers exchange messages,
// and checks that every message that arrives is the peer's.
TEST(PeerAuth, UdpEndsTakeDatagramsOnlyFromEachOther) {
  ChannelOptions o = options();
  o.capacity = 212992;
  Endpoints ep = Udp::prepare(o);
  const auto [fa, fb] = spec_ints<2>("udp", ep.spec);
  uint16_t ports[2]{};
  for (int i = 0; i < 2; ++i) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(i == 0 ? fa : fb, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ports[i] = ntohs(a.sin_port);
  }
  for (Fd& f : ep.owned) (void)f.release();  // the channels take the sockets over

  Fd stranger(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  std::vector<std::byte> forged(64);
  fill_message(forged, 1, 0);  // a well-formed message, as a forger would send
  auto flood = [&] {
    for (uint16_t port : ports) {
      const sockaddr_in to = backends::tcp::loopback(port);
      (void)::sendto(stranger.get(), forged.data(), forged.size(), MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
  };
  for (int i = 0; i < 50; ++i) flood();

  constexpr uint64_t kMessages = 200;
  std::exception_ptr b_error;
  uint64_t b_ok = 0;
  std::thread b([&] {
    try {
      Udp::Channel ch(ep.spec, Role::kB, o);
      std::vector<std::byte> buf(256);
      for (uint64_t i = 0; i < kMessages; ++i) {
        const size_t n = ch.recv(buf);
        if (n == 0) continue;  // a loss (none is expected at this rate)
        if (!verify_message(std::span(buf.data(), n), 100 + i, 64)) ++b_ok;
        ch.send(std::span(buf.data(), n));
      }
    } catch (...) {
      b_error = std::current_exception();
    }
  });
  uint64_t a_ok = 0;
  try {
    Udp::Channel a(ep.spec, Role::kA, o);
    std::vector<std::byte> msg(64), echo(256);
    for (uint64_t i = 0; i < kMessages; ++i) {
      flood();
      fill_message(msg, 100 + i, 0);
      a.send(msg);
      const size_t n = a.recv(echo);
      if (n != 0 && !verify_message(std::span(echo.data(), n), 100 + i, 64)) ++a_ok;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "A: " << e.what();
  }
  b.join();
  if (b_error) std::rethrow_exception(b_error);
  EXPECT_EQ(b_ok, kMessages);
  EXPECT_EQ(a_ok, kMessages);
  // And the stranger was told the ports are closed to it.
  int err = 0;
  socklen_t len = sizeof err;
  ASSERT_EQ(::getsockopt(stranger.get(), SOL_SOCKET, SO_ERROR, &err, &len), 0);
  char c = 0;
  const ssize_t n = ::recv(stranger.get(), &c, 1, MSG_DONTWAIT);
  EXPECT_TRUE(err == ECONNREFUSED || (n < 0 && (errno == ECONNREFUSED || errno == EAGAIN)));
}

}  // namespace
}  // namespace ipcperf
