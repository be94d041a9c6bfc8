// openb node and pod list readers.
#include <gtest/gtest.h>

#include "test_util.h"
#include "workload/openb.h"

namespace rackscale {
namespace {

TEST(OpenbNodes, ParsesAndInternsModels) {
  auto r = ParseOpenbNodes("sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\n"
                           "n1,96000,393216,8,G2\nn2,32000,131072,0,\n",
                           "nodes.csv");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->nodes.size(), 3u);
  EXPECT_EQ(r->models.size(), 2u);
  EXPECT_EQ(r->models.name(r->nodes[1].model), "G2");
  EXPECT_EQ(r->nodes[0].gpus, 2);
  EXPECT_EQ(r->nodes[2].gpus, 0);
}

TEST(OpenbNodes, ErrorsNameLineAndField) {
  auto r = ParseOpenbNodes("sn,cpu_milli,memory_mib,gpu,model\nn0,64000,x,2,P100\n", "n.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(), "n.csv:2: field 'memory_mib': expected an integer in [0, 1099511627776], got 'x'");
  r = ParseOpenbNodes("sn,cpu_milli,memory_mib,gpu,model\nn0,64000,1,2,\n", "n.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "model");
  r = ParseOpenbNodes("sn,cpu,memory_mib,gpu,model\n", "n.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "header");
}

TEST(OpenbPods, ParsesSpecsAndOptionalColumns) {
  GpuModels models;
  models.Intern("P100");
  auto r = ParseOpenbPods(
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
      "deletion_time,scheduled_time\n"
      "p0,12000,16384,1,1000,,LS,Running,0,12537496,0\n"
      "p1,6000,12288,1,460,V100M16|V100M32,BE,Failed,427061,12902960,\n"
      "p2,8000,1024,0,0,,BE,Pending,5,,\n",
      "pods.csv", &models);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].models, kAnyGpuModel);
  EXPECT_EQ((*r)[1].models, (GpuModelMask{1} << 1) | (GpuModelMask{1} << 2));
  EXPECT_EQ(models.size(), 3u);
  EXPECT_EQ((*r)[1].gpu_milli, 460);
  EXPECT_EQ((*r)[1].creation_time, 427061);
  EXPECT_EQ((*r)[2].num_gpu, 0);
  EXPECT_EQ((*r)[2].phase, "Pending");
  // Only the first five columns (the multigpu files).
  auto m = ParseOpenbPods("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,2,1000\n", "m.csv",
                          &models);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)[0].TotalGpuMilli(), 2000);
}

TEST(OpenbPods, Errors) {
  GpuModels models;
  const std::string h = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n";
  auto r = ParseOpenbPods(h + "p,1,1,2,500\n", "p.csv", &models);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 2);
  EXPECT_EQ(r.error().field, "gpu_milli");
  r = ParseOpenbPods(h + "p,1,1,1,1001\n", "p.csv", &models);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "gpu_milli");
  r = ParseOpenbPods(h + "p,1,1,0,500\n", "p.csv", &models);
  ASSERT_FALSE(r.ok());
  r = ParseOpenbPods(h + "p,1,1,1\n", "p.csv", &models);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 2);
  r = ParseOpenbPods("name,cpu_milli,memory_mib,num_gpu\n", "p.csv", &models);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("gpu_milli"), std::string::npos);
}

TEST(OpenbTraces, AllFilesRead) {
  RACKSCALE_REQUIRE_TRACE(nodes, "openb/openb_node_list_gpu_node.csv");
  RACKSCALE_REQUIRE_TRACE(all, "openb/openb_node_list_all_node.csv");
  auto n = ReadOpenbNodes(nodes);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->nodes.size(), 1213u);
  int64_t gpus = 0;
  for (const NodeSpec& s : n->nodes) gpus += s.gpus;
  EXPECT_EQ(gpus, 6212);
  auto a = ReadOpenbNodes(all);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->nodes.size(), 1523u);
  for (const char* w : {"default", "cpu050", "gpushare40", "gpuspec10", "multigpu20"}) {
    std::string rel = std::string("openb/openb_pod_list_") + w + ".csv";
    RACKSCALE_REQUIRE_TRACE(path, rel);
    auto p = ReadOpenbPods(path, &n->models);
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_GT(p->size(), 7000u) << w;
  }
}

}  // namespace
}  // namespace rackscale
