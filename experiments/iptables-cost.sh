#!/usr/bin/env bash
# iptables-cost — first-connection latency against the number of Services, kube-proxy iptables mode
# against nftables and IPVS, with podwire's rule-traversal cost model
# (spec.cluster.kubeProxy.costModel.perRule, src/netfilter/cost-model.ts).
#
# In iptables mode a new connection's first packet walks KUBE-SERVICES rule by rule until its Service's
# rule (O(services)); on the node of the chosen endpoint it walks the whole chain again (the DNATed
# destination is a pod IP no rule matches). Later packets of the connection skip the nat table. nftables
# mode looks the destination up in one verdict map and IPVS in a hash: their walks do not grow with the
# Service count. The published curves this reproduces in shape: the Kubernetes blog "NFTables mode for
# kube-proxy" (2025-02-28, first-packet p50/p99 latency against 5,000–30,000 Services, iptables growing,
# nftables flat), KEP-3866 ("the time it takes the kernel to check it against all of the Service rules
# is O(n)") and Tigera's "Comparing kube-proxy modes: iptables or IPVS?" (2019: no difference up to
# ~1,000 Services, growing beyond). perRule is the user's calibration (the kernel's cost per
# non-matching rule is tens of ns); 50ns is used here.
#
# Each Service count is its own generated cluster (`podwire generate cluster`: 2 nodes, S Services of 3
# pods, a client pod on node-1); the sweep varies the mode and the model (perRule 0 = off) and aims the
# flow at the middle Service (svc-S/2: the mean position in KUBE-SERVICES).
#
#   npm run build && experiments/iptables-cost.sh            # S = 10 100 1000 5000
#   SERVICES="10 100" experiments/iptables-cost.sh
#
# The same curve in one process, as a table: `node dist/bench/run.js C1` (bench/README.md records it).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLI="node $HERE/../dist/src/cli/main.js"
OUT="${OUT:-out/iptables-cost}"
mkdir -p "$OUT"
for S in ${SERVICES:-10 100 1000 5000}; do
  $CLI generate cluster --nodes 2 --services "$S" --pods-per-service 3 --flows 1 --requests 100 --rate 100 > "$OUT/cluster-$S.yaml"
  echo "== S = $S Services"
  $CLI sweep "$OUT/cluster-$S.yaml" \
    --vary spec.cluster.kubeProxy.mode=iptables,nftables,ipvs \
    --vary spec.cluster.kubeProxy.costModel.perRule=0,50ns \
    --vary "spec.traffic[0].to=svc/svc-$((S / 2)):80" \
    --seeds 1 --workers 0 --out "$OUT/sweep-$S" --no-report
done
