#include "ipcperf/sockets.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <poll.h>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/wait.hpp"

namespace ipcperf {

sockaddr_un unix_address(std::string_view backend, const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= kSunPath) {
    throw UsageError(fmt::format(
        "{}: socket path \"{}\" has {} bytes, more than the {} of sun_path; set TMPDIR (or "
        "XDG_RUNTIME_DIR) to a shorter directory",
        backend, path, path.size(), kSunPath - 1));
  }
  path.copy(a.sun_path, path.size());
  return a;
}

Fd accept_one(Fd listener, std::string_view backend) {
  return Fd(check_errno(fmt::format("accept4({})", backend),
                        [&] { return ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC); }));
}

Token random_token() {
  Token t{};
  size_t have = 0;
  while (have < t.size()) {
    const ssize_t n = retry_eintr([&] { return ::getrandom(t.data() + have, t.size() - have, 0); });
    if (n < 0) throw_errno("getrandom(token)");
    have += static_cast<size_t>(n);
  }
  return t;
}

std::string token_hex(const Token& t) {
  std::string s;
  s.reserve(2 * t.size());
  for (std::byte b : t) s += fmt::format("{:02x}", static_cast<unsigned>(b));
  return s;
}

Token parse_token(std::string_view backend, std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Token t{};
  bool ok = hex.size() == 2 * t.size();
  for (size_t i = 0; ok && i < t.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    t[i] = static_cast<std::byte>((hi << 4) | lo);
  }
  if (!ok) {
    throw std::runtime_error(fmt::format("{}: bad token in the channel spec (want {} hex digits)",
                                         backend, 2 * t.size()));
  }
  return t;
}

namespace {

// Compares without an early exit, so that the time taken says nothing about how many bytes of
// a guess were right.
bool same_token(const Token& a, const Token& b) noexcept {
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ b[i]);
  return diff == 0;
}

int poll_timeout_ms(int64_t deadline) {
  const int64_t left = deadline - now_ns();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left / 1'000'000 + 1, 1'000));
}

struct Pending {
  Fd fd;
  Token got{};
  size_t have = 0;
};

}  // namespace

Fd accept_peer(Fd listener, const Token& token, std::string_view backend, uint64_t& refused) {
  set_nonblocking(listener.get(), true);
  std::vector<Pending> pending;
  std::vector<pollfd> fds;
  const int64_t deadline = now_ns() + kHelloDeadlineNs;
  for (;;) {
    fds.assign(1, pollfd{listener.get(), POLLIN, 0});
    for (const auto& p : pending) fds.push_back(pollfd{p.fd.get(), POLLIN, 0});
    const int n = retry_eintr([&] {
      return ::poll(fds.data(), static_cast<nfds_t>(fds.size()), poll_timeout_ms(deadline));
    });
    if (n < 0) throw_errno(fmt::format("poll({} listener)", backend));
    if (n == 0 && now_ns() >= deadline) {
      throw PeerGone(fmt::format(
          "{}: no connection presented the case's token within {} s ({} other connection(s) "
          "refused): the peer did not connect",
          backend, kHelloDeadlineNs / 1'000'000'000, refused));
    }
    // Connections that sent something: judge them once their token is complete.
    for (size_t i = pending.size(); i-- > 0;) {
      if (fds[i + 1].revents == 0) continue;
      Pending& p = pending[i];
      const ssize_t got = retry_eintr(
          [&] { return ::recv(p.fd.get(), p.got.data() + p.have, p.got.size() - p.have, 0); });
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      bool drop = got <= 0;  // EOF, or an error such as ECONNRESET
      if (got > 0) {
        p.have += static_cast<size_t>(got);
        if (p.have == p.got.size()) {
          if (same_token(p.got, token)) {
            Fd peer = std::move(p.fd);
            set_nonblocking(peer.get(), false);
            write_full(peer.get(), token.data(), token.size(), backend);
            refused += pending.size() - 1;  // still silent: closed unheard, with the listener
            return peer;
          }
          drop = true;
        }
      }
      if (drop) {
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        ++refused;
      }
    }
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (;;) {
      const int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        throw_errno(fmt::format("accept4({})", backend));
      }
      pending.push_back(Pending{Fd(c)});
      if (pending.size() > kMaxPendingConnections) {
        pending.erase(pending.begin());  // the longest silent one
        ++refused;
      }
    }
  }
}

void present_token(int fd, const Token& token, std::string_view backend) {
  write_full(fd, token.data(), token.size(), backend);
  Token answer{};
  size_t have = 0;
  const int64_t deadline = now_ns() + kHelloDeadlineNs;
  while (have < answer.size()) {
    pollfd p{fd, POLLIN, 0};
    const int n = retry_eintr([&] { return ::poll(&p, 1, poll_timeout_ms(deadline)); });
    if (n < 0) throw_errno(fmt::format("poll({})", backend));
    if (n == 0) {
      if (now_ns() < deadline) continue;
      throw PeerGone(fmt::format("{}: the peer did not answer the case's token within {} s",
                                 backend, kHelloDeadlineNs / 1'000'000'000));
    }
    const ssize_t got =
        retry_eintr([&] { return ::recv(fd, answer.data() + have, answer.size() - have, 0); });
    if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE))) {
      throw PeerGone(
          fmt::format("{}: the other end closed the connection before answering the "
                      "case's token",
                      backend));
    }
    if (got < 0) throw_errno(fmt::format("recv({} token)", backend));
    have += static_cast<size_t>(got);
  }
  if (!same_token(answer, token)) {
    throw std::runtime_error(fmt::format(
        "{}: the process listening on the case's port answered with the wrong token: it is not "
        "the peer",
        backend));
  }
}

void connect_or_gone(int fd, const sockaddr* addr, socklen_t len, std::string_view backend,
                     std::string_view where) {
  if (retry_eintr([&] { return ::connect(fd, addr, len); }) == 0) return;
  if (errno == ECONNREFUSED || errno == ENOENT) {
    throw PeerGone(
        fmt::format("{}: connect({}): nobody listens ({})", backend, where, errno_name(errno)));
  }
  throw_errno(fmt::format("connect({})", where));
}

}  // namespace ipcperf
