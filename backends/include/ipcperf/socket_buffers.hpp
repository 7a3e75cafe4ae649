// Socket buffer sizing shared by the socket backends (uds-stream, uds-seqpacket, tcp): --capacity
// becomes SO_SNDBUF (and SO_RCVBUF where the protocol uses it for flow control).
//
// What the kernel does with the value (net/core/sock.c, sk_setsockopt): it clamps it to
// net.core.wmem_max (rmem_max for SO_RCVBUF) unless the caller has CAP_NET_ADMIN and uses
// SO_SNDBUFFORCE / SO_RCVBUFFORCE, then doubles it (the second half pays for the sk_buff
// bookkeeping: every queued skb is charged its truesize, not its payload). getsockopt returns the
// doubled value. We never let it clamp silently: check_socket_capacity() refuses what cannot be
// honoured, set_socket_buffer() verifies that the kernel took exactly 2 * capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ipcperf {

enum class SockBuf : uint8_t { kSend, kRecv };

inline constexpr size_t kMinSocketCapacity = 4096;

// net.core.wmem_default / 2: asking for this leaves the socket exactly at the kernel's default
// send buffer (212992 bytes on a stock kernel), which is the socket backends' default capacity.
size_t default_socket_capacity();

// The sysctl limit for this buffer (net.core.wmem_max / rmem_max), in bytes.
size_t socket_buffer_limit(SockBuf which);

// Whether this process may exceed the sysctl limits (CAP_NET_ADMIN in its effective set).
bool has_cap_net_admin();

// Throws UsageError naming the backend, the value and the limit (and the sysctl that sets it)
// unless `capacity` can be honoured for the send buffer and, with recv_too, the receive buffer.
void check_socket_capacity(std::string_view backend, size_t capacity, bool recv_too);

// Sets the buffer to `capacity` (SO_*BUFFORCE only where the sysctl limit is below it) and checks
// that the kernel now reports 2 * capacity. Returns the reported size. Throws SystemError or
// std::runtime_error.
int set_socket_buffer(int fd, SockBuf which, size_t capacity, std::string_view what);

// The buffer size the kernel reports (getsockopt SO_SNDBUF / SO_RCVBUF).
int socket_buffer(int fd, SockBuf which);

}  // namespace ipcperf
