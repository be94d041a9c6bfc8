#include "sim/services.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace rackscale {

// Inference services of a tenants file: demand curves from their traces
// (paths relative to the file) or rate curves; `count` copies each, their
// days shifted by stagger_hours.
Result<std::vector<FleetService>> LoadServices(const TenantsConfig& cfg, const std::string& file) {
  std::vector<FleetService> out;
  std::map<std::string, LlmTrace> traces;
  const std::string dir = file.find('/') == std::string::npos ? "" : file.substr(0, file.rfind('/') + 1);
  for (size_t index = 0; index < cfg.services.size(); ++index) {
    const ServiceDef& d = cfg.services[index];
    auto bad = [&](const char* field, std::string msg) {
      return Error::InvalidInput(file, d.line, fmt::format("services[{}].{}", index, field), std::move(msg));
    };
    DemandOptions o;
    o.step_s = 60;
    o.duration_s = 86400;
    o.scale = d.scale;
    o.diurnal.peak_hour = d.peak_hour;
    o.diurnal.trough_hour = d.trough_hour;
    o.diurnal.trough_ratio = d.trough_ratio;
    if (Status s = ValidateDiurnalProfile(o.diurnal, file); !s) return s.error();
    DemandCurve curve;
    double tokens_per_request = d.tokens_per_request;
    if (!d.trace.empty()) {
      const std::string path = d.trace[0] == '/' ? d.trace : dir + d.trace;
      auto it = traces.find(path);
      if (it == traces.end()) {
        auto format = ParseLlmTraceFormat(d.format, file);
        if (!format) return bad("format", format.error().message);
        auto t = ReadLlmTrace(path, *format);
        if (!t) return t.error();
        it = traces.emplace(path, std::move(*t)).first;
      }
      auto c = TraceDemand(it->second, o);
      if (!c) return c.error();
      curve = std::move(*c);
      if (tokens_per_request <= 0) {
        tokens_per_request = SummarizeLlmTrace(it->second, o.weights, o.step_s).mean_tokens_per_request;
      }
    } else {
      auto points = ParseRatePoints(d.rate, file);
      if (!points) return bad("rate", points.error().message);
      auto c = RateCurveDemand(*points, o);
      if (!c) return c.error();
      curve = std::move(*c);
      if (tokens_per_request <= 0) return bad("tokens_per_request", "needed with a rate curve");
    }
    for (int32_t i = 0; i < d.count; ++i) {
      FleetService fs;
      ServiceSpec& sp = fs.spec;
      sp.name = d.count == 1 ? d.name : fmt::format("{}-{}", d.name, i);
      sp.tenant = d.tenant;
      sp.gpus_per_replica = d.gpus_per_replica;
      sp.tokens_per_s_per_replica = d.tokens_per_s_per_replica;
      sp.tokens_per_request = tokens_per_request;
      sp.batch_slots = d.batch_slots;
      sp.slo_ms = d.slo_ms;
      sp.min_replicas = d.min_replicas;
      sp.max_replicas = d.max_replicas;
      sp.target_utilization = d.target_utilization;
      sp.scale_down_cooldown_s = d.scale_down_cooldown_s;
      sp.startup_s = d.startup_s;
      if (Status s = ValidateServiceSpec(sp); !s) return bad(s.error().field.c_str(), s.error().message);
      fs.demand = curve;
      const size_t shift = static_cast<size_t>(std::llround(i * d.stagger_hours * 3600 / o.step_s));
      auto& v = fs.demand.tokens_per_s;
      if (!v.empty()) std::rotate(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(shift % v.size()), v.end());
      out.push_back(std::move(fs));
    }
  }
  return out;
}

}  // namespace rackscale
