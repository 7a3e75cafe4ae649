// Message framing over a byte stream (pipes, FIFOs, stream sockets): a 4-byte little-endian
// length prefix, then the message. Writes go out as one write(2) where the frame fits the
// staging buffer (one system call per message), else as writev(2) continued until complete.
// Reads pull whatever the kernel has into a receive buffer, so a small frame costs one read(2);
// a large message is read straight into the caller's buffer after what is already buffered.
// Partial reads/writes, EINTR, and (with spin) EAGAIN are handled here and nowhere else.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"
#include "ipcperf/wait.hpp"

namespace ipcperf {

// The system calls a FramedStream makes. A policy rather than direct calls so that the tests can
// hand it short transfers, EINTR and EAGAIN at will (tests/unit/framing_test.cpp); static and
// inline, so the default compiles to the same direct calls (no indirection).
struct SysIo {
  static ssize_t read(int fd, void* p, size_t n) noexcept { return ::read(fd, p, n); }
  static ssize_t write(int fd, const void* p, size_t n) noexcept { return ::write(fd, p, n); }
  static ssize_t writev(int fd, const iovec* iov, int count) noexcept {
    return ::writev(fd, iov, count);
  }
};

// Io: read(fd, p, n), write(fd, p, n), writev(fd, iov, count) with the system calls' results and
// errno (SysIo, or a test's fake).
template <class Io = SysIo>
class FramedStream {
 public:
  static constexpr size_t kBuffer = 64 * 1024;

  // rfd/wfd stay owned by the caller. spin: the descriptors are O_NONBLOCK and EAGAIN is retried
  // by busy-polling.
  FramedStream(int rfd, int wfd, bool spin, std::string_view what, Io io = Io())
      : io_(std::move(io)),
        rfd_(rfd),
        wfd_(wfd),
        spin_(spin),
        what_(what),
        staging_(kBuffer + 4),
        rbuf_(kBuffer) {}

  void send(std::span<const std::byte> m) {
    const auto len = static_cast<uint32_t>(m.size());
    if (m.size() + 4 <= staging_.size()) [[likely]] {
      std::memcpy(staging_.data(), &len, 4);
      // An empty span's data() may be null, and memcpy from null is undefined even for 0 bytes.
      if (!m.empty()) std::memcpy(staging_.data() + 4, m.data(), m.size());
      write_all(staging_.data(), m.size() + 4);
      return;
    }
    iovec iov[2] = {{const_cast<uint32_t*>(&len), 4}, {const_cast<std::byte*>(m.data()), m.size()}};
    size_t left = 4 + m.size();
    int first = 0;
    while (left > 0) {
      ssize_t w = io_.writev(wfd_, iov + first, 2 - first);
      if (w < 0) {
        on_write_error();
        continue;
      }
      left -= static_cast<size_t>(w);
      auto done = static_cast<size_t>(w);
      while (first < 2 && done >= iov[first].iov_len) {
        done -= iov[first].iov_len;
        iov[first].iov_len = 0;
        ++first;
      }
      if (first < 2) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + done;
        iov[first].iov_len -= done;
      }
    }
  }

  size_t recv(std::span<std::byte> buf) {
    while (end_ - begin_ < 4) {
      if (!fill(4)) throw PeerGone(fmt::format("{}: the sending peer has closed", what_));
    }
    uint32_t len;
    std::memcpy(&len, rbuf_.data() + begin_, 4);
    if (len > buf.size()) {
      throw std::runtime_error(
          fmt::format("{}: frame of {} bytes exceeds the {}-byte buffer "
                      "(stream out of sync?)",
                      what_, len, buf.size()));
    }
    begin_ += 4;
    const size_t have = std::min<size_t>(end_ - begin_, len);
    if (have != 0) std::memcpy(buf.data(), rbuf_.data() + begin_, have);  // buf may be null
    begin_ += have;
    for (size_t got = have; got < len;) {
      // Large message: read straight into the caller's buffer.
      ssize_t r = io_.read(rfd_, buf.data() + got, len - got);
      if (r > 0) {
        got += static_cast<size_t>(r);
      } else if (r == 0) {
        throw PeerGone(
            fmt::format("{}: the sending peer closed in the middle of a message "
                        "({} of {} bytes)",
                        what_, got, len));
      } else {
        on_read_error();
      }
    }
    return len;
  }

 private:
  // Reads more into rbuf_; false on EOF.
  bool fill(size_t need) {
    if (begin_ > 0 && rbuf_.size() - begin_ < need) {
      std::memmove(rbuf_.data(), rbuf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    for (;;) {
      ssize_t r = io_.read(rfd_, rbuf_.data() + end_, rbuf_.size() - end_);
      if (r > 0) {
        end_ += static_cast<size_t>(r);
        return true;
      }
      if (r == 0) return false;
      on_read_error();
    }
  }

  void write_all(const std::byte* p, size_t n) {
    while (n > 0) {
      ssize_t w = io_.write(wfd_, p, n);
      if (w < 0) {
        on_write_error();
        continue;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  // Returns to retry, throws otherwise.
  void on_read_error() {
    if (errno == EINTR) return;
    if (errno == EAGAIN && spin_) {
      cpu_relax();
      return;
    }
    if (errno == ECONNRESET) throw PeerGone(fmt::format("{}: the sending peer has gone", what_));
    throw_errno(fmt::format("read({})", what_));
  }
  void on_write_error() {
    if (errno == EINTR) return;
    if (errno == EAGAIN && spin_) {
      cpu_relax();
      return;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      throw PeerGone(fmt::format("{}: the receiving peer has gone ({})", what_, errno_name(errno)));
    }
    throw_errno(fmt::format("write({})", what_));
  }

  [[no_unique_address]] Io io_;
  int rfd_, wfd_;
  bool spin_;
  std::string what_;
  std::vector<std::byte> staging_;
  std::vector<std::byte> rbuf_;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace ipcperf
