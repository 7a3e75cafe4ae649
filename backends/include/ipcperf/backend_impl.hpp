// Glue that turns a backend's Traits into a Backend: the run-time choice of backend ends here,
// and run_workload is instantiated for the concrete channel type.
//
// A Traits class provides (docs/adding-a-backend.md has the contract in full):
//   static const BackendInfo& info();
//   static size_t max_message(const ChannelOptions&);  // on this machine
//   static void check(const ChannelOptions&);          // extra checks (may do nothing)
//   static Endpoints prepare(const ChannelOptions&);
//   static void cleanup(Endpoints&) noexcept;
//   class Channel: Channel(std::string_view spec, Role, const ChannelOptions&),
//                  void send(std::span<const std::byte>), size_t recv(std::span<std::byte>)
#pragma once

#include <memory>

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

}  // namespace ipcperf
