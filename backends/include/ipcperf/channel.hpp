// The channel contract every backend's Channel class meets, as concepts the workloads test at
// compile time (never virtual calls: the measured loops call the concrete type).
//
//   send(msg)  delivers exactly one whole message; blocks while the buffer towards the peer is
//              full; throws PeerGone when the peer has gone, SystemError on other failures.
//   recv(buf)  returns exactly one whole message (its size); blocks while nothing is there;
//              throws PeerGone when the peer has gone and nothing more will arrive.
// Messages are at most the backend's max_message(options) bytes and at least kMinMessageSize.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

namespace ipcperf {

template <class C>
concept Channel = requires(C c, std::span<const std::byte> in, std::span<std::byte> out) {
  c.send(in);
  { c.recv(out) } -> std::convertible_to<size_t>;
};

// A lossy channel (udp) declares `static constexpr bool kLossy = true;`. Its recv returns 0 when
// no message arrived within its loss timeout while the peer is alive (it throws PeerGone when the
// peer is not). The workloads then count what was lost instead of failing, and still verify
// everything that arrives: sequence numbers only increase (no duplicate, no reordering), size and
// payload exact. Because the last message can itself be lost, a lossy run ends with an END
// message that is re-sent until the receiver acknowledges it.
template <class C>
concept LossyChannel = Channel<C> && requires {
  requires C::kLossy;
};

}  // namespace ipcperf
