// fifo: two named pipes (mkfifo 0600) in a private directory; the peers open them by path, as
// unrelated processes would. Framed like pipe (4-byte length prefix): one write(2) and usually one
// read(2) per message. Once open, a FIFO is a pipe: the same pipe_inode_info, the same buffer.
// Waits: block (default), spin (O_NONBLOCK after the opens, busy retry of EAGAIN).
//
// Open order: opening a FIFO blocks until the other end is opened too. Both peers open the A->B
// FIFO first (A to write, B to read), then the B->A FIFO, so the two blocking opens always pair
// up and can never wait on each other in a cycle.
#pragma once
#include <fstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "ipcperf/framed_fds.hpp"
#include "ipcperf/limits.hpp"
#include "ipcperf/objects.hpp"

namespace ipcperf::backends::fifo {

constexpr size_t kMaxFifoMessage = 16 * 1024 * 1024;  // framing caps nothing; the suite does
constexpr const char* kAtoB = "/a-to-b";
constexpr const char* kBtoA = "/b-to-a";

inline Fd open_fifo(const std::string& path, int flags, std::string_view what) {
  return Fd(check_errno(fmt::format("open(\"{}\", {})", path, what),
                        [&] { return ::open(path.c_str(), flags | O_CLOEXEC); }));
}

struct Fifo {
  static const BackendInfo& info() {
    static const BackendInfo i{"fifo",
                               "two named pipes (mkfifo) opened by path, 4-byte length-prefixed "
                               "frames",
                               Family::kKernel,
                               65536,
                               WaitSet{}.add(Wait::kBlock).add(Wait::kSpin),
                               Wait::kBlock};
    return i;
  }
  static size_t max_message(const ChannelOptions&) { return kMaxFifoMessage; }
  static void check(const ChannelOptions& o) { check_pipe_capacity("fifo", o.capacity); }
  static Endpoints prepare(const ChannelOptions&) {
    Endpoints ep;
    ep.spec = make_private_dir();
    try {
      for (const char* name : {kAtoB, kBtoA}) {
        const std::string path = ep.spec + name;
        // mkfifo fails with EEXIST on an existing name: the O_EXCL of FIFOs.
        check_errno(fmt::format("mkfifo(\"{}\", 0600)", path),
                    [&] { return ::mkfifo(path.c_str(), 0600); });
        // The umask may only have removed bits; say 0600 exactly.
        check_errno(fmt::format("chmod(\"{}\", 0600)", path),
                    [&] { return ::chmod(path.c_str(), 0600); });
        ep.objects.push_back(path);
      }
    } catch (...) {
      remove_private_dir(ep.spec);
      throw;
    }
    ep.objects.push_back(ep.spec);
    return ep;
  }
  static void cleanup(Endpoints& ep) noexcept {
    ep.close_all();
    if (!ep.spec.empty()) remove_private_dir(ep.spec);
  }

  // send() and recv() are FramedFds's (non-virtual: the hot loop calls them directly).
  class Channel : public FramedFds {
   public:
    Channel(std::string_view spec, Role role, const ChannelOptions& o) {
      const std::string dir(spec);
      const std::string ab = dir + kAtoB, ba = dir + kBtoA;
      // A->B first on both sides (see the top of the file). The writer of each FIFO sizes its
      // buffer right after its open returns, before anything is written into it (shrinking a pipe
      // that holds more than the new size fails with EBUSY).
      Fd rfd, wfd;
      if (role == Role::kA) {
        wfd = open_fifo(ab, O_WRONLY, "O_WRONLY");
        set_size(wfd.get(), o.capacity);
        rfd = open_fifo(ba, O_RDONLY, "O_RDONLY");
      } else {
        rfd = open_fifo(ab, O_RDONLY, "O_RDONLY");
        wfd = open_fifo(ba, O_WRONLY, "O_WRONLY");
        set_size(wfd.get(), o.capacity);
      }
      // Only after the opens: a non-blocking open for writing fails (ENXIO) without a reader, and
      // a non-blocking reader would see EOF before its writer arrived.
      start(std::move(rfd), std::move(wfd), o.wait == Wait::kSpin, "fifo");
    }

   private:
    static void set_size(int fd, size_t capacity) {
      const int got = check_errno(fmt::format("fcntl(F_SETPIPE_SZ, {})", capacity), [&] {
        return ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(capacity));
      });
      if (static_cast<size_t>(got) != capacity) {
        throw std::runtime_error(
            fmt::format("fifo: F_SETPIPE_SZ {} gave a {}-byte buffer", capacity, got));
      }
    }
  };
};

}  // namespace ipcperf::backends::fifo
