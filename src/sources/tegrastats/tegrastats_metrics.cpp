#include "sources/tegrastats/tegrastats_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "metrics/power_families.hpp"

namespace edgemon::sources::tegrastats {
namespace {

using metrics::Type;

constexpr std::string_view kSource = "tegrastats";
constexpr double kMega = 1e6;
constexpr double kBytesPerMB = 1024.0 * 1024;

// "0", "1"...: core and GPC numbers as label values.
class Number {
 public:
  explicit Number(size_t n) {
    auto [end, ec] = std::to_chars(buf_, buf_ + sizeof buf_, n);
    size_ = static_cast<size_t>(end - buf_);
  }
  std::string_view text() const { return {buf_, size_}; }

 private:
  char buf_[24];
  size_t size_ = 0;
};

bool is_input_rail(std::string_view name) {
  return name == "VDD_IN" || name == "POM_5V_IN";
}

bool first_of_name(const std::vector<Temperature>& temps, size_t index) {
  for (size_t i = 0; i < index; ++i)
    if (temps[i].name == temps[index].name) return false;
  return true;
}

bool exported_temperature(const TegrastatsLine& line, size_t index) {
  return line.temperatures[index].reading == Reading::kValid &&
         first_of_name(line.temperatures, index);
}

void write_power(const TegrastatsLine& line, std::string_view device, metrics::MetricSink& sink) {
  if (line.rails.empty()) return;
  sink.begin(metrics::power::kWatts);
  for (size_t i = 0; i < line.rails.size(); ++i) {
    if (!exported_rail(line, i)) continue;
    sink.sample({{"device", device}, {"rail", line.rails[i].name}, {"source", kSource}},
                line.rails[i].instant_mw / 1000.0);
  }
  if (std::optional<double> mw = board_milliwatts(line)) {
    sink.begin(metrics::power::kBoardWatts);
    sink.sample({{"device", device}, {"source", kSource}}, *mw / 1000.0);
  }
}

// Begins its family with the first sample: a family without samples (no
// core reports a frequency in the oldest format) is left out.
class LazyFamily {
 public:
  LazyFamily(metrics::MetricSink& sink, metrics::FamilyDesc desc) : sink_(sink), desc_(desc) {}
  void sample(std::initializer_list<metrics::Label> labels, double value) {
    if (!std::exchange(begun_, true)) sink_.begin(desc_);
    sink_.sample(labels, value);
  }

