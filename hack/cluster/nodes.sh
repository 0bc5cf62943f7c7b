#!/usr/bin/env bash
# nodes.sh -- prints three kwok fake Nodes, one per zone (zone-a/b/c), labelled for the TPE node group
# (thingpark.enterprise.actility.com/nodegroup-name=tpe), each sized for segment L (the vendor's
# TPE 7.1 Kubernetes sizing: >= 3500m CPU and >= 12.5Gi allocatable): capacity 4 CPU / 16Gi,
# allocatable 3860m / 15Gi.
# Env: NODE_CPU, NODE_MEM, NODE_ALLOC_CPU, NODE_ALLOC_MEM override the sizes.
set -euo pipefail
for z in a b c; do cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: tpe-node-$z
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: tpe-node-$z
    node.kubernetes.io/instance-type: m5.xlarge
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: zone-$z
    thingpark.enterprise.actility.com/nodegroup-name: tpe
    type: kwok
spec: {}
status:
  capacity: {cpu: "${NODE_CPU:-4}", memory: ${NODE_MEM:-16Gi}, pods: "110", ephemeral-storage: 100Gi}
  allocatable: {cpu: ${NODE_ALLOC_CPU:-3860m}, memory: ${NODE_ALLOC_MEM:-15Gi}, pods: "110", ephemeral-storage: 95Gi}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
YAML
done
