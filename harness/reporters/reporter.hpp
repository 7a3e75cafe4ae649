// Reporters format a RunResult (already summarised); they compute nothing new.
#pragma once

#include <cstddef>
#include <iosfwd>

#include <nlohmann/json.hpp>

#include "results.hpp"

namespace ipcperf {

// Google Benchmark's JSON schema: {"context": {...}, "benchmarks": [...]}.
nlohmann::json to_json(const RunResult& r);
void write_json(const RunResult& r, std::ostream& os);

// Google Benchmark's CSV columns first, then ipcperf's.
void write_csv(const RunResult& r, std::ostream& os);

struct TableOptions {
  bool color = false;      // ANSI colours (a TTY only)
  bool wide = false;       // every column, however wide the lines get
  size_t max_width = 100;  // else: the default columns, dropping the least needed beyond this
};

// The terminal table with human units, and the notes under it.
void write_table(const RunResult& r, std::ostream& os, const TableOptions& opt = {});

}  // namespace ipcperf
