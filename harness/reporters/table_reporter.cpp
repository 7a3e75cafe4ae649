// The terminal table: one row per case (medians over repetitions) in units chosen for humans,
// then notes that say what the columns mean, only for what the table shows.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "floors/floor.hpp"
#include "reporters/reporter.hpp"
#include "reporters/units.hpp"
#include "stats/summary.hpp"

namespace ipcperf {
namespace {

constexpr std::string_view kDash = "—";

// Three significant digits; v >= 0. Thresholds sit where rounding would add a fourth digit
// (99.95 prints as "100", not "100.0").
std::string three_digits(double v) {
  if (v == 0) return "0";
  if (v >= 99.95) return fmt::format("{:.0f}", v);
  if (v >= 9.995) return fmt::format("{:.1f}", v);
  if (v >= 0.9995) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

struct Unit {
  double factor;
  std::string_view name;
};

// v in the largest unit it reaches, where "reaches" means it would print as at least 1.00: so
// 999.7 ns is "1.00 µs", never "1000 ns".
std::string scaled(double v, std::span<const Unit> units, std::string_view suffix) {
  if (!std::isfinite(v)) return std::string(kDash);
  const std::string_view sign = v < 0 ? "-" : "";
  v = std::fabs(v);
  size_t i = 0;
  while (i + 1 < units.size() && v >= units[i + 1].factor * 0.9995) ++i;
  // A bare count per second reads "12.0/s", not "12.0 /s".
  const std::string_view space = units[i].name.empty() ? "" : " ";
  return fmt::format("{}{}{}{}{}", sign, three_digits(v / units[i].factor), space, units[i].name,
                     suffix);
}

constexpr std::array<Unit, 4> kTimeUnits{{{1, "ns"}, {1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}}};

// "154–159 ns", "42.6–48.2 µs": both ends in the unit of the larger one.
std::string time_range(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo < 0 || hi < 0) return std::string(kDash);
  size_t i = 0;
  while (i + 1 < kTimeUnits.size() && hi >= kTimeUnits[i + 1].factor * 0.9995) ++i;
  const double f = kTimeUnits[i].factor;
  return fmt::format("{}–{} {}", three_digits(lo / f), three_digits(hi / f), kTimeUnits[i].name);
}
constexpr std::array<Unit, 5> kRateUnits{
    {{1, ""}, {1e3, "k"}, {1e6, "M"}, {1e9, "G"}, {1e12, "T"}}};
constexpr std::array<Unit, 5> kByteUnits{{{1, "B"},
                                          {1024.0, "KiB"},
                                          {1024.0 * 1024, "MiB"},
                                          {1024.0 * 1024 * 1024, "GiB"},
                                          {1024.0 * 1024 * 1024 * 1024, "TiB"}}};

// Terminal columns of UTF-8 text: every code point but a continuation byte counts one, which is
// right for the symbols used here (µ, ±, ×, —) and for ASCII.
size_t display_width(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view s, size_t width, bool right_align) {
  const size_t w = display_width(s);
  const std::string fill(width > w ? width - w : 0, ' ');
  return right_align ? fill + std::string(s) : std::string(s) + fill;
}

constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kYellow = "\033[33m";
constexpr std::string_view kReset = "\033[0m";

std::string paint(std::string_view color, std::string_view text) {
  return fmt::format("{}{}{}", color, text, kReset);
}

enum Column : size_t {
  kName,
  kMedian,
  kCv,
  kCi,
  kMin,
  kMax,
  kMsgRate,
  kByteRate,
  kP50,
  kP99,
  kMaxLat,
  kCpu,
  kFloor,
  kRef,
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kHeaders{
    "benchmark", "median", "±CV", "95% CI",  "min",     "max",    "msg/s",
    "bytes/s",   "p50",    "p99", "max lat", "CPU/msg", "×floor", "×ref"};

// The default table's columns (at most TableOptions::max_width wide), in the order they are
// dropped when the rows' names leave too little room; --wide shows every column. ×ref is there
// only in a run with --reference, which asked for it: it goes last.
constexpr std::array<Column, 8> kDefaultColumns{kName, kMedian, kCv,    kMsgRate,
                                                kP99,  kCpu,    kFloor, kRef};
constexpr std::array<Column, 6> kDropOrder{kCpu, kFloor, kP99, kCv, kMsgRate, kRef};

struct TableRow {
  std::array<std::string, kColumnCount> cells;
  std::string span;  // failed/skipped: the text after the name, instead of cells
  std::string_view color;
  bool noisy = false;  // ±CV above kUnstableCv: the case is flagged unstable
};

// What the rows shown make it necessary to explain.
struct Notes {
  std::set<int> repetitions;
  bool pingpong = false, stream = false, latency = false, cpu = false, floor_ratio = false;
  bool ci = false, no_ci = false;
  std::vector<const Floor*> floors;  // the floors whose rows are shown, in row order
  std::string floor_name;            // the ×floor column's denominator
  std::vector<std::pair<std::string, std::string>> unstable;  // case name, advice
  bool in_process = false, lossy = false, paced = false, rate_not_kept = false;
  bool refused = false;
  std::string sampling;
  std::string reference;           // --reference: the ×ref column's backend
  std::vector<std::string> bases;  // what the ×ref figures divide, once each
};

std::string percentile_cell(const Histogram& h, double p) {
  if (h.count() == 0 || h.count() < min_samples_for(p)) return std::string(kDash);
  return format_time_ns(h.quantile(p));
}

// The floor row that bounds round trips (the ×floor column's denominator), when the run measured
// it.
const CaseResult* bounding_floor(const RunResult& r) {
  for (const auto& c : r.cases) {
    if (c.spec.bounds_round_trips && c.status == CaseStatus::kOk && c.real_ns.n > 0 &&
        c.real_ns.median > 0) {
      return &c;
    }
  }
  return nullptr;
}

// The figures of a measured case.
void fill_cells(const CaseResult& c, const CaseResult* floor, TableRow& row) {
  // A rate or CPU time of zero was not measured for this kind of row (e.g. bytes of the cache-
  // line floor): a blank says that better than "0 B/s".
  auto blank_if_zero = [](double v, std::string text) {
    return v == 0 ? std::string() : std::move(text);
  };
  row.cells[kMedian] = format_time_ns(c.real_ns.median);
  row.cells[kCv] = format_percent(c.real_ns.cv);
  row.cells[kCi] = c.real_ns.has_ci() ? time_range(c.real_ns.ci_low, c.real_ns.ci_high)
                                      : std::string("n too small");
  row.cells[kMin] = format_time_ns(c.real_ns.min);
  row.cells[kMax] = format_time_ns(c.real_ns.max);
  row.cells[kMsgRate] =
      blank_if_zero(c.items_per_second.median, format_rate(c.items_per_second.median));
  row.cells[kByteRate] =
      blank_if_zero(c.bytes_per_second.median, format_bytes_rate(c.bytes_per_second.median));
  row.cells[kP50] = percentile_cell(c.latency, 0.5);
  row.cells[kP99] = percentile_cell(c.latency, 0.99);
  row.cells[kMaxLat] = c.latency.count() > 0 ? format_time_ns(static_cast<double>(c.latency.max()))
                                             : std::string(kDash);
  row.cells[kCpu] = blank_if_zero(c.cpu_ns.median, format_time_ns(c.cpu_ns.median));
  if (c.spec.kind == "pingpong" && floor != nullptr) {
    row.cells[kFloor] = three_digits(c.real_ns.median / floor->real_ns.median) + "×";
  }
  row.noisy = c.unstable;
}

// ×ref: the reference's own rows say so, the others their speedup, or "—" without a number
// (the line under the table says why).
void fill_ref_cell(const CaseResult& c, TableRow& row, Notes& notes) {
  if (notes.reference.empty()) return;
  if (c.spec.backend == notes.reference) {
    row.cells[kRef] = "ref";
    return;
  }
  if (!c.speedup) return;
  const Speedup& s = *c.speedup;
  row.cells[kRef] = s.measured() ? three_digits(s.median) + "×" : std::string(kDash);
  if (!s.basis.empty() &&
      std::find(notes.bases.begin(), notes.bases.end(), s.basis) == notes.bases.end()) {
    notes.bases.push_back(s.basis);
  }
}

// What a measured row makes it necessary to explain under the table.
void note_row(const CaseResult& c, const TableRow& row, Notes& notes) {
  const bool pingpong = c.spec.kind == "pingpong";
  notes.repetitions.insert(c.real_ns.n);
  notes.pingpong |= pingpong;
  notes.stream |= c.spec.kind == "stream";
  notes.cpu |= !row.cells[kCpu].empty();
  notes.floor_ratio |= !row.cells[kFloor].empty();
  if (c.unstable) notes.unstable.emplace_back(c.spec.name, c.advice);
  notes.ci |= c.real_ns.has_ci();
  notes.no_ci |= !c.real_ns.has_ci();
  if (const Floor* f = find_floor(c.spec.kind);
      f != nullptr &&
      std::find(notes.floors.begin(), notes.floors.end(), f) == notes.floors.end()) {
    notes.floors.push_back(f);
  }
  if (c.latency.count() > 0) {
    notes.latency = true;
    // Each way the rows shown were sampled, once (automatic sampling differs between rows).
    if (pingpong && !c.sampling.empty() && notes.sampling.find(c.sampling) == std::string::npos) {
      notes.sampling += (notes.sampling.empty() ? "" : "; ") + c.sampling;
    }
  }
}

TableRow make_row(const CaseResult& c, const CaseResult* floor, Notes& notes) {
  TableRow row;
  row.cells[kName] = c.spec.name;
  if (c.spec.in_process) {
    row.cells[kName] += " (in-process)";
    notes.in_process = true;
  }
  if (c.status != CaseStatus::kOk || c.real_ns.n == 0) {
    const bool failed = c.status == CaseStatus::kFailed;
    row.span = failed                             ? "FAILED: " + c.message
               : c.status == CaseStatus::kSkipped ? "skipped: " + c.message
                                                  : std::string("no measurement");
    row.color = failed ? kRed : kYellow;
    return row;
  }
  fill_cells(c, floor, row);
  fill_ref_cell(c, row, notes);
  if (c.spec.lossy) {
    row.cells[kName] += fmt::format(" {} lost", format_percent(c.loss_fraction()));
    notes.lossy = true;
  }
  if (c.refused != 0) {
    row.cells[kName] += fmt::format(" {} refused", c.refused);
    row.color = kYellow;
    notes.refused = true;
  }
  if (c.spec.rate != 0) {
    notes.paced = true;
    if (c.rate_not_kept()) {
      row.cells[kName] += fmt::format(" rate not kept ({})", format_rate(c.achieved_rate_min));
      row.color = kYellow;
      notes.rate_not_kept = true;
    }
  }
  note_row(c, row, notes);
  return row;
}

// Which columns the table shows.
using Shown = std::array<bool, kColumnCount>;

void write_column_notes(const Notes& n, const Shown& shown, std::ostream& os) {
  const std::string reps = n.repetitions.size() == 1 ? fmt::format("{}", *n.repetitions.begin())
                                                     : fmt::format("{}–{}", *n.repetitions.begin(),
                                                                   *n.repetitions.rbegin());
  os << fmt::format("  median: median of per-repetition values over {} repetitions{}{}\n", reps,
                    shown[kCv] ? "; ±CV: their coefficient of variation" : "",
                    shown[kMin] ? "; min, max: the extremes" : "");
  if (shown[kCi] && (n.ci || n.no_ci)) {
    os << fmt::format(
        "  95% CI: distribution-free 95% confidence interval of the median, the order statistics "
        "x(l)..x(n+1-l) of the repetitions (binomial rule){}\n",
        n.no_ci ? fmt::format("; 'n too small' below {} repetitions", kMinRepsForMedianCi) : "");
  }
  if (n.pingpong) {
    os << "  pingpong: times are round trips (one-way latency ≈ RTT/2); msg/s counts round trips\n";
  }
  if (n.stream) {
    os << "  stream: rate measured at the receiver, from its first to its last message\n";
  }
  std::string percentiles;
  for (const Column c : {kP50, kP99, kMaxLat}) {
    if (shown[c]) percentiles += fmt::format("{}{}", percentiles.empty() ? "" : ", ", kHeaders[c]);
  }
  if (n.latency && !percentiles.empty()) {
    const std::string sampling = n.sampling.empty() ? "" : fmt::format(" ({})", n.sampling);
    os << fmt::format(
        "  {}: latency {} of sampled round trips{} (paced: of every message, one-way), "
        "merged over repetitions; '—' where fewer than 10/(1-p) samples\n",
        percentiles, percentiles.find(',') == std::string::npos ? "percentile" : "percentiles",
        sampling);
  }
  if (shown[kCpu] && n.cpu) os << "  CPU/msg: user+system CPU time of both peers per message\n";
  if (shown[kFloor] && n.floor_ratio) {
    os << fmt::format("  ×floor: ratio to the {} round trip of this run\n", n.floor_name);
  }
  for (const Floor* f : n.floors) {
    os << fmt::format("  floor/{}: {}\n", f->info().name, f->info().summary);
  }
  if (shown[kRef] && !n.reference.empty()) {
    os << fmt::format(
        "  ×ref: speedup over {} (>1: faster), the median of the ratios of repetitions that ran "
        "in the same round{}; its 95% CI is in the lines below\n",
        n.reference, n.bases.empty() ? "" : fmt::format(" ({})", fmt::join(n.bases, "; ")));
  }
}

// A self-check run (--inject-delay/--inject-stall) says so first: its rows are not measurements
// of the backends.
void write_injected_note(const nlohmann::json& context, std::ostream& os) {
  const auto it = context.find("injected_faults");
  if (it == context.end() || !it->is_object()) return;
  const double delay = it->value("delay_ns", 0.0), stall = it->value("stall_ns", 0.0);
  if (delay <= 0 && stall <= 0) return;
  std::string what;
  if (delay > 0) what = fmt::format("waits {} per message", format_time_ns(delay));
  if (stall > 0) {
    what += fmt::format("{}stalls once for {}", what.empty() ? "" : " and ", format_time_ns(stall));
  }
  os << fmt::format(
      "  INJECTED FAULTS: the receiver {}: a self-check of the measurement, not the backends' "
      "performance\n",
      what);
}

void write_row_notes(const Notes& n, std::ostream& os) {
  if (n.paced) {
    os << "  paced: open loop at the offered rate; the times are each repetition's mean one-way "
          "latency, the percentiles the one-way latency of every message from its intended send "
          "time (RTT/2 does not apply); msg/s is the delivered rate\n";
  }
  if (n.rate_not_kept) {
    os << "  rate not kept: the sender achieved less than 95% of the offered rate (slowest "
          "repetition shown); its latencies include the backlog\n";
  }
  if (n.in_process) {
    os << "  (in-process): both endpoints are threads of one process, a reference for the "
          "cross-process rows\n";
  }
  if (n.refused) {
    os << "  N refused: connections to the case's port from processes that did not present the "
          "case's token (another local user or program); each was closed unheard and the peers' "
          "connection measured as usual\n";
  }
  if (n.lossy) {
    os << "  N% lost: messages (stream) or round trips (pingpong) that never arrived, over all "
          "repetitions; rates count delivered messages only\n";
  }
}

void write_unstable_notes(const Notes& n, std::ostream& os) {
  if (n.unstable.empty()) return;
  os << fmt::format(
      "  unstable (±CV above {:.0f}%): the repetitions disagree. Suggested --reps = "
      "n·(h/{:.0f}%)², h the median's 95% CI half-width relative to the median: the CI narrows "
      "as 1/√n\n",
      100 * kUnstableCv, 100 * kTargetCiHalfWidth);
  // A noisy machine makes every row unstable: then the rows repeat one advice, so list a few
  // and say where the rest is, rather than bury the table under them.
  constexpr size_t kShown = 6;
  size_t shown = 0;
  for (const auto& [name, advice] : n.unstable) {
    if (shown++ == kShown) break;
    os << fmt::format("  ! {}: {}\n", name, advice);
  }
  if (n.unstable.size() > kShown) {
    os << fmt::format(
        "  ! … and {} more unstable rows (each row's advice is in the JSON: \"advice\"); when "
        "most rows are unstable, the machine is the problem: docs/reducing-variance.md\n",
        n.unstable.size() - kShown);
  }
}

void write_hidden_note(const Shown& shown, bool reference, size_t max_width, std::ostream& os) {
  std::string hidden;
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (i == kRef && !reference) continue;  // no --reference: not a column of this run
    if (!shown[i]) hidden += fmt::format("{}{}", hidden.empty() ? "" : ", ", kHeaders[i]);
  }
  if (hidden.empty()) return;
  os << fmt::format("  not shown, to fit {} columns: {} (--wide shows every column)\n", max_width,
                    hidden);
}

using Widths = std::array<size_t, kColumnCount>;

Widths column_widths(const std::vector<TableRow>& rows) {
  Widths width{};
  for (size_t i = 0; i < kColumnCount; ++i) width[i] = display_width(kHeaders[i]);
  for (const auto& row : rows) {
    width[kName] = std::max(width[kName], display_width(row.cells[kName]));
    if (!row.span.empty()) continue;  // a span does not size the columns it covers
    for (size_t i = 1; i < kColumnCount; ++i)
      width[i] = std::max(width[i], display_width(row.cells[i]));
  }
  return width;
}

constexpr std::string_view kGap = "  ";

size_t line_width(const Widths& width, const Shown& shown) {
  size_t total = 0;
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (shown[i]) total += width[i] + (i > 0 ? kGap.size() : 0);
  }
  return total;
}

// --wide: every column. Else the default columns, dropping the least needed while the lines
// would be wider than max_width (the names alone may still be wider: they are never cut).
Shown choose_columns(const Widths& width, const TableOptions& opt, bool reference) {
  Shown shown{};
  if (opt.wide) {
    shown.fill(true);
    shown[kRef] = reference;
    return shown;
  }
  for (const Column c : kDefaultColumns) shown[c] = true;
  shown[kRef] = reference;
  for (const Column c : kDropOrder) {
    if (line_width(width, shown) <= opt.max_width) break;
    shown[c] = false;
  }
  return shown;
}

// Words of `text` on lines of at most `width` columns (a longer word gets a line of its own).
std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines(1);
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find(' ', at), text.size());
    const std::string_view word = text.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    std::string& last = lines.back();
    if (!last.empty() && display_width(last) + 1 + display_width(word) > width) {
      lines.emplace_back(word);
    } else {
      last += fmt::format("{}{}", last.empty() ? "" : " ", word);
    }
  }
  return lines;
}

