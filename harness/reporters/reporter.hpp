// Reporters format a RunResult (already summarised); they compute nothing new.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "results.hpp"

namespace ipcperf {

// Google Benchmark's JSON schema: {"context": {...}, "benchmarks": [...]}.
nlohmann::json to_json(const RunResult& r);
void write_json(const RunResult& r, std::ostream& os);

// Google Benchmark's CSV columns first, then ipcperf's.
void write_csv(const RunResult& r, std::ostream& os);

// The terminal table with human units, and the notes under it. `color`: ANSI colours (TTY only).
void write_table(const RunResult& r, std::ostream& os, bool color);

}  // namespace ipcperf
