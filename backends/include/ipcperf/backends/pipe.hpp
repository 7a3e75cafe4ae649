// pipe: two anonymous pipes (A->B, B->A) created by the supervisor and inherited by the peers.
// Messages are framed with a 4-byte length prefix. Hot path: one write(2) of prefix+message (a
// staging copy for small messages), one read(2) into a buffer that usually holds the whole
// frame; messages larger than the pipe buffer take several reads and writes.
// Waits: block (default: the kernel sleeps the reader/writer), spin (O_NONBLOCK, busy retry).
#pragma once
#include <algorithm>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/framed_fds.hpp"
#include "ipcperf/limits.hpp"

namespace ipcperf::backends::pipe {

constexpr size_t kMaxPipeMessage = 16 * 1024 * 1024;

struct Pipe {
  static const BackendInfo& info() {
    static const BackendInfo i{
        "pipe", "two anonymous pipes, 4-byte length-prefixed frames", Family::kKernel,
        65536,  WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),         Wait::kBlock};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxPipeMessage; }
  static void check(const ChannelOptions& o) { check_pipe_capacity("pipe", o.capacity); }
  static Endpoints prepare(const ChannelOptions& o) {
    Endpoints ep;
    int ab[2], ba[2];
    check_errno("pipe2(A->B)", [&] { return ::pipe2(ab, O_CLOEXEC); });
    ep.owned.emplace_back(ab[0]);
    ep.owned.emplace_back(ab[1]);
    check_errno("pipe2(B->A)", [&] { return ::pipe2(ba, O_CLOEXEC); });
    ep.owned.emplace_back(ba[0]);
    ep.owned.emplace_back(ba[1]);
    for (int fd : {ab[1], ba[1]}) {
      check_errno(fmt::format("fcntl(F_SETPIPE_SZ, {})", o.capacity),
                  [&] { return ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(o.capacity)); });
    }
    // A writes ab[1] and reads ba[0]; B reads ab[0] and writes ba[1].
    ep.spec = fmt::format("{},{},{},{}", ab[0], ab[1], ba[0], ba[1]);
    ep.inherit_a = {ab[1], ba[0]};
    ep.inherit_b = {ab[0], ba[1]};
    ep.objects.push_back(fmt::format("pipe fds {}", ep.spec));
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept { ep.close_all(); }

  // send() and recv() are FramedFds's (non-virtual: the hot loop calls them directly).
  class Channel : public FramedFds {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o) {
      const auto [ab_r, ab_w, ba_r, ba_w] = spec_ints<4>("pipe", spec);
      const bool a = role == Role::kA;
      start(Fd(a ? ba_r : ab_r), Fd(a ? ab_w : ba_w), o.wait == Wait::kSpin, "pipe");
    }
  };
};

}  // namespace ipcperf::backends::pipe
