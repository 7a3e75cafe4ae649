// uds-stream: an AF_UNIX SOCK_STREAM connection through a socket file, as a local service does it.
// The supervisor creates the socket, binds it to <private dir>/sock (0600) and listens (backlog
// 1); B inherits the listening descriptor and accept()s, A connect()s to the path. Messages are
// framed (4-byte length prefix): one write(2) and usually one read(2) per message, each copying the
// bytes once (sender -> skb, skb -> receiver). Waits: block (default), spin (O_NONBLOCK after the
// connection is made, busy retry of EAGAIN). A peer that exits closes its socket: EOF or
// ECONNRESET on read, EPIPE on write (SIGPIPE is ignored by the peers).
#pragma once
#include <charconv>
#include <string>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/framed_fds.hpp"
#include "ipcperf/objects.hpp"
#include "ipcperf/socket_buffers.hpp"
#include "ipcperf/sockets.hpp"

namespace ipcperf::backends::uds_stream {

constexpr size_t kMaxStreamMessage = 16 * 1024 * 1024;  // framing caps nothing; the suite does
constexpr std::string_view kSocketName = "/sock";
// "<listening fd>:<socket path>"
struct Spec {
  int listen_fd = -1;
  std::string path;
  static Spec parse(std::string_view s) {
    Spec sp;
    const size_t colon = s.find(':');
    if (colon == std::string_view::npos ||
        std::from_chars(s.data(), s.data() + colon, sp.listen_fd).ec != std::errc{}) {
      throw std::runtime_error(fmt::format("uds-stream: bad channel spec '{}'", s));
    }
    sp.path = std::string(s.substr(colon + 1));
    return sp;
  }
};

inline std::string parent_dir(const std::string& path) { return path.substr(0, path.rfind('/')); }

struct UdsStream {
  static const BackendInfo& info() {
    static const BackendInfo i{"uds-stream",
                               "AF_UNIX SOCK_STREAM via a socket file (bind/listen/accept/"
                               "connect), 4-byte length-prefixed frames",
                               Family::kKernel,
                               default_socket_capacity(),
                               WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
                               Wait::kBlock};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxStreamMessage; }
  static void check(const ChannelOptions& o) {
    // AF_UNIX streams charge queued data to the sender's SO_SNDBUF only; SO_RCVBUF is set too (it
    // is what the option means to a reader of the code) and must be honoured as well.
    check_socket_capacity("uds-stream", o.capacity, true);
    // The longest path make_private_dir() can produce, plus the socket's name.
    const size_t longest = private_dir_max_length() + kSocketName.size();
    if (longest >= kSunPath) {
      throw UsageError(fmt::format(
          "uds-stream: a socket path under \"{}\" could reach {} bytes, more than the {} "
          "of sun_path; set TMPDIR (or XDG_RUNTIME_DIR) to a shorter directory",
          private_root(), longest, kSunPath - 1));
    }
  }
  static Endpoints prepare(const ChannelOptions&) {
    Endpoints ep;
    const std::string dir = make_private_dir();
    const std::string path = dir + std::string(kSocketName);
    try {
      const sockaddr_un addr = unix_address("uds-stream", path);
      Fd& l = ep.owned.emplace_back(check_errno("socket(AF_UNIX, SOCK_STREAM)", [] {
        return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      }));
      // bind creates the socket file; it fails with EADDRINUSE on an existing name (our O_EXCL).
      check_errno(fmt::format("bind(\"{}\")", path), [&] {
        return ::bind(l.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
      });
      ep.objects.push_back(path);
      // connect() needs write permission on the file; nobody else gets any (the directory is
      // 0700 as well).
      check_errno(fmt::format("chmod(\"{}\", 0600)", path),
                  [&] { return ::chmod(path.c_str(), 0600); });
      // One connection is ever made; a second connect would wait in the backlog, not succeed.
      check_errno("listen(uds-stream, 1)", [&] { return ::listen(l.get(), 1); });
      ep.spec = fmt::format("{}:{}", l.get(), path);
      ep.inherit_b = {l.get()};
    } catch (...) {
      ep.owned.clear();
      remove_private_dir(dir);
      throw;
    }
    ep.objects.push_back(dir);
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept {
    ep.close_all();
    if (!ep.spec.empty()) {
      try {
        remove_private_dir(parent_dir(Spec::parse(ep.spec).path));
      } catch (...) {
        // A spec we wrote always parses; cleanup never throws anyway.
      }
    }
  }

  // send() and recv() are FramedFds's (non-virtual: the hot loop calls them directly).
  class Channel : public FramedFds {
   public:
    Channel(std::string_view spec_text, Role role, const ChannelOptions& o) {
      const Spec spec = Spec::parse(spec_text);
      Fd fd;
      if (role == Role::kB) {
        fd = accept_one(Fd(spec.listen_fd), "uds-stream");
      } else {
        fd = Fd(check_errno("socket(AF_UNIX, SOCK_STREAM)",
                            [] { return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
        const sockaddr_un addr = unix_address("uds-stream", spec.path);
        connect_or_gone(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr,
                        "uds-stream", fmt::format("\"{}\"", spec.path));
      }
      // The accepted socket is a fresh one (unix_stream_connect creates it with the defaults), so
      // each side sizes its own after the connection exists.
      set_socket_buffer(fd.get(), SockBuf::kSend, o.capacity, "uds-stream");
      set_socket_buffer(fd.get(), SockBuf::kRecv, o.capacity, "uds-stream");
      start(std::move(fd), o.wait == Wait::kSpin, "uds-stream");
    }
  };
};

}  // namespace ipcperf::backends::uds_stream
