// Enum <-> name tables: one constexpr table per enum, read both ways, so that a name is written
// once (backend.cpp's waits and families, the peer protocol's workloads, roles and messages).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace ipcperf {

template <class E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

// The name of `e`, "?" for a value the table lacks (a cast from a bad integer).
template <class E, size_t N>
constexpr std::string_view name_of(const Names<E, N>& names, E e) {
  for (const auto& [v, n] : names) {
    if (v == e) return n;
  }
  return "?";
}

template <class E, size_t N>
constexpr std::optional<E> find_value(const Names<E, N>& names, std::string_view s) {
  for (const auto& [v, n] : names) {
    if (n == s) return v;
  }
  return std::nullopt;
}

}  // namespace ipcperf
