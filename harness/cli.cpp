#include "cli.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <span>

#include <sched.h>

#include <fmt/format.h>

#include "ipcperf/sys.hpp"

namespace ipcperf {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Parses the leading unsigned integer; returns the rest.
std::optional<uint64_t> leading_uint(std::string_view s, std::string_view& rest) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  rest = s.substr(static_cast<size_t>(p - s.data()));
  return v;
}

}  // namespace

namespace {

struct Suffix {
  std::string_view text;
  uint64_t factor;
};

// A whole number with one of `suffixes` (or none), at most `limit` in all; else a UsageError
// "<option>: '<s>' is not <what>: <hint>".
uint64_t number_with_suffix(std::string_view s, std::span<const Suffix> suffixes, uint64_t limit,
                            std::string_view option, std::string_view what, std::string_view hint) {
  s = trim(s);
  std::string_view rest;
  auto v = leading_uint(s, rest);
  uint64_t mult = 1;
  if (!rest.empty()) {
    mult = 0;
    for (const Suffix& x : suffixes) mult = rest == x.text ? x.factor : mult;
  }
  if (!v || mult == 0 || *v > limit / mult) {
    throw UsageError(fmt::format("{}: '{}' is not {}: {}", option, s, what, hint));
  }
  return *v * mult;
}

}  // namespace

size_t parse_size(std::string_view s, std::string_view option) {
  static constexpr Suffix kBinary[] = {{"K", 1024},       {"k", 1024},       {"KiB", 1024},
                                       {"M", 1U << 20},   {"m", 1U << 20},   {"MiB", 1U << 20},
                                       {"G", 1ULL << 30}, {"g", 1ULL << 30}, {"GiB", 1ULL << 30}};
  return static_cast<size_t>(number_with_suffix(
      s, kBinary, uint64_t{1} << 40, option, "a size",
      "use bytes with an optional K, M or G suffix (powers of 1024), e.g. 64, 4K, 1M"));
}

uint64_t parse_count(std::string_view s, std::string_view option) {
  static constexpr Suffix kDecimal[] = {{"k", 1000}, {"K", 1000}, {"M", 1000000}, {"m", 1000000}};
  return number_with_suffix(
      s, kDecimal, uint64_t{1} << 50, option, "a count",
      "use a whole number with an optional k or M suffix (powers of 1000), e.g. 100000, 100k, 2M");
}

void require_min_size(const std::vector<size_t>& sizes, size_t min, std::string_view what,
                      std::string_view why) {
  for (size_t s : sizes) {
    if (s < min) {
      throw UsageError(fmt::format("--sizes: {} bytes is too small{}: the minimum is {} bytes ({})",
                                   s, what, min, why));
    }
  }
}

int64_t parse_duration_ns(std::string_view s, std::string_view option) {
  s = trim(s);
  const std::string str(s);
  char* end = nullptr;
  const double v = std::strtod(str.c_str(), &end);
  const std::string_view unit =
      (end != nullptr && end != str.c_str()) ? std::string_view(end) : "?";
  double mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1e9;
  else if (unit == "ms")
    mult = 1e6;
  else if (unit == "us" || unit == "µs")
    mult = 1e3;
  else if (unit == "ns")
    mult = 1;
  else if (unit == "m" || unit == "min")
    mult = 60e9;
  if (mult == 0 || !std::isfinite(v) || v < 0 || v * mult > 3.6e12) {
    throw UsageError(
        fmt::format("{}: '{}' is not a duration: use a number with an optional unit "
                    "s, ms, us, ns or min (a bare number is seconds), e.g. 2, 500ms",
                    option, s));
  }
  return static_cast<int64_t>(std::llround(v * mult));
}

std::vector<std::string> split_list(std::string_view s, std::string_view option) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    std::string_view item =
        trim(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (item.empty()) {
      throw UsageError(
          fmt::format("{}: '{}' has an empty item: give a comma-separated list, "
                      "e.g. a,b,c",
                      option, s));
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Placement::to_string() const {
  return pinned ? fmt::format("{},{}", cpu_a, cpu_b) : "none";
}

Placement default_cpus() {
  auto cpus = allowed_cpus();
  Placement p;
  if (cpus.empty()) {
    p.pinned = false;
    return p;
  }
  p.cpu_a = cpus[0];
  p.cpu_b = cpus.size() > 1 ? cpus[1] : cpus[0];
  return p;
}

Placement parse_cpus(std::string_view s) {
  s = trim(s);
  Placement p;
  if (s == "none") {
    p.pinned = false;
    return p;
  }
  auto items = split_list(s, "--cpus");
  const auto allowed = allowed_cpus();
  std::string allowed_str;
  for (int c : allowed) allowed_str += (allowed_str.empty() ? "" : ",") + std::to_string(c);
  if (items.size() != 2) {
    throw UsageError(
        fmt::format("--cpus: '{}' must be two CPUs A,B (e.g. 0,1; 0,0 for one core) "
                    "or 'none'",
                    s));
  }
  int v[2];
  for (int i = 0; i < 2; ++i) {
    std::string_view rest;
    auto n = leading_uint(items[static_cast<size_t>(i)], rest);
    if (!n || !rest.empty() || *n >= CPU_SETSIZE) {
      throw UsageError(
          fmt::format("--cpus: '{}' is not a CPU number (this process may use CPUs {})",
                      items[static_cast<size_t>(i)], allowed_str));
    }
    v[i] = static_cast<int>(*n);
    bool ok = false;
    for (int c : allowed) ok = ok || c == v[i];
    if (!ok) {
      throw UsageError(fmt::format("--cpus: CPU {} is not available (this process may use CPUs {})",
                                   v[i], allowed_str));
    }
  }
  p.cpu_a = v[0];
  p.cpu_b = v[1];
  return p;
}

}  // namespace ipcperf
