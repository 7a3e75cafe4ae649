// The lower layer's shared definitions: enum names, backend options, the common checks, and the
// descriptors a prepare() hands to the peers.
#include "ipcperf/backend.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "ipcperf/names.hpp"

namespace ipcperf {

std::string_view to_string(Role r) { return r == Role::kA ? "A" : "B"; }

namespace {
constexpr Names<Wait, 3> kWaitNames{
    {{Wait::kSpin, "spin"}, {Wait::kYield, "yield"}, {Wait::kBlock, "block"}}};
constexpr Names<Family, 3> kFamilyNames{{{Family::kSharedMemory, "shared memory"},
                                         {Family::kKernel, "kernel"},
                                         {Family::kInProcess, "in-process"}}};
}  // namespace

std::string_view to_string(Wait w) { return name_of(kWaitNames, w); }

Wait parse_wait(std::string_view s) {
  if (const auto w = find_value(kWaitNames, s)) return *w;
  throw UsageError(fmt::format("unknown wait strategy '{}': use spin, yield or block", s));
}

std::string_view to_string(Family f) { return name_of(kFamilyNames, f); }

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

std::string BackendOption::normalize(std::string_view text) const {
  switch (kind) {
    case Kind::kBool:
      if (text == "1" || text == "on" || text == "true") return "1";
      if (text == "0" || text == "off" || text == "false") return "0";
      return "";
  }
  return "";
}

std::string BackendOption::allowed() const {
  switch (kind) {
    case Kind::kBool:
      return default_value == "1" ? "1 (default) or 0" : "0 (default) or 1";
  }
  return "";
}

std::string_view ChannelOptions::param(const BackendOption& o) const {
  const auto it = params.find(o.flag);
  return it == params.end() ? o.default_value : std::string_view(it->second);
}

void check_common(const BackendInfo& info, const ChannelOptions& opt, size_t max_message) {
  if (!info.waits.has(opt.wait)) {
    throw UsageError(fmt::format("{}: wait strategy {} is not supported (supported: {})", info.name,
                                 to_string(opt.wait), info.waits.to_string()));
  }
  if (opt.max_message != 0 && opt.max_message > max_message) {
    throw UsageError(
        fmt::format("{}: message size {} exceeds the maximum of {} bytes with capacity {}",
                    info.name, opt.max_message, max_message, opt.capacity));
  }
}

void parse_spec_ints(std::string_view backend, std::string_view spec, std::span<int> out) {
  const auto bad = [&] {
    throw std::runtime_error(fmt::format("{}: bad channel spec '{}'", backend, spec));
  };
  const char* p = spec.data();
  const char* const end = p + spec.size();
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) {
      if (p == end || *p != ',') bad();
      ++p;
    }
    const auto [next, ec] = std::from_chars(p, end, out[i]);
    if (ec != std::errc{}) bad();
    p = next;
  }
  if (p != end && *p != ',') bad();
}

}  // namespace ipcperf
