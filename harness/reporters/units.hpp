// Numbers for humans: each value with the unit that keeps it readable, three significant digits.
// Non-finite values come back as "—". Implemented in table_reporter.cpp.
#pragma once

#include <string>

namespace ipcperf {

// Nanoseconds in ns, µs, ms or s: "163 ns", "54.2 µs", "1.00 ms", "2.50 s".
std::string format_time_ns(double ns);

// Events per second with a decimal prefix: "12.0/s", "856 k/s", "12.3 M/s", "1.05 G/s".
std::string format_rate(double per_second);

// Bytes per second with a binary prefix: "512 MiB/s", "1.23 GiB/s".
std::string format_bytes_rate(double bytes_per_second);

// A fraction as a percentage with one decimal: 0.012 -> "1.2%".
std::string format_percent(double fraction);

}  // namespace ipcperf
