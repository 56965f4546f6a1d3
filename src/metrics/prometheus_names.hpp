#pragma once
// Prometheus names for what arrives as InfluxDB points (an exec source's
// lines, points sent by remote_write): the field `f` of measurement `m` is
// the metric `m_f` (a field named `value` is just `m`, as Telegraf names
// them), tags become labels. Characters a name may not hold become '_', and
// a name that would start with a digit gets a '_' in front.
#include <string>
#include <string_view>

namespace edgemon::metrics {

// Replaces *out with the metric name of `field` of `measurement`
// ([a-zA-Z_:][a-zA-Z0-9_:]*). Reuses out's capacity.
void point_metric_name(std::string_view measurement, std::string_view field, std::string* out);
// Replaces *out with `key` as a label name ([a-zA-Z_][a-zA-Z0-9_]*).
void point_label_name(std::string_view key, std::string* out);

}  // namespace edgemon::metrics
