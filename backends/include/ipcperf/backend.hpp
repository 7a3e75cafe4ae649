// The backend interface and the explicit registry.
//
// A backend gives a duplex, message-oriented channel between two endpoints A and B:
//   send(msg)  delivers exactly one whole message; blocks while the buffer towards the peer is
//              full; throws PeerGone when the peer has gone, SystemError on other failures.
//   recv(buf)  returns exactly one whole message (its size); blocks while nothing is there;
//              throws PeerGone when the peer has gone and nothing more will arrive.
// Messages are at most max_message_size(options) bytes and at least kMinMessageSize.
//
// Lifetime (the process model):
//   supervisor: check() -> prepare() creates the IPC objects (0600, O_EXCL, unique names)
//               -> spawns peers (they inherit Endpoints::inherit_{a,b}) -> cleanup() unlinks.
//   peer:       run_peer() attaches to the prepared objects (open, never create) and runs the
//               workload on the *concrete* channel type: no virtual call between two messages.
//
// Adding a backend = one file in backends/ (a Traits class + make_<name>_backend()) and one line
// in registry.cpp; the conformance suite then covers it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

enum class Role : uint8_t { kA, kB };
std::string_view to_string(Role r);

// How an endpoint waits for its peer: busy-poll, poll with sched_yield, or sleep in the kernel
// (futex / condvar / blocking system call).
enum class Wait : uint8_t { kSpin, kYield, kBlock };
std::string_view to_string(Wait w);
Wait parse_wait(std::string_view s);  // throws UsageError

// Where the data travels.
enum class Family : uint8_t { kSharedMemory, kKernel, kInProcess };
std::string_view to_string(Family f);

struct WaitSet {
  uint8_t bits = 0;
  [[nodiscard]] constexpr bool has(Wait w) const { return (bits >> static_cast<int>(w)) & 1U; }
  constexpr WaitSet& add(Wait w) {
    bits |= static_cast<uint8_t>(1U << static_cast<int>(w));
    return *this;
  }
  [[nodiscard]] std::string to_string() const;  // "spin,yield,block"
};

struct BackendInfo {
  std::string_view name;     // kebab-case, the same in CLI, JSON and file names
  std::string_view summary;  // one line of semantics
  Family family;
  size_t default_capacity;  // bytes of buffering per direction
  WaitSet waits;
  Wait default_wait;
  // Datagrams may be dropped (udp): the workloads count losses instead of failing, and the
  // channel's recv returns 0 when nothing arrived within its loss timeout (see workloads.hpp).
  bool lossy = false;
};

struct ChannelOptions {
  size_t capacity = 0;  // bytes per direction; 0 = the backend's default
  Wait wait = Wait::kSpin;
  size_t max_message = 0;   // the largest message this run sends (sizes buffers)
  bool tcp_nodelay = true;  // tcp only: TCP_NODELAY (--tcp-nodelay=0 turns Nagle back on)
};

// Objects created by prepare(). `spec` is opaque to the harness and travels to the peers on
// their command line; the descriptors listed per role are inherited by that role's peer.
struct Endpoints {
  std::string spec;
  std::vector<int> inherit_a;
  std::vector<int> inherit_b;
  std::vector<std::string> objects;  // what was created (names, paths), for cleanup and reports
  std::vector<Fd> owned;             // descriptors held by the supervisor until the peers run

  // In a process that plays `role`: closes the descriptors of the other role (so that the peer's
  // death is seen as EOF / EPIPE) and returns those to keep.
  std::vector<int> keep_only(Role role);
  // Closes every descriptor held (after both peers are spawned).
  void close_all();
};

// What a peer is asked to run; the workload parameters are defined by the harness.
struct PeerJob;
struct PeerOutcome;

// Type-erased channel for tests and setup code. The measured loops never use it.
class AnyChannel {
 public:
  virtual ~AnyChannel() = default;
  virtual void send(std::span<const std::byte> msg) = 0;
  virtual size_t recv(std::span<std::byte> buf) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual const BackendInfo& info() const = 0;

  // The largest message this backend carries with these options on this machine.
  [[nodiscard]] virtual size_t max_message_size(const ChannelOptions& opt) const = 0;

  // Refuses options the backend cannot honour (capacity, wait strategy, message size) with a
  // UsageError naming the backend, the value and the limit; Unsupported when the mechanism is
  // not available on this machine. Called before any object is created.
  virtual void check(const ChannelOptions& opt) const;

  // Supervisor: creates the IPC objects. Names come from make_object_name().
  virtual Endpoints prepare(const ChannelOptions& opt) = 0;
  // Supervisor: removes everything prepare() created; safe to call after a failure and twice.
  virtual void cleanup(Endpoints& ep) noexcept = 0;

  // Peer: attaches to the objects and runs the job on the concrete channel type.
  virtual PeerOutcome run_peer(const PeerJob& job) = 0;

  // In-process backends (Family::kInProcess) only: runs A and B as two threads of this process,
  // pinned to cpu_a / cpu_b (-1: not pinned). Cross-process backends throw std::logic_error.
  virtual void run_threads(const PeerJob& a, const PeerJob& b, int cpu_a, int cpu_b,
                           PeerOutcome& out_a, PeerOutcome& out_b);

  // Peer or test: attaches and returns a type-erased channel. In-process backends: both
  // endpoints are opened in one process, from the spec of one prepare().
  virtual std::unique_ptr<AnyChannel> open(std::string_view spec, Role role,
                                           const ChannelOptions& opt) = 0;

  // Resolves the options (capacity 0 -> default).
  [[nodiscard]] ChannelOptions resolve(ChannelOptions opt) const {
    if (opt.capacity == 0) opt.capacity = info().default_capacity;
    return opt;
  }
};

// "ipcperf-<pid>-<n>": pid of the creating (supervisor) process, n counts per process. The stale
// sweep removes objects whose pid is dead. Declared again, with the sweep, in objects.hpp.
std::string make_object_name();

// The explicit registry, in display order.
struct RegistryEntry {
  std::string_view name;
  std::unique_ptr<Backend> (*make)();
};
std::span<const RegistryEntry> registry();
// nullptr when unknown.
std::unique_ptr<Backend> make_backend(std::string_view name);
std::vector<std::string> backend_names();

// Removes the IPC objects of ipcperf processes that are no longer alive, and only objects of
// ours (objects.hpp says how that is checked). Returns what was removed.
std::vector<std::string> sweep_stale_objects();

// Every object that exists now and was named after `pid` (the leak check of the tests).
std::vector<std::string> objects_of(pid_t pid);

}  // namespace ipcperf
