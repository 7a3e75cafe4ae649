// A framed byte stream (ipcperf/framing.hpp) over descriptors the channel owns: what the stream
// backends' Channels (pipe, fifo, uds-stream, tcp) have in common once their descriptors are open.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "ipcperf/framing.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {

class FramedFds {
 public:
  // Two descriptors, one per direction (pipes, FIFOs). spin: both become O_NONBLOCK, and EAGAIN
  // is busy-polled; set it only after the opens (a non-blocking FIFO open behaves differently).
  void start(Fd rfd, Fd wfd, bool spin, std::string_view what) {
    rfd_ = std::move(rfd);
    wfd_ = std::move(wfd);
    if (spin) set_nonblocking(wfd_.get(), true);
    start_io(wfd_.get(), spin, what);
  }
  // One socket for both directions.
  void start(Fd socket, bool spin, std::string_view what) {
    wfd_ = std::move(socket);
    start_io(wfd_.get(), spin, what);
  }

  void send(std::span<const std::byte> m) { io_->send(m); }
  size_t recv(std::span<std::byte> b) { return io_->recv(b); }

 private:
  void start_io(int wfd, bool spin, std::string_view what) {
    const int rfd = rfd_.valid() ? rfd_.get() : wfd;
    if (spin) set_nonblocking(rfd, true);
    io_.emplace(rfd, wfd, spin, what);
  }

  Fd rfd_, wfd_;
  std::optional<FramedStream<>> io_;
};

}  // namespace ipcperf
