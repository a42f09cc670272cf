// k8s/flannel — the iptables rules flanneld installs on every node with --ip-masq (the kube-flannel
// default; pkg/trafficmngr/iptables MasqRules and ForwardRules): pod traffic leaving the cluster
// network is masqueraded to the node's address, traffic inside the pod network is not, and the
// FORWARD chain accepts the pod network both ways. Layer: k8s.

/** flanneld's rules for a node whose pod subnet is `nodeSubnet` within `clusterCIDR`, as restore input. */
export function renderFlannelRules(clusterCIDR: string, nodeSubnet: string, randomFully: boolean): string {
  const rf = randomFully ? ' --random-fully' : '';
  return [
    '*nat',
    ':FLANNEL-POSTRTG - [0:0]',
    '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    `-A FLANNEL-POSTRTG -s ${nodeSubnet} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterCIDR} -d ${nodeSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${nodeSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterCIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE${rf}`,
    `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j MASQUERADE${rf}`,
    'COMMIT',
    '*filter',
    ':FLANNEL-FWD - [0:0]',
    '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
    `-A FLANNEL-FWD -s ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    `-A FLANNEL-FWD -d ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    'COMMIT',
  ].join('\n') + '\n';
}
