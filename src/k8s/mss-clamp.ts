// k8s/mss-clamp — the TCP MSS clamping rule a CNI installs on each node (`spec.cluster.mssClamp`),
// as restore input beside flanneld's rules. Layer: k8s (imports nothing).
// What real CNIs do (checked in their sources): kube-router adds `-t mangle -A PREROUTING ... -i
// kube-bridge --tcp-flags SYN,RST SYN -j TCPMSS --set-mss <MTU-60>` for DSR services, whose replies
// leave in an IPIP tunnel (pkg/controllers/proxy/network_services_controller.go); Gravitational's
// wormhole clamps SYNs and SYN-ACKs in the mangle table to the interface MTU (wormhole PR #6, pods with
// a larger MTU than the host network); flannel and Weave Net install no TCPMSS rule (their trees
// have none) and, like Calico (ipipMTU / vxlanMTU in FelixConfiguration), rely on the pods' MTU.
// podwire offers the generic router form most of them document: one rule in mangle FORWARD, so every
// SYN the node forwards (pod to outside, outside to pod, pod to pod across the overlay) is clamped.

/** `pmtu` (clamp to the route MTU) or a fixed MSS. */
export type MssClamp = 'pmtu' | number;

/** The node's TCPMSS rule as iptables-restore input, or '' when clamping is off. */
export function renderMssClampRules(clamp: MssClamp | undefined): string {
  if (clamp === undefined) return '';
  const target = clamp === 'pmtu' ? '--clamp-mss-to-pmtu' : `--set-mss ${clamp}`;
  return ['*mangle', `-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS ${target}`, 'COMMIT'].join('\n') + '\n';
}
