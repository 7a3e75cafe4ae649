// The floor registry: one line per floor, in display order.
#include <fmt/format.h>

#include "floors/floor.hpp"

namespace ipcperf {

const Floor& cacheline_floor();
const Floor& memcpy_floor();

std::span<const Floor* const> floors() {
  static const Floor* const list[] = {&cacheline_floor(), &memcpy_floor()};
  return list;
}

const Floor* find_floor(std::string_view part) {
  for (const Floor* f : floors()) {
    if (f->part() == part) return f;
  }
  return nullptr;
}

PeerOutcome Floor::run_peer(const PeerJob&) const {
  throw std::logic_error(fmt::format("floor/{} has no peer side", info().name));
}

std::string Floor::part() const { return fmt::format("floor-{}", info().name); }

PlannedCase Floor::row(size_t size, bool sized) const {
  PlannedCase c;
  c.floor = this;
  c.part = part();
  c.spec.name = sized ? fmt::format("floor/{}/size:{}", info().name, size)
                      : fmt::format("floor/{}", info().name);
  c.spec.kind = part();
  c.spec.family = kFloorFamily;
  c.spec.size = size;
  return c;
}

}  // namespace ipcperf
