// What the backend tests share: test messages, the (backend, wait) instances of a suite, and
// endpoint B in a forked child.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "ipcperf/message.hpp"
#include "registry.hpp"

namespace ipcperf::testing_support {

// A valid message: header and the payload pattern of `seq`.
inline std::vector<std::byte> message(uint64_t seq, size_t size, uint32_t flags = 0) {
  std::vector<std::byte> m(size);
  fill_message(m, seq, flags);
  return m;
}

// One instance per registered backend (of `family`, or all) and wait strategy it supports.
inline std::vector<std::tuple<std::string, Wait>> backend_waits(
    std::optional<Family> family = std::nullopt) {
  std::vector<std::tuple<std::string, Wait>> out;
  for (const auto& name : backend_names()) {
    const BackendInfo& info = make_backend(name)->info();
    if (family && info.family != *family) continue;
    for (Wait w : {Wait::kSpin, Wait::kYield, Wait::kBlock}) {
      if (info.waits.has(w)) out.emplace_back(name, w);
    }
  }
  return out;
}

// A gtest instance name for (backend, wait): "shm_spsc_spin".
inline std::string instance_name(std::string backend, Wait wait) {
  for (char& c : backend) {
    if (c == '-') c = '_';
  }
  return fmt::format("{}_{}", backend, to_string(wait));
}
// For INSTANTIATE_TEST_SUITE_P over backend_waits().
struct BackendWaitName {
  template <class Info>
  std::string operator()(const Info& info) const {
    return instance_name(std::get<0>(info.param), std::get<1>(info.param));
  }
};

// Forks endpoint B: it keeps B's descriptors, opens B's end and exits with what `b` returns
// (100 and a line on stderr when it throws). In the parent, keeps A's descriptors and returns
// the child's pid.
inline pid_t fork_endpoint_b(Backend& backend, Endpoints& ep, const ChannelOptions& opt,
                             const std::function<int(AnyChannel&)>& b) {
  const pid_t child = ::fork();
  if (child == 0) {
    int code = 0;
    try {
      ep.keep_only(Role::kB);
      auto ch = backend.open(ep.spec, Role::kB, opt);
      code = b(*ch);
    } catch (const std::exception& e) {
      fmt::print(stderr, "endpoint B: {}\n", e.what());
      code = 100;
    }
    ::_exit(code);
  }
  ep.keep_only(Role::kA);
  return child;
}

}  // namespace ipcperf::testing_support
