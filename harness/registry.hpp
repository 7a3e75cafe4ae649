// The harness's view of a backend: a runtime interface over the backend's Traits (whose Channel
// the workloads are instantiated for, see backend_glue.hpp), and the explicit registry of every
// backend in display order (registry.cpp: one line per backend).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipcperf/backend.hpp"
#include "protocol.hpp"

namespace ipcperf {

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
  virtual void check(const ChannelOptions& opt) const = 0;

  // Supervisor: creates the IPC objects. Names come from make_object_name().
  virtual Endpoints prepare(const ChannelOptions& opt) = 0;
  // Supervisor: removes everything prepare() created; safe to call after a failure and twice.
  virtual void cleanup(Endpoints& ep) noexcept = 0;

  // Peer: attaches to the objects and runs the job on the concrete channel type. In-process
  // backends (Family::kInProcess) run a job of role AB: A and B as two threads of this process,
  // pinned to job.cpu_a / job.cpu_b; out_b receives B's outcome.
  virtual PeerOutcome run_peer(const PeerJob& job, PeerOutcome* out_b) = 0;

  // Peer or test: attaches and returns a type-erased channel. In-process backends: both
  // endpoints are opened in one process, from the spec of one prepare().
  virtual std::unique_ptr<AnyChannel> open(std::string_view spec, Role role,
                                           const ChannelOptions& opt) = 0;

  // Resolves the options (capacity 0 -> default).
  [[nodiscard]] ChannelOptions resolve(const ChannelOptions& opt) const {
    return ipcperf::resolve(info(), opt);
  }
};

// The explicit registry, in display order.
struct RegistryEntry {
  std::string_view name;
  std::unique_ptr<Backend> (*make)();
};
std::span<const RegistryEntry> registry();
// nullptr when unknown.
std::unique_ptr<Backend> make_backend(std::string_view name);
std::vector<std::string> backend_names();

// Every option some registered backend declares (BackendInfo::options), once per flag, in
// registry order: the CLI offers each as --<flag>.
std::vector<BackendOption> backend_options();

}  // namespace ipcperf
