// The fleet model: TOML descriptions, the shipped examples, openb node lists
// as clusters, and errors that name the line and the key path.
#include <gtest/gtest.h>

#include "model/fleet.h"
#include "test_util.h"
#include "workload/openb.h"

namespace rackscale {
namespace {

const char* kMini = R"(
[accelerators.X]
busy_watts = 700
idle_watts = 100

[nodes.gpu4]
cpu_milli = 64000
memory_mib = 262144
gpus = 4
accelerator = "X"

[nodes.cpu]
cpu_milli = 96000
memory_mib = 393216

[domains.D8]
node = "gpu4"
nodes = 2

[[sites]]
name = "a"
power_cap_mw = 1.5

  [[sites.pools]]
  domain = "D8"
  count = 5
  per_block = 2

  [[sites.pools]]
  node = "cpu"
  count = 3
)";

TEST(FleetToml, BuildsTheTopology) {
  auto f = ParseFleetToml(kMini, "mini.toml");
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  // 5 domains of type D8 in blocks of 2 -> 3 blocks (2, 2, 1); 3 CPU nodes in one block.
  EXPECT_EQ(f->sites.size(), 1u);
  EXPECT_EQ(f->blocks.size(), 4u);
  EXPECT_EQ(f->blocks[2].num_domains, 1);
  EXPECT_EQ(f->domains.size(), 8u);
  EXPECT_EQ(f->nodes.size(), 13u);  // 5 x 2 GPU nodes + 3 CPU nodes
  EXPECT_EQ(f->TotalGpus(), 40);
  EXPECT_EQ(f->TotalCpuMilli(), 10 * 64000 + 3 * 96000);
  EXPECT_EQ(f->domains[0].gpus, 8);
  EXPECT_EQ(f->domains[5].gpus, 0);
  EXPECT_EQ(f->domain_types.back().name, "node:cpu");
  // Every level is a contiguous range of the next.
  for (size_t d = 0; d < f->domains.size(); ++d) {
    const Domain& dom = f->domains[d];
    for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) {
      EXPECT_EQ(f->nodes[static_cast<size_t>(n)].domain, static_cast<int32_t>(d));
    }
  }
  EXPECT_DOUBLE_EQ(f->sites[0].power_cap_mw, 1.5);
  EXPECT_EQ(f->sites[0].num_blocks, 4);
}

void ExpectError(const std::string& text, int64_t line, const std::string& field,
                 const std::string& fragment) {
  auto f = ParseFleetToml(text, "t.toml");
  ASSERT_FALSE(f.ok()) << "accepted: " << text;
  EXPECT_EQ(f.error().line, line) << f.error().ToString();
  EXPECT_EQ(f.error().field, field) << f.error().ToString();
  EXPECT_NE(f.error().message.find(fragment), std::string::npos) << f.error().ToString();
}

TEST(FleetToml, ErrorsNameLineAndKeyPath) {
  std::string t = kMini;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = t;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  ExpectError(replace("count = 5", "count = -5"), 26, "sites[0].pools[0].count", "expected an integer in [1");
  ExpectError(replace("count = 5", "count = \"five\""), 26, "sites[0].pools[0].count", "expected an integer");
  ExpectError(replace("accelerator = \"X\"", "accelerator = \"Y\""), 10, "nodes.gpu4.accelerator",
              "unknown accelerator type 'Y'");
  ExpectError(replace("per_block = 2", "per_blok = 2"), 27, "sites[0].pools[0].per_blok", "unknown key");
  ExpectError(replace("node = \"gpu4\"", "node = \"gpu5\""), 17, "domains.D8.node", "unknown node type");
  ExpectError(replace("busy_watts = 700", "busy_watts = 700\nbusy_watts = 1"), 4, "",
              "TOML syntax");
  ExpectError(replace("name = \"a\"\n", ""), 20, "sites[0].name", "missing");
  ExpectError("[nodes.x]\ncpu_milli = 1\nmemory_mib = 1\n", 1, "sites", "missing");
  ExpectError(replace("  domain = \"D8\"\n", "  domain = \"D8\"\n  node = \"cpu\"\n"), 25,
              "sites[0].pools[0].domain", "exactly one");
}

