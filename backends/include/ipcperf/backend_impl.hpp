// Glue that turns a backend's Traits into a Backend: the run-time choice of backend ends here,
// and run_workload is instantiated for the concrete channel type.
//
// A Traits class provides (docs/adding-a-backend.md has the contract in full):
//   static const BackendInfo& info();
//   static size_t max_message(const ChannelOptions&);  // on this machine
//   static void check(const ChannelOptions&);          // extra checks (may do nothing)
//   static void check_size(const ChannelOptions&);     // optional: refuses max_message above
//                                                      // max_message() saying why (sysctl...)
//   static Endpoints prepare(const ChannelOptions&);
//   static void cleanup(Endpoints&) noexcept;
//   class Channel: Channel(std::string_view spec, Role, const ChannelOptions&),
//                  void send(std::span<const std::byte>), size_t recv(std::span<std::byte>)
#pragma once

#include <barrier>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include <fmt/format.h>

#include "ipcperf/backend.hpp"
#include "workloads/workloads.hpp"

namespace ipcperf {

template <class Ch>
class AnyChannelOf final : public AnyChannel {
 public:
  AnyChannelOf(std::string_view spec, Role role, const ChannelOptions& opt)
      : ch_(spec, role, opt) {}
  void send(std::span<const std::byte> msg) override { ch_.send(msg); }
  size_t recv(std::span<std::byte> buf) override { return ch_.recv(buf); }

 private:
  Ch ch_;
};

template <class Traits>
class BackendOf final : public Backend {
 public:
  using Ch = typename Traits::Channel;
  [[nodiscard]] const BackendInfo& info() const override { return Traits::info(); }
  [[nodiscard]] size_t max_message_size(const ChannelOptions& opt) const override {
    return Traits::max_message(resolve(opt));
  }
  void check(const ChannelOptions& opt) const override {
    // Optional: a backend whose size limit comes from a sysctl or a buffer refuses an oversize
    // message itself first, naming where the limit comes from; the generic check is the backstop.
    if constexpr (requires(const ChannelOptions& o) { Traits::check_size(o); }) {
      if (opt.max_message != 0) Traits::check_size(resolve(opt));
    }
    Backend::check(opt);
    Traits::check(resolve(opt));
  }
  Endpoints prepare(const ChannelOptions& opt) override { return Traits::prepare(resolve(opt)); }
  void cleanup(Endpoints& ep) noexcept override { Traits::cleanup(ep); }
  PeerOutcome run_peer(const PeerJob& job) override {
    Ch ch(job.spec, job.role, resolve(job.options));
    return run_workload(ch, job);
  }
  std::unique_ptr<AnyChannel> open(std::string_view spec, Role role,
                                   const ChannelOptions& opt) override {
    return std::make_unique<AnyChannelOf<Ch>>(spec, role, resolve(opt));
  }
};

// In-process references (Family::kInProcess): both endpoints are threads of one process.
//
// A Traits class provides:
//   static const BackendInfo& info();                  // family Family::kInProcess
//   static size_t max_message(const ChannelOptions&);
//   static void check(const ChannelOptions&);
//   class Shared: explicit Shared(const ChannelOptions&)  // the queues of both directions
//   class Channel: Channel(Shared&, Role, const ChannelOptions&), send, recv as above;
//                  its destructor marks its side closed, so that the other thread's pending or
//                  next wait ends with PeerGone (after draining what was sent) instead of hanging.
//
// prepare() creates nothing outside the process (spec is a name for the process-local table
// that open() uses in tests); in a run, one peer process calls run_threads().
namespace detail {
void pin_this_thread(int cpu);  // -1: leave as is; throws SystemError
}

template <class Traits>
class InProcessBackendOf final : public Backend {
 public:
  using Ch = typename Traits::Channel;
  using Shared = typename Traits::Shared;

  [[nodiscard]] const BackendInfo& info() const override { return Traits::info(); }
  [[nodiscard]] size_t max_message_size(const ChannelOptions& opt) const override {
    return Traits::max_message(resolve(opt));
  }
  void check(const ChannelOptions& opt) const override {
    Backend::check(opt);
    Traits::check(resolve(opt));
  }
  Endpoints prepare(const ChannelOptions&) override {
    Endpoints ep;
    ep.spec = make_object_name();
    return ep;
  }
  void cleanup(Endpoints& ep) noexcept override {
    std::lock_guard lock(table_mutex_);
    table_.erase(ep.spec);
  }
  PeerOutcome run_peer(const PeerJob&) override {
    throw std::logic_error(
        fmt::format("{}: an in-process backend runs both endpoints in one peer", info().name));
  }

  void run_threads(const PeerJob& a, const PeerJob& b, int cpu_a, int cpu_b, PeerOutcome& out_a,
                   PeerOutcome& out_b) override {
    // On the heap: Shared holds the queues, which may be far larger than a thread's stack.
    auto shared_ptr = std::make_unique<Shared>(resolve(a.options));
    Shared& shared = *shared_ptr;
    // Phase 1: both channels are open; A then reports READY and waits for GO; phase 2: go.
    std::barrier sync(2);
    std::exception_ptr error[2];
    auto body = [&](const PeerJob& job, int cpu, PeerOutcome& out, int idx) {
      int passed = 0;
      try {
        detail::pin_this_thread(cpu);
        Ch ch(shared, job.role, resolve(job.options));
        PeerJob j = job;
        j.ready = [&] {
          sync.arrive_and_wait();
          ++passed;
          if (idx == 0 && a.ready) a.ready();
          sync.arrive_and_wait();
          ++passed;
        };
        out = run_workload(ch, j);
      } catch (...) {
        error[idx] = std::current_exception();
        if (passed < 2) sync.arrive_and_drop();  // never leave the other thread at the barrier
      }
    };
    std::thread tb([&] { body(b, cpu_b, out_b, 1); });
    body(a, cpu_a, out_a, 0);
    tb.join();
    // The cause, not the thread that only saw the other go.
    for (bool want_gone : {false, true}) {
      for (auto& e : error) {
        if (!e) continue;
        bool gone = false;
        try {
          std::rethrow_exception(e);
        } catch (const PeerGone&) {
          gone = true;
        } catch (...) {
        }
        if (gone == want_gone) std::rethrow_exception(e);
      }
    }
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

}  // namespace ipcperf
