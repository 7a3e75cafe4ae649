// What an exception of type E thrown by f() says: "" when f() returns without throwing one.
#pragma once

#include <string>

namespace ipcperf::testing_support {

template <class E, class F>
std::string error_text(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace ipcperf::testing_support
