// Limit messages say where a limit comes from and what the user can do: here the System V
// msg_qbytes limit (kernel.msgmnb), which binds only without CAP_SYS_RESOURCE. The check runs in
// a forked child that drops that capability from its effective set (root in CI has it).
#include <cstdio>
#include <string>

#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipcperf/backends/sysv_mq.hpp"
#include "ipcperf/limits.hpp"
#include "ipcperf/sys.hpp"

namespace ipcperf {
namespace {
using backends::sysv_mq::msgmnb;
using backends::sysv_mq::SysvMq;

// Clears CAP_SYS_RESOURCE from this process's effective set; false when it could not.
bool drop_sys_resource() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (::syscall(SYS_capget, &h, d) != 0) return false;
  d[CAP_SYS_RESOURCE / 32].effective &= ~(1U << (CAP_SYS_RESOURCE % 32));
  return ::syscall(SYS_capset, &h, d) == 0 && !has_capability(CAP_SYS_RESOURCE);
}

// The message SysvMq::check gives in a child without CAP_SYS_RESOURCE, "" when it accepts.
std::string check_message_without_cap(size_t capacity) {
  int p[2];
  if (::pipe(p) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    std::string out;
    if (!drop_sys_resource()) {
      out = "could not drop CAP_SYS_RESOURCE";
    } else {
      ChannelOptions o;
      o.capacity = capacity;
      o.wait = Wait::kBlock;
      o.max_message = 64;
      try {
        SysvMq::check(o);
      } catch (const UsageError& e) {
        out = e.what();
      } catch (const std::exception& e) {
        out = std::string("other exception: ") + e.what();
      }
    }
    (void)!::write(p[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

TEST(LimitMessages, SysvCapacityAboveMsgmnbSaysTheLimitAndWhatFits) {
  const long long mnb = msgmnb();
  const std::string m = check_message_without_cap(static_cast<size_t>(mnb) + 1);
  ASSERT_NE(m.find("exceeds the msg_qbytes allowed here"), std::string::npos) << m;
  EXPECT_NE(m.find("give --capacity " + std::to_string(mnb) + " or less"), std::string::npos) << m;
  EXPECT_NE(m.find("kernel.msgmnb=" + std::to_string(mnb + 1)), std::string::npos) << m;
  // The user asked for this capacity: it is not called the default (unless it happens to be).
  if (static_cast<size_t>(mnb) + 1 != SysvMq::info().default_capacity) {
    EXPECT_EQ(m.find("default"), std::string::npos) << m;
  }
}

TEST(LimitMessages, SysvDefaultCapacityIsCalledTheDefaultWhenItDoesNotFit) {
  const size_t def = SysvMq::info().default_capacity;
  const std::string m = check_message_without_cap(def);
  if (static_cast<long long>(def) <= msgmnb()) {
    EXPECT_EQ(m, "") << "the default fits this machine's msgmnb and must be accepted";
  } else {
    EXPECT_NE(m.find("(sysv-mq's default)"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace ipcperf
