#pragma once
// One line of NVIDIA's tegrastats, as a struct. The output is outside input:
// its groups come and go between JetPacks and boards, in any order, with
// runs of spaces, and a line is never rejected for one group that is
// missing, new or malformed -- the rest of the line is still worth having
// (see ../shared/reference/tegrastats.md and the fixtures of five boards).
//
// Pure and allocation-light: called once per line the child prints, and by
// the fuzz target.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::sources::tegrastats {

// RAM, SWAP and IRAM, converted from the MB/kB tegrastats prints.
struct MemoryUse {
  double used_bytes = 0;
  double total_bytes = 0;
};

// One core of `CPU [...]`: `off` when the core is powered down.
struct CpuCore {
  bool online = false;
  std::optional<double> load_percent;
  std::optional<double> mhz;
};

// A clocked unit (EMC, GR3D, NVENC, VIC, NVDLA0, APE...). `off` when
// tegrastats says so (JetPack 6 prints idle engines as `off`).
struct Clocked {
  std::string_view name;  // as printed, less a `_FREQ` suffix
  bool off = false;
  std::optional<double> load_percent;
  // One entry, or one per GPC for GR3D on Orin (`@[305,305]`).
  std::vector<double> mhz;
};

enum class Reading {
  kValid,
  // -256C: the sensor is offline; anything below -40C (the lowest rated
  // temperature of any Jetson) is no measurement either.
  kOffline,
  // PMIC@100C / PMIC@50C: a constant tegrastats prints, not a sensor.
  kPlaceholder,
};

struct Temperature {
  std::string_view name;  // the thermal zone as tegrastats names it: CPU, tj, soc0
  double celsius = 0;
  Reading reading = Reading::kValid;
};

// `VDD_IN 5299mW/5299mW` or `POM_5V_IN 1022/1022`: milliwatts, the
// instantaneous sample and tegrastats' own running average since it started.
struct Rail {
  std::string_view name;
  double instant_mw = 0;
  double average_mw = 0;
};

// Views point into the line given to parse_tegrastats_line.
struct TegrastatsLine {
  bool has_timestamp = false;  // the optional `MM-DD-YYYY HH:MM:SS` prefix
  std::optional<MemoryUse> ram;
  std::optional<MemoryUse> swap;
  std::optional<MemoryUse> iram;
  std::vector<CpuCore> cpus;  // index = core number
  std::optional<Clocked> emc;
  std::optional<Clocked> gpu;  // GR3D
  std::vector<Clocked> engines;
  std::vector<Temperature> temperatures;
  std::vector<Rail> rails;  // in order, duplicates (`NC` twice) kept
  // Groups recognised by their keyword whose values did not parse, and
  // tokens that belong to no group tegrastats is known to print: both are
  // skipped, not fatal.
  unsigned malformed_groups = 0;
  std::string first_malformed;  // e.g. "RAM: expected USED/TOTAL..., got 'x'"
  unsigned unknown_tokens = 0;
  std::string_view first_unknown;
  // Entries of one kind beyond kMaxEntries, dropped.
  unsigned dropped_entries = 0;
};

// Most cores, engines, temperatures or rails kept from one line: the series
// they become are bounded even when the child prints nonsense.
inline constexpr size_t kMaxEntries = 256;

// Parses one line (without its newline). Returns "" when the line holds at
// least one group tegrastats prints, else why it is no tegrastats line; the
// struct is filled either way with what could be read.
[[nodiscard]] std::string parse_tegrastats_line(std::string_view line, TegrastatsLine* out);

}  // namespace edgemon::sources::tegrastats
