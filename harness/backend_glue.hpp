// Glue that turns a backend's Traits (backends/include/ipcperf/backend.hpp states the contract)
// into a Backend: the run-time choice of backend ends here, and run_workload is instantiated for
// the concrete channel type, so nothing virtual sits between two messages.
#pragma once

#include <barrier>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "ipcperf/objects.hpp"
#include "ipcperf/pinning.hpp"
#include "registry.hpp"
#include "workloads/workloads.hpp"

namespace ipcperf {

template <class Ch>
class AnyChannelOf final : public AnyChannel {
 public:
  template <class... Args>
  explicit AnyChannelOf(Args&&... args) : ch_(std::forward<Args>(args)...) {}
  void send(std::span<const std::byte> msg) override { ch_.send(msg); }
  size_t recv(std::span<std::byte> buf) override { return ch_.recv(buf); }

 private:
  Ch ch_;
};

// What both kinds of backend share: info, limits and checks from the Traits.
template <class Traits>
class BackendBase : public Backend {
 public:
  [[nodiscard]] const BackendInfo& info() const override { return Traits::info(); }
  [[nodiscard]] size_t max_message_size(const ChannelOptions& opt) const override {
    return Traits::max_message(resolve(opt));
  }
  void check(const ChannelOptions& opt) const override {
    const ChannelOptions o = resolve(opt);
    // Optional: a backend whose size limit comes from a sysctl or a buffer refuses an oversize
    // message itself first, naming where the limit comes from; the generic check is the backstop.
    if constexpr (requires { Traits::check_size(o); }) {
      if (o.max_message != 0) Traits::check_size(o);
    }
    check_common(info(), o, Traits::max_message(o));
    Traits::check(o);
  }
};

// A backend between two processes: the supervisor prepares, each peer opens its end.
template <class Traits>
class BackendOf final : public BackendBase<Traits> {
 public:
  using Ch = typename Traits::Channel;
  using BackendBase<Traits>::resolve;
  Endpoints prepare(const ChannelOptions& opt) override { return Traits::prepare(resolve(opt)); }
  void cleanup(Endpoints& ep) noexcept override { Traits::cleanup(ep); }
  PeerOutcome run_peer(const PeerJob& job, PeerOutcome*) override {
    Ch ch(job.spec, job.role, resolve(job.options));
    PeerOutcome out = run_workload(ch, job);
    if constexpr (requires { ch.refused(); }) out.refused = ch.refused();
    return out;
  }
  std::unique_ptr<AnyChannel> open(std::string_view spec, Role role,
                                   const ChannelOptions& opt) override {
    return std::make_unique<AnyChannelOf<Ch>>(spec, role, resolve(opt));
  }
};

namespace detail {
// Rethrows the cause among two threads' errors: one that failed on its own before one that only
// saw the other go (PeerGone). Returns when neither failed.
void rethrow_cause(std::exception_ptr (&errors)[2]);
}  // namespace detail

// In-process references (Family::kInProcess): both endpoints are threads of one process. The
// Traits class provides info, max_message, check, a `Shared` (the queues of both directions,
// constructed from the ChannelOptions) and a Channel(Shared&, Role, const ChannelOptions&) whose
// destructor marks its side closed, so that the other thread's pending or next wait ends with
// PeerGone (after draining what was sent) instead of hanging.
//
// prepare() creates nothing outside the process (spec is a name for the process-local table
// that open() uses in tests); in a run, one peer process of role AB calls run_peer().
template <class Traits>
class InProcessBackendOf final : public BackendBase<Traits> {
 public:
  using Ch = typename Traits::Channel;
  using Shared = typename Traits::Shared;
  using BackendBase<Traits>::resolve;

  Endpoints prepare(const ChannelOptions&) override {
    Endpoints ep;
    ep.spec = make_object_name();
    return ep;
  }
  void cleanup(Endpoints& ep) noexcept override {
    std::lock_guard lock(table_mutex_);
    table_.erase(ep.spec);
  }

  PeerOutcome run_peer(const PeerJob& job, PeerOutcome* out_b) override {
    if (job.peer != PeerRole::kAB || out_b == nullptr) {
      throw std::logic_error(
          fmt::format("{}: an in-process backend runs both endpoints in one peer (role AB)",
                      this->info().name));
    }
    const ChannelOptions o = resolve(job.options);
    // On the heap: Shared holds the queues, which may be far larger than a thread's stack.
    auto shared = std::make_unique<Shared>(o);
    // Phase 1: both channels are open; A then reports READY and waits for GO; phase 2: go.
    std::barrier sync(2);
    std::exception_ptr error[2];
    PeerOutcome out_a;
    auto body = [&](Role role, int cpu, PeerOutcome& out, int idx) {
      int passed = 0;
      try {
        pin_this_thread(cpu);
        Ch ch(*shared, role, o);
        PeerJob j = job;
        j.role = role;
        j.ready = [&] {
          sync.arrive_and_wait();
          ++passed;
          if (idx == 0 && job.ready) job.ready();
          sync.arrive_and_wait();
          ++passed;
        };
        out = run_workload(ch, j);
      } catch (...) {
        error[idx] = std::current_exception();
        if (passed < 2) sync.arrive_and_drop();  // never leave the other thread at the barrier
      }
    };
    std::thread tb([&] { body(Role::kB, job.cpu_b, *out_b, 1); });
    body(Role::kA, job.cpu_a, out_a, 0);
    tb.join();
    detail::rethrow_cause(error);
    return out_a;
  }

  std::unique_ptr<AnyChannel> open(std::string_view spec, Role role,
                                   const ChannelOptions& opt) override {
    const ChannelOptions o = resolve(opt);
    std::shared_ptr<Shared> sh;
    {
      std::lock_guard lock(table_mutex_);
      auto& slot = table_[std::string(spec)];
      if (!slot) slot = std::make_shared<Shared>(o);
      sh = slot;
    }
    return std::make_unique<Opened>(std::move(sh), role, o);
  }

 private:
  class Opened final : public AnyChannel {
   public:
    Opened(std::shared_ptr<Shared> sh, Role role, const ChannelOptions& o)
        : shared_(std::move(sh)), ch_(*shared_, role, o) {}
    void send(std::span<const std::byte> msg) override { ch_.send(msg); }
    size_t recv(std::span<std::byte> buf) override { return ch_.recv(buf); }

   private:
    std::shared_ptr<Shared> shared_;  // declared first: outlives the channel
    Ch ch_;
  };

  std::mutex table_mutex_;
  std::map<std::string, std::shared_ptr<Shared>, std::less<>> table_;
};

// The registry's entry for a backend's Traits: a cross-process or an in-process backend.
template <class Traits>
RegistryEntry entry() {
  if constexpr (requires { typename Traits::Shared; }) {
    return {Traits::info().name, []() -> std::unique_ptr<Backend> {
              return std::make_unique<InProcessBackendOf<Traits>>();
            }};
  } else {
    return {Traits::info().name,
            []() -> std::unique_ptr<Backend> { return std::make_unique<BackendOf<Traits>>(); }};
  }
}

}  // namespace ipcperf