// A failed or skipped row: the name, then its message, wrapped to max_width (0: never) under
// the message's first column, or from column 4 under the name where the name leaves too little.
std::string format_span(const TableRow& row, size_t name_width, size_t max_width) {
  constexpr size_t kMinSpan = 30, kIndent = 4;
  std::string line = pad(row.cells[kName], name_width, false);
  const size_t column = name_width + kGap.size();
  if (max_width == 0 || column + display_width(row.span) <= max_width) {
    return line + std::string(kGap) + row.span;
  }
  const bool beside = max_width >= column + kMinSpan;
  const size_t indent = beside ? column : kIndent;
  const auto parts = wrap(row.span, max_width - indent);
  line.erase(line.find_last_not_of(' ') + 1);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == 0 && beside) {
      line = pad(line, name_width, false) + std::string(kGap);
    } else {
      line += '\n' + std::string(indent, ' ');
    }
    line += parts[i];
  }
  return line;
}

std::string format_line(const TableRow& row, const Widths& width, const Shown& shown,
                        const TableOptions& opt) {
  std::string line;
  if (!row.span.empty()) {
    line = format_span(row, width[kName], opt.wide ? 0 : opt.max_width);
    if (opt.color) line = paint(row.color, line);
  } else {
    for (size_t i = 0; i < kColumnCount; ++i) {
      if (!shown[i]) continue;
      if (i > 0) line += kGap;
      std::string text = pad(row.cells[i], width[i], i != kName);
      // Colour only the figure that needs the warning, padded, so alignment is unchanged.
      if (opt.color && i == kCv && row.noisy) text = paint(kYellow, text);
      line += text;
    }
  }
  // Right-aligned blank cells at the end would leave trailing spaces.
  line.erase(line.find_last_not_of(' ') + 1);
  return line;
}
// "64 B", "4 KiB", "1 MiB": a message size in the summary lines.
std::string size_text(size_t bytes) {
  constexpr size_t kKiB = 1024, kMiB = kKiB * kKiB;
  if (bytes >= kMiB && bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
  return fmt::format("{} B", bytes);
}

// What a case compares at: "pingpong/64 B", "paced/rate:100000/64 B".
std::string compared_at(const CaseSpec& s) {
  return fmt::format("{}{}/{}", s.kind, s.variant.empty() ? "" : "/" + s.variant,
                     size_text(s.size));
}

// Who is compared: the case's name without its workload, variant and size ("shm-spsc",
// "tcp/nodelay:0", "shm-spsc/wait:yield").
std::string compared_subject(const CaseSpec& s) {
  std::string name = s.name;
  if (name.rfind(s.kind + "/", 0) == 0) name.erase(0, s.kind.size() + 1);
  if (const size_t at = name.rfind("/size:"); at != std::string::npos) name.erase(at);
  if (!s.variant.empty()) {
    if (const size_t at = name.find("/" + s.variant); at != std::string::npos)
      name.erase(at, s.variant.size() + 1);
  }
  return name;
}

// hyperfine's summary, one line per case compared, grouped by workload, variant and size:
// "shm-spsc ran 212 × (198–227) faster than pipe at pingpong/64 B"; below 1, "slower" with the
// inverse (and the inverted interval).
std::string speedup_line(const CaseResult& c, const std::string& reference) {
  const Speedup& s = *c.speedup;
  const std::string subject = compared_subject(c.spec), at = compared_at(c.spec);
  if (!s.measured()) {
    return fmt::format("{}: no comparison with {} at {}: {}", subject, reference, at, s.missing);
  }
  const bool faster = s.median >= 1;
  const double v = faster ? s.median : 1 / s.median;
  std::string line = fmt::format("{} ran {} ×", subject, three_digits(v));
  if (s.has_ci()) {
    const double lo = faster ? s.ci_low : 1 / s.ci_high, hi = faster ? s.ci_high : 1 / s.ci_low;
    line += fmt::format(" ({}–{})", three_digits(lo), three_digits(hi));
  }
  line += fmt::format(" {} than {} at {}", faster ? "faster" : "slower", reference, at);
  if (!s.has_ci()) {
    line += fmt::format(", no interval (n = {} < {})", s.n, kMinRepsForMedianCi);
  } else if (s.ci_low <= 1 && s.ci_high >= 1) {
    line += ", the interval includes 1";
  }
  if (s.n < s.rounds) line += fmt::format(", {} of {} rounds paired", s.n, s.rounds);
  return line;
}

std::vector<std::string> speedup_lines(const RunResult& r) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  if (r.reference.empty()) return {};
  for (const auto& c : r.cases) {
    if (!c.speedup) continue;
    const std::string at = compared_at(c.spec);
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == at; });
    if (it == groups.end()) it = groups.insert(groups.end(), {at, {}});
    it->second.push_back(speedup_line(c, r.reference));
  }
  std::vector<std::string> lines;
  for (auto& g : groups) lines.insert(lines.end(), g.second.begin(), g.second.end());
  return lines;
}

}  // namespace

