// What a backend is, in the lower layer: the types every backend file declares itself with.
// Nothing here knows the harness (workloads, the peer protocol, the CLI): the harness turns a
// backend's Traits into a runnable Backend (harness/backend_glue.hpp) and lists it in its
// registry (harness/registry.cpp).
//
// A backend gives a duplex, message-oriented channel between two endpoints A and B
// (ipcperf/channel.hpp states the contract of send and recv). Its file in
// backends/include/ipcperf/backends/ declares a Traits class (docs/adding-a-backend.md):
//   static const BackendInfo& info();
//   static size_t max_message(const ChannelOptions&);  // on this machine
//   static void check(const ChannelOptions&);          // extra checks (may do nothing)
//   static void check_size(const ChannelOptions&);     // optional: refuses max_message above
//                                                      // max_message() saying why (sysctl...)
//   static Endpoints prepare(const ChannelOptions&);   // the supervisor creates the objects
//   static void cleanup(Endpoints&) noexcept;          // ... and removes them, also after failure
//   class Channel: Channel(std::string_view spec, Role, const ChannelOptions&),
//                  void send(std::span<const std::byte>), size_t recv(std::span<std::byte>)
// In-process references (Family::kInProcess) declare a `Shared` class instead of prepare/cleanup
// and a Channel(Shared&, Role, const ChannelOptions&): both endpoints are threads of one process.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
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

// An option of one backend (tcp's TCP_NODELAY): the harness makes it a command-line option
// `--<flag>`, checks its values, passes it to the channel in ChannelOptions::params, and names
// the case after a value other than the default (pingpong/tcp/nodelay:0/size:64).
struct BackendOption {
  enum class Kind : uint8_t { kBool };  // kBool: 1|on|true or 0|off|false, stored as "1" / "0"
  std::string_view flag;                // "tcp-nodelay"
  std::string_view help;                // one line for --help
  std::string_view default_value;       // "1"
  std::string_view case_key;            // "nodelay": shows as /nodelay:V/ when V is not default
  Kind kind = Kind::kBool;
  // The canonical value of `text`, or "" when it is not one of the allowed values.
  [[nodiscard]] std::string normalize(std::string_view text) const;
  [[nodiscard]] std::string allowed() const;  // "1 (default) or 0"
};

struct BackendInfo {
  std::string_view name;     // kebab-case, the same in CLI, JSON and file names
  std::string_view summary;  // one line of semantics
  Family family;
  size_t default_capacity;  // bytes of buffering per direction
  WaitSet waits;
  Wait default_wait;
  // Datagrams may be dropped (udp): the workloads count losses instead of failing, and the
  // channel's recv returns 0 when nothing arrived within its loss timeout (ipcperf/channel.hpp).
  bool lossy = false;
  std::span<const BackendOption> options = {};
};

struct ChannelOptions {
  size_t capacity = 0;  // bytes per direction; 0 = the backend's default
  Wait wait = Wait::kSpin;
  size_t max_message = 0;  // the largest message this run sends (sizes buffers)
  // The backend's own options (BackendInfo::options) by flag, canonical values; absent = default.
  std::map<std::string, std::string, std::less<>> params;

  // The value of one of the backend's options (its default when not given).
  [[nodiscard]] std::string_view param(const BackendOption& o) const;
  [[nodiscard]] bool flag(const BackendOption& o) const { return param(o) == "1"; }
};

// The capacity and wait a backend would use: capacity 0 becomes its default.
inline ChannelOptions resolve(const BackendInfo& info, ChannelOptions opt) {
  if (opt.capacity == 0) opt.capacity = info.default_capacity;
  return opt;
}

// The checks every backend shares: a wait it supports, a message no larger than `max_message`
// (its limit with these options). Throws UsageError naming the backend, the value and the limit.
void check_common(const BackendInfo& info, const ChannelOptions& resolved, size_t max_message);

// Objects created by prepare(). `spec` is opaque to the harness and travels to the peers in
// their job; the descriptors listed per role are inherited by that role's peer.
// The leading comma-separated integers of a channel spec the supervisor wrote ("3,4" or
// "3,4,<dir>"): descriptors or queue ids. Throws std::runtime_error naming the backend unless the
// spec starts with out.size() of them, followed by its end or a comma.
void parse_spec_ints(std::string_view backend, std::string_view spec, std::span<int> out);
template <size_t N>
std::array<int, N> spec_ints(std::string_view backend, std::string_view spec) {
  std::array<int, N> v{};
  parse_spec_ints(backend, spec, v);
  return v;
}

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

}  // namespace ipcperf
