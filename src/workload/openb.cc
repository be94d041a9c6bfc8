#include "workload/openb.h"

#include <array>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

constexpr size_t kMaxCols = 24;

Result<int64_t> Int(std::string_view tok, const std::string& source, int64_t line,
                    const char* field, int64_t lo, int64_t hi) {
  auto v = ParseInt(Trim(tok));
  if (!v || *v < lo || *v > hi) {
    return Error::InvalidInput(source, line, field,
                               fmt::format("expected an integer in [{}, {}], got {}", lo, hi,
                                           Quote(tok)));
  }
  return *v;
}

}  // namespace

Result<NodeList> ParseOpenbNodes(std::string_view text, const std::string& source) {
  static constexpr std::array<const char*, 5> kCols = {"sn", "cpu_milli", "memory_mib", "gpu",
                                                       "model"};
  NodeList out;
  LineCursor cur(text);
  std::string_view line;
  std::array<int, 5> pos;
  size_t ncols = 0;
  bool header = false;
  std::string_view f[kMaxCols];
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    if (!header) {
      if (Status s = internal::MapHeader(line, source, cur.line_no(), kCols.data(), kCols.size(), 4,
                                         pos.data(), &ncols);
          !s) {
        return s.error();
      }
      header = true;
      continue;
    }
    size_t n = internal::SplitDelimited(line, ',', f, kMaxCols);
    if (n != ncols) {
      return Error::InvalidInput(source, cur.line_no(), "",
                                 fmt::format("expected {} comma-separated fields, found {}", ncols,
                                             n));
    }
    NodeSpec node;
    node.line = cur.line_no();
    node.name = std::string(Trim(f[pos[0]]));
    auto cpu = Int(f[pos[1]], source, cur.line_no(), "cpu_milli", 0, int64_t{1} << 40);
    if (!cpu) return cpu.error();
    auto mem = Int(f[pos[2]], source, cur.line_no(), "memory_mib", 0, int64_t{1} << 40);
    if (!mem) return mem.error();
    auto gpus = Int(f[pos[3]], source, cur.line_no(), "gpu", 0, 4096);
    if (!gpus) return gpus.error();
    node.cpu_milli = *cpu;
    node.memory_mib = *mem;
    node.gpus = static_cast<int32_t>(*gpus);
    std::string_view model = pos[4] >= 0 ? Trim(f[pos[4]]) : std::string_view();
    if (node.gpus > 0) {
      if (model.empty()) {
        return Error::InvalidInput(source, cur.line_no(), "model",
                                   "a node with GPUs needs a GPU model");
      }
      auto id = out.models.Intern(model);
      if (!id) {
        return Error::InvalidInput(source, cur.line_no(), "model",
                                   fmt::format("more than {} GPU models", kMaxGpuModels));
      }
      node.model = *id;
    }
    out.nodes.push_back(std::move(node));
  }
  if (!header) return Error::InvalidInput(source, 0, "header", "empty file; expected a header");
  return out;
}

Result<NodeList> ReadOpenbNodes(const std::string& path) {
  auto data = ReadFileMaybeGz(path, "CSV");
  if (!data) return data.error();
  return ParseOpenbNodes(*data, path);
}