TEST(FleetToml, PlainAsciiOnly) {
  // Found by fuzz/fuzz_toml.cc: toml++ 3.3 reaches an unreachable branch on
  // some non-ASCII code points it scans outside strings, even after a syntax
  // error; rackscale refuses non-ASCII first, with the line.
  auto bad = ParseFleetToml("a = 1\n\xef\xb4\xbf\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_NE(bad.error().message.find("non-ASCII"), std::string::npos);
  EXPECT_FALSE(ParseTenantsToml("\xef\xb4\xbf", "t.toml").ok());
  EXPECT_FALSE(ParseTenantsToml("a = 1==='=\xc3\xbe\n", "t.toml").ok());
  auto in_string = ParseFleetToml(std::string(kMini) + "# ok\nx = \"caf\xc3\xa9\"\n", "t.toml");
  ASSERT_FALSE(in_string.ok());
  EXPECT_NE(in_string.error().message.find("non-ASCII"), std::string::npos);
  // Not even in comments (toml++ may be inside a string there).
  auto in_comment = ParseFleetToml("  # caf\xc3\xa9\n" + std::string(kMini), "t.toml");
  ASSERT_FALSE(in_comment.ok());
  EXPECT_EQ(in_comment.error().line, 1);
}

TEST(FleetToml, ShippedExamplesLoad) {
  for (const char* ex : {"small.toml", "mixed.toml", "fleet-500k.toml", "llama3-16k.toml"}) {
    auto f = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/" + ex);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    EXPECT_GT(f->TotalGpus(), 0) << ex;
  }
  auto big = ReadFleetToml(std::string(RACKSCALE_SOURCE_DIR) + "/examples/fleet-500k.toml");
  EXPECT_EQ(big->TotalGpus(), 504000);
  EXPECT_EQ(big->domains.size(), 7000u + 10560u);
  EXPECT_GE(big->TotalCpuMilli() - 126000LL * 144000, 2'000'000LL * 1000);  // CPU nodes: >= 2M cores
}

TEST(TenantsToml, ServicesAndPricesAndTheirErrors) {
  auto ok = ParseTenantsToml(R"([[tenants]]
name = "inf"
reserved_usd_per_gpu_hour = 2.5
[[services]]
name = "chat"
tenant = "inf"
rate = "0:1000,3600:2000"
tokens_per_request = 500
gpus_per_replica = 8
tokens_per_s_per_replica = 9000
max_replicas = 4
count = 3
stagger_hours = 8
)",
                             "t.toml");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_DOUBLE_EQ(ok->tenants[0].reserved_usd_per_gpu_hour, 2.5);
  ASSERT_EQ(ok->services.size(), 1u);
  EXPECT_EQ(ok->services[0].count, 3);
  EXPECT_EQ(ok->services[0].max_replicas, 4);
  auto both = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\ntrace = \"x.csv\"\n"
      "rate = \"5\"\ngpus_per_replica = 8\ntokens_per_s_per_replica = 1\nmax_replicas = 1\n",
      "t.toml");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().field, "services[0].trace");
  EXPECT_EQ(both.error().line, 6);  // the line of `trace`
  auto minmax = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\nrate = \"5\"\n"
      "gpus_per_replica = 8\ntokens_per_s_per_replica = 1\nmin_replicas = 3\nmax_replicas = 2\n",
      "t.toml");
  ASSERT_FALSE(minmax.ok());
  EXPECT_EQ(minmax.error().field, "services[0].min_replicas");
  auto missing = ParseTenantsToml(
      "[[tenants]]\nname = \"a\"\n[[services]]\nname = \"s\"\ntenant = \"a\"\nrate = \"5\"\n",
      "t.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "services[0].gpus_per_replica");
  auto spares = ParseFleetToml(R"([accelerators.A]
busy_watts = 1
[nodes.n]
cpu_milli = 1000
memory_mib = 1
gpus = 1
accelerator = "A"
[domains.D]
node = "n"
nodes = 1
[[sites]]
name = "s"
  [[sites.pools]]
  domain = "D"
  count = 2
  spares = 2
)",
                               "f.toml");
  ASSERT_FALSE(spares.ok());
  EXPECT_EQ(spares.error().field, "sites[0].pools[0].spares");
  EXPECT_EQ(spares.error().line, 16);
}

TEST(FleetFromNodeList, OpenbNodesLoadDirectlyAsACluster) {
  RACKSCALE_REQUIRE_TRACE(path, "openb/openb_node_list_all_node.csv");
  auto f = LoadFleet(path);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->nodes.size(), 1523u);
  EXPECT_EQ(f->domains.size(), 1523u);
  EXPECT_EQ(f->TotalGpus(), 6212);
  EXPECT_EQ(f->models.size(), 7u);
}

}  // namespace
}  // namespace rackscale