 private:
  metrics::MetricSink& sink_;
  metrics::FamilyDesc desc_;
  bool begun_ = false;
};

void write_cpus(const TegrastatsLine& line, metrics::MetricSink& sink) {
  LazyFamily online(sink, {"edge_jetson_cpu_online",
                           "1 when the CPU core is online, 0 when tegrastats reports it off "
                           "(powered down).",
                           Type::kGauge});
  for (size_t i = 0; i < line.cpus.size(); ++i)
    online.sample({{"cpu", Number(i).text()}}, line.cpus[i].online ? 1 : 0);
  LazyFamily load(sink,
                  {"edge_jetson_cpu_utilization_ratio",
                   "Load of an online CPU core as tegrastats reports it, 0 to 1.", Type::kGauge});
  for (size_t i = 0; i < line.cpus.size(); ++i)
    if (line.cpus[i].load_percent)
      load.sample({{"cpu", Number(i).text()}}, *line.cpus[i].load_percent / 100.0);
  LazyFamily clock(sink, {"edge_jetson_cpu_frequency_hertz",
                          "Clock of an online CPU core, in hertz.", Type::kGauge});
  for (size_t i = 0; i < line.cpus.size(); ++i)
    if (line.cpus[i].mhz) clock.sample({{"cpu", Number(i).text()}}, *line.cpus[i].mhz * kMega);
}

void write_emc_gpu(const TegrastatsLine& line, metrics::MetricSink& sink) {
  if (line.emc && line.emc->load_percent) {
    sink.begin({"edge_jetson_emc_utilization_ratio",
                "Bandwidth used of the external memory controller (EMC), 0 to 1.", Type::kGauge});
    sink.sample(*line.emc->load_percent / 100.0);
  }
  if (line.emc && !line.emc->mhz.empty()) {
    sink.begin({"edge_jetson_emc_frequency_hertz",
                "Clock of the external memory controller (EMC), in hertz.", Type::kGauge});
    sink.sample(line.emc->mhz[0] * kMega);
  }
  if (line.gpu && line.gpu->load_percent) {
    sink.begin({"edge_jetson_gpu_utilization_ratio", "Load of the integrated GPU (GR3D), 0 to 1.",
                Type::kGauge});
    sink.sample(*line.gpu->load_percent / 100.0);
  }
  if (line.gpu && !line.gpu->mhz.empty()) {
    sink.begin({"edge_jetson_gpu_frequency_hertz",
                "Clock of the integrated GPU (GR3D), in hertz; one series per GPC on Orin.",
                Type::kGauge});
    for (size_t i = 0; i < line.gpu->mhz.size(); ++i)
      sink.sample({{"gpc", Number(i).text()}}, line.gpu->mhz[i] * kMega);
  }
}

bool first_engine_of_name(const TegrastatsLine& line, size_t index) {
  for (size_t i = 0; i < index; ++i)
    if (line.engines[i].name == line.engines[index].name) return false;
  return true;
}

// Engines tegrastats reports `off` are absent: an idle engine has no clock.
void write_engines(const TegrastatsLine& line, metrics::MetricSink& sink) {
  auto family = [&](metrics::FamilyDesc desc, auto has, auto value) {
    LazyFamily out(sink, desc);
    for (size_t i = 0; i < line.engines.size(); ++i) {
      const Clocked& e = line.engines[i];
      if (!e.off && has(e) && first_engine_of_name(line, i))
        out.sample({{"engine", e.name}}, value(e));
    }
  };
  family(
      {"edge_jetson_engine_utilization_ratio",
       "Load of a hardware engine (NVENC, NVDEC, VIC...) where tegrastats reports one, 0 to 1.",
       Type::kGauge},
      [](const Clocked& e) { return e.load_percent.has_value(); },
      [](const Clocked& e) { return *e.load_percent / 100.0; });
  family(
      {"edge_jetson_engine_frequency_hertz",
       "Clock of a hardware engine (NVENC, NVDEC, VIC, NVDLA0, APE...), in hertz; absent "
       "while tegrastats reports the engine off.",
       Type::kGauge},
      [](const Clocked& e) { return !e.mhz.empty(); },
      [](const Clocked& e) { return e.mhz[0] * kMega; });
}

void write_memory(const TegrastatsLine& line, metrics::MetricSink& sink) {
  // RAM and swap are node_memory_*'s business (the host collector); IRAM,
  // the video engines' own memory on Nano and TX1, is not in /proc/meminfo.
  if (!line.iram) return;
  sink.begin({"edge_jetson_iram_used_bytes", "Used IRAM (video engines' local memory), in bytes.",
              Type::kGauge});
  sink.sample(line.iram->used_bytes);
  sink.begin({"edge_jetson_iram_size_bytes", "Size of the IRAM, in bytes.", Type::kGauge});
  sink.sample(line.iram->total_bytes);
}

// node_exporter's thermal family: `type` is the zone as tegrastats names
// it; tegrastats does not say the zone's number, so `zone` carries the same
// name (the host collector's series of the same zones have a number there
// and no `source` label).
void write_temperatures(const TegrastatsLine& line, metrics::MetricSink& sink) {
  LazyFamily out(sink, {"node_thermal_zone_temp", "Zone temperature in Celsius", Type::kGauge});
  for (size_t i = 0; i < line.temperatures.size(); ++i) {
    if (!exported_temperature(line, i)) continue;
    const Temperature& t = line.temperatures[i];
    out.sample({{"type", t.name}, {"zone", t.name}}, t.celsius);
  }
}

// The replaced exporter's families: one per rail and zone (the name in the
// metric name, lowercased), labelled device_type and hostname.
class ExporterFamilies {
 public:
  ExporterFamilies(const ExporterNames& names, metrics::MetricSink& sink)
      : names_(names), sink_(sink) {}

  void write(const TegrastatsLine& line) {
    for (size_t i = 0; i < line.rails.size(); ++i)
      if (exported_rail(line, i))
        gauge("jetson_power_", line.rails[i].name, "_watts", line.rails[i].instant_mw / 1000.0,
              "Power of a rail in watts (edge_power_watts{rail} in edgemon's names).");
    if (std::optional<double> mw = board_milliwatts(line))
      gauge("power_total_watts", "", "", *mw / 1000.0,
            "Power of the board in watts (edge_board_power_watts in edgemon's names).");
    for (size_t i = 0; i < line.temperatures.size(); ++i)
      if (exported_temperature(line, i))
        gauge("jetson_temp_", line.temperatures[i].name, "_celsius", line.temperatures[i].celsius,
              "Temperature of a thermal zone in Celsius (node_thermal_zone_temp).");
    if (line.gpu && line.gpu->load_percent)
      gauge("jetson_gpu_usage_percent", "", "", *line.gpu->load_percent, "GPU load in percent.");
    write_cpus(line);
    if (line.ram && line.ram->total_bytes > 0) {
      // MB in the name draws promtool's "abbreviated units" complaint: kept,
      // it is the name the replaced exporter's dashboards query.
      gauge("jetson_ram_used_mb", "", "", line.ram->used_bytes / kBytesPerMB, "Used RAM in MB.");
      gauge("jetson_ram_used_percent", "", "", 100 * line.ram->used_bytes / line.ram->total_bytes,
            "Used RAM in percent of the total.");
    }
    if (line.emc && !line.emc->mhz.empty())
      gauge("jetson_emc_freq_mhz", "", "", line.emc->mhz[0], "Memory controller clock in MHz.");
  }