Result<std::vector<PodSpec>> ParseOpenbPods(std::string_view text, const std::string& source,
                                            GpuModels* models) {
  enum { kName, kCpu, kMem, kNumGpu, kGpuMilli, kSpec, kQos, kPhase, kCreate, kDelete, kSched };
  static constexpr std::array<const char*, 11> kCols = {
      "name",     "cpu_milli", "memory_mib",    "num_gpu",       "gpu_milli",     "gpu_spec",
      "qos",      "pod_phase", "creation_time", "deletion_time", "scheduled_time"};
  std::vector<PodSpec> pods;
  LineCursor cur(text);
  std::string_view line;
  std::array<int, 11> pos;
  size_t ncols = 0;
  bool header = false;
  std::string_view f[kMaxCols];
  while (cur.Next(&line)) {
    if (Trim(line).empty()) continue;
    if (!header) {
      if (Status s = internal::MapHeader(line, source, cur.line_no(), kCols.data(), kCols.size(), 5,
                                         pos.data(), &ncols);
          !s) {
        return s.error();
      }
      header = true;
      continue;
    }
    size_t n = internal::SplitDelimited(line, ',', f, kMaxCols);
    if (n != ncols) {
      return Error::InvalidInput(source, cur.line_no(), "",
                                 fmt::format("expected {} comma-separated fields, found {}", ncols,
                                             n));
    }
    const int64_t ln = cur.line_no();
    PodSpec p;
    p.line = ln;
    p.name = std::string(Trim(f[pos[kName]]));
    auto cpu = Int(f[pos[kCpu]], source, ln, "cpu_milli", 0, int64_t{1} << 40);
    if (!cpu) return cpu.error();
    auto mem = Int(f[pos[kMem]], source, ln, "memory_mib", 0, int64_t{1} << 40);
    if (!mem) return mem.error();
    auto ngpu = Int(f[pos[kNumGpu]], source, ln, "num_gpu", 0, 4096);
    if (!ngpu) return ngpu.error();
    auto milli = Int(f[pos[kGpuMilli]], source, ln, "gpu_milli", 0, kMilliPerGpu);
    if (!milli) return milli.error();
    p.cpu_milli = *cpu;
    p.memory_mib = *mem;
    p.num_gpu = static_cast<int32_t>(*ngpu);
    p.gpu_milli = static_cast<int32_t>(*milli);
    if (p.num_gpu > 1 && p.gpu_milli != kMilliPerGpu) {
      return Error::InvalidInput(source, ln, "gpu_milli",
                                 fmt::format("a pod with {} GPUs must take whole GPUs (1000), got {}",
                                             p.num_gpu, p.gpu_milli));
    }
    if ((p.num_gpu == 0) != (p.gpu_milli == 0)) {
      return Error::InvalidInput(source, ln, "gpu_milli",
                                 "num_gpu and gpu_milli must be both zero or both positive");
    }
    if (pos[kSpec] >= 0 && !Trim(f[pos[kSpec]]).empty()) {
      p.models = 0;
      std::string_view spec = Trim(f[pos[kSpec]]);
      std::string_view names[kMaxGpuModels + 1];
      size_t k = internal::SplitDelimited(spec, '|', names, kMaxGpuModels + 1);
      for (size_t i = 0; i < k && i <= kMaxGpuModels; ++i) {
        std::string_view nm = Trim(names[i]);
        auto id = nm.empty() ? std::nullopt : models->Intern(nm);
        if (!id) {
          return Error::InvalidInput(source, ln, "gpu_spec",
                                     fmt::format("expected GPU model names separated by '|', got {}",
                                                 Quote(spec)));
        }
        p.models |= GpuModelMask{1} << *id;
      }
    }
    if (pos[kQos] >= 0) p.qos = std::string(Trim(f[pos[kQos]]));
    if (pos[kPhase] >= 0) p.phase = std::string(Trim(f[pos[kPhase]]));
    int64_t* times[3] = {&p.creation_time, &p.deletion_time, &p.scheduled_time};
    const char* tnames[3] = {"creation_time", "deletion_time", "scheduled_time"};
    for (int t = 0; t < 3; ++t) {
      int col = pos[kCreate + t];
      if (col < 0 || Trim(f[col]).empty()) continue;
      auto v = Int(f[col], source, ln, tnames[t], -(int64_t{1} << 50), int64_t{1} << 50);
      if (!v) return v.error();
      *times[t] = *v;
    }
    pods.push_back(std::move(p));
  }
  if (!header) return Error::InvalidInput(source, 0, "header", "empty file; expected a header");
  return pods;
}

Result<std::vector<PodSpec>> ReadOpenbPods(const std::string& path, GpuModels* models) {
  auto data = ReadFileMaybeGz(path, "CSV");
  if (!data) return data.error();
  return ParseOpenbPods(*data, path, models);
}

NodeList NodeListFromFleet(const Fleet& f) {
  NodeList out;
  out.models = f.models;
  out.nodes.reserve(f.nodes.size());
  for (size_t i = 0; i < f.nodes.size(); ++i) {
    const NodeType& t = f.node_types[static_cast<size_t>(f.nodes[i].type)];
    NodeSpec s;
    s.name = fmt::format("d{}/n{}", f.nodes[i].domain, i);
    s.cpu_milli = t.cpu_milli;
    s.memory_mib = t.memory_mib;
    s.gpus = t.gpus;
    s.model = t.accelerator >= 0 ? static_cast<GpuModelId>(t.accelerator) : 0;
    out.nodes.push_back(std::move(s));
  }
  return out;
}

Result<Fleet> LoadFleet(const std::string& path) {
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".toml") return ReadFleetToml(path);
  auto nodes = ReadOpenbNodes(path);
  if (!nodes) return nodes.error();
  return FleetFromNodeList(nodes->nodes, nodes->models);
}

}  // namespace rackscale
