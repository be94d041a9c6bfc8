#!/usr/bin/env bash
# Downloads the public traces that the trace tests use, from
# their original public sources, into DIR (default: ../shared/traces beside
# this checkout, where the tests look; or set RACKSCALE_TRACES to DIR).
# rackscale itself never downloads anything; this script is the one place
# that does, and only when a user runs it.
set -euo pipefail
DIR=${1:-$(cd "$(dirname "$0")/../.." && pwd)/shared/traces}
mkdir -p "$DIR"/{swf,philly,openb,llm}
fetch() {  # url dest
  if [ -s "$2" ]; then echo "have $2"; return; fi
  echo "get  $2"
  curl -fL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"
}
PWA=https://www.cs.huji.ac.il/labs/parallel/workload
fetch "$PWA/l_kth_sp2/KTH-SP2-1996-2.1-cln.swf.gz" "$DIR/swf/KTH-SP2-1996-2.1-cln.swf.gz"
if [ ! -s "$DIR/swf/lublin_256.swf.gz" ]; then
  fetch "https://raw.githubusercontent.com/DIR-LAB/deep-batch-scheduler/master/data/lublin_256.swf" "$DIR/swf/lublin_256.swf"
  gzip -f "$DIR/swf/lublin_256.swf"
fi
fetch "https://raw.githubusercontent.com/petuum/adaptdl/osdi21-artifact/simulator/traces/philly.csv" "$DIR/philly/philly.csv"
GPU=https://raw.githubusercontent.com/alibaba/clusterdata/master/cluster-trace-gpu-v2023/csv
for f in openb_node_list_gpu_node openb_node_list_all_node openb_pod_list_default \
         openb_pod_list_cpu050 openb_pod_list_gpushare40 openb_pod_list_gpuspec10 \
         openb_pod_list_multigpu20; do
  fetch "$GPU/$f.csv" "$DIR/openb/$f.csv"
done
AZ=https://raw.githubusercontent.com/Azure/AzurePublicDataset/master/data
fetch "$AZ/AzureLLMInferenceTrace_code.csv" "$DIR/llm/AzureLLMInferenceTrace_code.csv"
fetch "$AZ/AzureLLMInferenceTrace_conv.csv" "$DIR/llm/AzureLLMInferenceTrace_conv.csv"
if [ ! -s "$DIR/llm/mooncake_conversation_trace.jsonl.gz" ]; then
  fetch "https://raw.githubusercontent.com/kvcache-ai/Mooncake/main/FAST25-release/traces/conversation_trace.jsonl" \
    "$DIR/llm/mooncake_conversation_trace.jsonl"
  gzip -f "$DIR/llm/mooncake_conversation_trace.jsonl"
fi
echo "traces in $DIR; the tests find them there (or export RACKSCALE_TRACES=$DIR)"
