// Compiled like a file of backends/ (the include directories of ipcperf_backends only): it
// includes a harness header, which must not be found. tests/CMakeLists.txt expects this build
// to fail; if it ever succeeds, the lower layer can see the upper one again.
#include "ipcperf/backend.hpp"
#ifndef IPCPERF_LAYERING_CONTROL
#include "protocol.hpp"  // harness/: must not resolve from backends/
#endif

namespace ipcperf {
// The control build (IPCPERF_LAYERING_CONTROL) compiles: the probe fails for the include alone.
int layering_probe() { return static_cast<int>(sizeof(BackendInfo)); }
}  // namespace ipcperf