std::string format_time_ns(double ns) { return scaled(ns, kTimeUnits, ""); }

std::string format_rate(double per_second) { return scaled(per_second, kRateUnits, "/s"); }

std::string format_bytes_rate(double bytes_per_second) {
  return scaled(bytes_per_second, kByteUnits, "/s");
}

std::string format_percent(double fraction) {
  if (!std::isfinite(fraction)) return std::string(kDash);
  return fmt::format("{:.1f}%", fraction * 100.0);
}

void write_table(const RunResult& r, std::ostream& os, const TableOptions& opt) {
  const CaseResult* floor = bounding_floor(r);
  Notes notes;
  if (floor != nullptr) notes.floor_name = floor->spec.name;
  notes.reference = r.reference;
  std::vector<TableRow> rows;
  rows.reserve(r.cases.size());
  for (const auto& c : r.cases) rows.push_back(make_row(c, floor, notes));

  const Widths width = column_widths(rows);
  const Shown shown = choose_columns(width, opt, !notes.reference.empty());
  std::string header;
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (!shown[i]) continue;
    if (i > 0) header += kGap;
    header += pad(kHeaders[i], width[i], i != kName);
  }
  os << header << '\n' << std::string(line_width(width, shown), '-') << '\n';
  for (const auto& row : rows) os << format_line(row, width, shown, opt) << '\n';

  if (notes.repetitions.empty()) return;  // nothing measured, nothing to explain
  std::ostringstream text;
  write_injected_note(r.context, text);
  write_column_notes(notes, shown, text);
  write_row_notes(notes, text);
  write_unstable_notes(notes, text);
  const std::vector<std::string> summary = speedup_lines(r);
  if (opt.wide) {
    os << text.str();
    for (const auto& line : summary) os << line << '\n';
    return;
  }
  write_hidden_note(shown, !notes.reference.empty(), opt.max_width, text);
  // Each note wrapped to the table's width, continued four columns in.
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    const auto parts = wrap(line, opt.max_width - 4);
    os << "  " << parts[0] << '\n';
    for (size_t i = 1; i < parts.size(); ++i) os << "    " << parts[i] << '\n';
  }
  for (const auto& line : summary) {
    const auto parts = wrap(line, opt.max_width);
    os << parts[0] << '\n';
    for (size_t i = 1; i < parts.size(); ++i) os << "    " << parts[i] << '\n';
  }
}

}  // namespace ipcperf