 private:
  void write_cpus(const TegrastatsLine& line) {
    double sum = 0;
    size_t counted = 0;
    for (size_t i = 0; i < line.cpus.size(); ++i) {
      if (!line.cpus[i].load_percent) continue;
      std::string core = "core";
      core.append(Number(i).text());
      gauge("jetson_cpu_", core, "_usage_percent", *line.cpus[i].load_percent,
            "Load of one CPU core in percent.");
      sum += *line.cpus[i].load_percent;
      ++counted;
    }
    if (counted > 0)
      gauge("jetson_cpu_avg_usage_percent", "", "", sum / static_cast<double>(counted),
            "Mean load of the online CPU cores in percent.");
  }

  void gauge(std::string_view prefix, std::string_view middle, std::string_view suffix,
             double value, std::string_view help) {
    name_.assign(prefix);
    for (char c : middle)
      name_ += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    name_.append(suffix);
    // `CPU@` and `cpu@` in one line would be one name twice.
    if (std::find(written_.begin(), written_.end(), name_) != written_.end()) return;
    written_.push_back(name_);
    sink_.begin({name_, help, Type::kGauge});
    sink_.sample({{"device_type", names_.device_type}, {"hostname", names_.hostname}}, value);
  }

  const ExporterNames& names_;
  metrics::MetricSink& sink_;
  std::string name_;
  std::vector<std::string> written_;
};

}  // namespace

bool exported_rail(const TegrastatsLine& line, size_t index) {
  std::string_view name = line.rails[index].name;
  if (name == "NC") return false;
  for (size_t i = 0; i < index; ++i)
    if (line.rails[i].name == name) return false;
  return true;
}

std::optional<double> board_milliwatts(const TegrastatsLine& line) {
  for (const Rail& r : line.rails)
    if (is_input_rail(r.name)) return r.instant_mw;
  std::optional<double> sum;
  for (size_t i = 0; i < line.rails.size(); ++i)
    if (exported_rail(line, i)) sum = sum.value_or(0) + line.rails[i].instant_mw;
  return sum;
}

void write_line(const TegrastatsLine& line, std::string_view device, const ExporterNames& names,
                metrics::MetricSink& sink) {
  sink.begin(metrics::power::kSourceUp);
  sink.sample({{"device", device}, {"source", kSource}}, 1);
  write_power(line, device, sink);
  write_cpus(line, sink);
  write_emc_gpu(line, sink);
  write_engines(line, sink);
  write_memory(line, sink);
  write_temperatures(line, sink);
  if (names.enabled) ExporterFamilies(names, sink).write(line);
}

void RailEnergy::add(const TegrastatsLine& line, double seconds) {
  for (size_t i = 0; i < line.rails.size(); ++i) {
    if (!exported_rail(line, i)) continue;
    const Rail& r = line.rails[i];
    auto it = std::find_if(joules_.begin(), joules_.end(),
                           [&](const auto& e) { return e.first == r.name; });
    if (it == joules_.end()) {
      if (joules_.size() >= kMaxEntries) continue;
      joules_.emplace_back(std::string(r.name), 0.0);
      it = joules_.end() - 1;
    }
    it->second += r.instant_mw / 1000.0 * seconds;
  }
}

void RailEnergy::write(std::string_view device, metrics::MetricSink& sink) const {
  if (joules_.empty()) return;
  sink.begin(metrics::power::kJoules);
  for (const auto& [rail, joules] : joules_)
    sink.sample({{"device", device}, {"rail", rail}, {"source", kSource}}, joules);
}

void write_down(std::string_view device, metrics::MetricSink& sink) {
  sink.begin(metrics::power::kSourceUp);
  sink.sample({{"device", device}, {"source", kSource}}, 0);
}

}  // namespace edgemon::sources::tegrastats
