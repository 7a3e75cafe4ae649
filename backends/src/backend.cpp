#include "ipcperf/backend.hpp"

#include <cerrno>
#include <cstdlib>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/backend_impl.hpp"
#include "ipcperf/message.hpp"

namespace ipcperf {

std::string_view to_string(Role r) { return r == Role::kA ? "A" : "B"; }

std::string_view to_string(Wait w) {
  switch (w) {
    case Wait::kSpin:
      return "spin";
    case Wait::kYield:
      return "yield";
    case Wait::kBlock:
      return "block";
  }
  return "?";
}

Wait parse_wait(std::string_view s) {
  if (s == "spin") return Wait::kSpin;
  if (s == "yield") return Wait::kYield;
  if (s == "block") return Wait::kBlock;
  throw UsageError(fmt::format("unknown wait strategy '{}': use spin, yield or block", s));
}

std::string_view to_string(Family f) {
  switch (f) {
    case Family::kSharedMemory:
      return "shared memory";
    case Family::kKernel:
      return "kernel";
    case Family::kInProcess:
      return "in-process";
  }
  return "?";
}

std::string WaitSet::to_string() const {
  std::string s;
  for (Wait w : {Wait::kSpin, Wait::kYield, Wait::kBlock}) {
    if (has(w)) {
      if (!s.empty()) s += ',';
      s += ipcperf::to_string(w);
    }
  }
  return s;
}

std::vector<int> Endpoints::keep_only(Role role) {
  const auto& mine = role == Role::kA ? inherit_a : inherit_b;
  std::vector<int> keep;
  for (Fd& fd : owned) {
    if (!fd.valid()) continue;
    bool is_mine = false;
    for (int m : mine) is_mine = is_mine || m == fd.get();
    if (is_mine) {
      keep.push_back(fd.release());
    } else {
      fd.reset();
    }
  }
  owned.clear();
  return keep;
}

void Endpoints::close_all() { owned.clear(); }

namespace detail {
void pin_this_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  check_errnum(fmt::format("pthread_setaffinity_np(CPU {})", cpu),
               ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set));
}
}  // namespace detail

void Backend::run_threads(const PeerJob&, const PeerJob&, int, int, PeerOutcome&, PeerOutcome&) {
  throw std::logic_error(fmt::format("{} is not an in-process backend", info().name));
}

void Backend::check(const ChannelOptions& opt) const {
  const BackendInfo& i = info();
  if (!i.waits.has(opt.wait)) {
    throw UsageError(fmt::format("{}: --wait {} is not supported (supported: {})", i.name,
                                 to_string(opt.wait), i.waits.to_string()));
  }
  if (opt.max_message != 0) {
    const size_t limit = max_message_size(opt);
    if (opt.max_message > limit) {
      throw UsageError(
          fmt::format("{}: message size {} exceeds the maximum of {} bytes with --capacity {}",
                      i.name, opt.max_message, limit, resolve(opt).capacity));
    }
  }
}

std::unique_ptr<Backend> make_backend(std::string_view name) {
  for (const auto& e : registry()) {
    if (e.name == name) return e.make();
  }
  return nullptr;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> v;
  for (const auto& e : registry()) v.emplace_back(e.name);
  return v;
}

// make_object_name, sweep_stale_objects and objects_of live in objects.cpp.

// ---- message.hpp -------------------------------------------------------------------------

std::optional<std::string> verify_message(std::span<const std::byte> received, uint64_t want_seq,
                                          size_t want_size) {
  if (received.size() < kMessageHeaderSize) {
    return fmt::format("truncated message: {} bytes received, expected {} (seq {})",
                       received.size(), want_size, want_seq);
  }
  const MessageHeader h = read_header(received);
  if (h.seq != want_seq) {
    if (h.seq < want_seq) {
      return fmt::format("duplicated or reordered message: seq {} received, expected {}", h.seq,
                         want_seq);
    }
    return fmt::format("lost message(s): seq {} received, expected {} ({} missing)", h.seq,
                       want_seq, h.seq - want_seq);
  }
  if (received.size() != want_size || h.size != want_size) {
    return fmt::format("{} message seq {}: {} bytes received, header says {}, expected {}",
                       received.size() < want_size ? "truncated" : "wrong-size", want_seq,
                       received.size(), h.size, want_size);
  }
  if (!payload_ok(received, want_seq)) {
    // Find the first bad byte for the message.
    std::vector<std::byte> good(want_size);
    fill_message(good, want_seq, h.flags);
    size_t i = kMessageHeaderSize;
    while (i < want_size && good[i] == received[i]) ++i;
    return fmt::format(
        "corrupted payload in message seq {} ({} bytes): first difference at byte {}", want_seq,
        want_size, i);
  }
  return std::nullopt;
}

std::string format_size(size_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return fmt::format("{}M", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{}K", bytes >> 10);
  return fmt::format("{}", bytes);
}

}  // namespace ipcperf
