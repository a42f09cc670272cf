// scenario/schema — the podwire `Scenario` document, validated with zod. Layer: scenario.
// A scenario file is a multi-document YAML stream: one `kind: Scenario` document (this schema) and,
// beside it, ordinary Kubernetes manifests (Node, Pod, Deployment, Service, ... — later layers).
import { z } from 'zod';
import { CidrText, DomainText, Duration, EndText, FlowName, IfName, Interval, Ipv4Text, MacText, Name, Rate } from './schema-base.js';
import { NET_FAULTS } from './faults-net-schema.js';
import { K8S_FAULTS, RecoverySpec } from './faults-k8s.js';
import { captureFilterError } from '../capture/filter.js';

export { CidrText, Duration, EndText, FlowName, IfName, Interval, Ipv4Text, MacText, MAX_DURATION_NS, MAX_FLOW_NAME, Name, Rate } from './schema-base.js';

const Addresses = z.union([CidrText, z.array(CidrText)]);

export const InterfaceSpec = z.strictObject({
  name: IfName,
  address: Addresses.optional(),
  mac: MacText.optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  up: z.boolean().default(true),
});

export const BridgeSpec = z.strictObject({
  name: IfName,
  address: Addresses.optional(),
  mac: MacText.optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  /** Interfaces of this host enslaved to the bridge. */
  ports: z.array(IfName).default([]),
  /** bridge-nf-call-iptables: bridged IP frames pass the host's netfilter. */
  nfCallIptables: z.boolean().default(false),
  ageingTime: Duration.default('300s'),
});

export const RouteSpec = z.strictObject({
  to: z.union([z.literal('default'), CidrText, Ipv4Text]),
  via: Ipv4Text.optional(),
  dev: IfName.optional(),
  src: Ipv4Text.optional(),
  onlink: z.boolean().default(false),
  metric: z.number().int().nonnegative().default(0),
  type: z.enum(['unicast', 'blackhole', 'unreachable', 'prohibit']).default('unicast'),
});

export const HostSpec = z.strictObject({
  name: Name,
  /** net.ipv4.ip_forward. */
  forwarding: z.boolean().default(false),
  interfaces: z.array(InterfaceSpec).default([]),
  bridges: z.array(BridgeSpec).default([]),
  routes: z.array(RouteSpec).default([]),
});

export const VethSpec = z.strictObject({
  ends: z.tuple([EndText, EndText]),
  mtu: z.number().int().min(68).max(65535).default(1500),
  /** One-way transfer time between the ends (0: same instant). */
  delay: Duration.default('0'),
});

export const LinkSpec = z.strictObject({
  ends: z.tuple([EndText, EndText]),
  rate: Rate.default('1Gbps'),
  delay: Duration.default('0'),
  /** Frames that may wait for the wire per direction (txqueuelen). */
  queue: z.number().int().min(1).default(1000),
  mtu: z.number().int().min(68).max(65535).default(1500),
  /** netem: probability a frame is lost (0..1), extra delay and its jitter. */
  loss: z.number().min(0).max(1).default(0),
  netemDelay: Duration.default('0'),
  jitter: Duration.default('0'),
});

/** A sender that may be a workload: its pods (deployment/, statefulset/, daemonset/, replicaset/ (replicationcontroller/), job/, cronjob/: its Jobs' pods). */
const WORKLOAD_FROM = /^((pod|node|host|deployment|statefulset|daemonset|replicaset|replicationcontroller|job|cronjob)\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const TrafficCommon = {
  name: FlowName.optional(),
  /** Sender: a host, `pod/NAME`, `node/NAME` or `host/NAME`. */
  from: z.string().regex(/^((pod|node|host)\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected NAME, pod/NAME, node/NAME or host/NAME'),
  start: Duration.default('1s'),
  count: z.number().int().min(1).default(5),
  interval: Interval.optional(),
  /** Packets per second (instead of interval). */
  rate: z.number().positive().optional(),
  timeout: Duration.default('1s'),
  ttl: z.number().int().min(1).max(255).default(64),
  tos: z.number().int().min(0).max(255).default(0),
};

export const PingTraffic = z.strictObject({
  type: z.literal('ping'),
  ...TrafficCommon,
  /** Destination: a host name or an IPv4 address. */
  to: z.string().min(1),
  /** ICMP data bytes (ping -s); above the path MTU the request leaves in fragments (unless pmtudisc: do). */
  size: z.number().int().min(0).max(65507).default(56),
  /** ping -M: `want` (default: DF when the request fits the path MTU), `do` (always DF; a bigger request fails with EMSGSIZE, 'msgsize'), `dont` (never DF). */
  pmtudisc: z.enum(['want', 'do', 'dont']).optional(),
});

export const UdpTraffic = z.strictObject({
  type: z.literal('udp'),
  ...TrafficCommon,
  /** Destination: `HOST:PORT`, `pod/NAME:PORT`, `node/NAME:PORT` or `IP:PORT`. */
  to: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT, pod/NAME:PORT or IP:PORT'),
  /** UDP payload bytes; above the path MTU the datagram leaves in fragments (DF clear). */
  size: z.number().int().min(0).max(65507).default(64),
  /** Run a UDP echo server on the destination port (else datagrams meet whatever listens there). */
  echo: z.boolean().default(true),
});

/** A distribution as text: `constant:5ms`, `exponential:5ms`, `uniform:1ms,9ms`, `normal:5ms,1ms`, `lognormal:5ms,0.5` (median, sigma), `pareto:1ms,2.5`. */
export const DistText = z.string().regex(/^(constant|exponential|uniform|normal|lognormal|pareto):[^,\s]+(,[^,\s]+)?$/, 'expected KIND:ARGS like exponential:5ms, constant:2ms, lognormal:5ms,0.5');

export const HttpTraffic = z.strictObject({
  type: z.literal('http'),
  name: FlowName.optional(),
  /** Sender: `deployment/NAME` (one generator per replica, one flow; also statefulset/, daemonset/, replicaset/, job/), a pod, a node or a host. */
  from: z.string().regex(WORKLOAD_FROM, 'expected NAME, pod/NAME, deployment/NAME, node/NAME or host/NAME'),
  /** `svc/NAME:PORT`, `pod/NAME:PORT`, `node/NAME:PORT`, `IP:PORT`, or a URL `http://HOST[:PORT]/PATH` / `https://…` (TLS, SNI = HOST; names resolved by the pod's DNS). */
  to: z.string().min(1),
  path: z.string().default('/'),
  start: Duration.default('1s'),
  /** Open loop: requests per second (per sender). */
  rate: z.number().positive().optional(),
  arrival: z.enum(['poisson', 'constant']).default('poisson'),
  /** Closed loop: concurrent users per sender, each waiting `thinkTime` between requests. */
  users: z.number().int().min(1).optional(),
  thinkTime: DistText.default('constant:0'),
  /** Stop after this many requests per sender ... */
  count: z.number().int().min(1).optional(),
  /** ... or after this long. */
  duration: Duration.optional(),
  timeout: Duration.default('5s'),
  retries: z.number().int().min(0).max(10).default(0),
  connection: z.enum(['new', 'keep-alive']).default('new'),
  maxConnections: z.number().int().min(1).optional(),
  /** Report per-request phases (dns, connect, tls, ttfb, total) in stats.json; default: on for senders on spec.internet. */
  phases: z.boolean().optional(),
});

export const DnsTraffic = z.strictObject({
  type: z.literal('dns'),
  name: FlowName.optional(),
  /** A pod (its ClusterFirst resolv.conf), a workload's first pod (deployment/NAME, ...), or a host with a nameserver. */
  from: z.string().regex(WORKLOAD_FROM, 'expected pod/NAME, deployment/NAME or host/NAME'),
  /** The name to look up, as a program would pass it to getaddrinfo (e.g. "web", "example.com"; a non-ASCII name is looked up as its IDNA xn-- form). */
  lookup: DomainText,
  count: z.number().int().min(1).default(1),
  interval: Interval.default('1s'),
  start: Duration.default('1s'),
});

/** A TCP request/response flow (netperf TCP_RR): `size` bytes out, `responseSize` bytes back, per request. */
export const TcpTraffic = z.strictObject({
  type: z.literal('tcp'),
  name: FlowName.optional(),
  /** Sender: a host, pod/NAME, node/NAME, host/NAME, or a workload (deployment/NAME, ...: one sender per pod). */
  from: z.string().regex(WORKLOAD_FROM, 'expected NAME, pod/NAME, deployment/NAME, node/NAME or host/NAME'),
  /** `svc/NAME[.NS]:PORT`, `pod/NAME:PORT`, `node/NAME:PORT`, `IP:PORT`, or `NAME:PORT` (resolved by the sender's DNS, e.g. redis-cart:6379). */
  to: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected svc/NAME:PORT, pod/NAME:PORT, IP:PORT or NAME:PORT'),
  start: Duration.default('1s'),
  /** Requests per sender. */
  count: z.number().int().min(1).default(5),
  interval: Duration.optional(),
  rate: z.number().positive().optional(),
  timeout: Duration.default('1s'),
  /** Request bytes (the server's podwire.dev/request-size, default 64). */
  size: z.number().int().min(1).max(1_000_000).default(64),
  /** Response bytes the sender waits for (the server's podwire.dev/response-size, default 64). */
  responseSize: z.number().int().min(1).max(10_000_000).default(64),
  connection: z.enum(['new', 'keep-alive']).default('new'),
});

export const TrafficSpec = z.discriminatedUnion('type', [PingTraffic, UdpTraffic, HttpTraffic, DnsTraffic, TcpTraffic]);

/** A change at a point in simulated time. */
export const FaultSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pod-down'),
    at: Duration,
    /** pod/NAME: its network goes away (veth down), its endpoints turn not-ready after cluster.endpointDelay (with probes: once they fail failureThreshold times). */
    target: z.string().regex(/^pod\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME'),
  }),
  z.strictObject({
    kind: z.literal('pod-up'),
    at: Duration,
    target: z.string().regex(/^pod\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME'),
  }),
  z.strictObject({
    kind: z.literal('app-stop'),
    at: Duration,
    /** pod/NAME: its app stops listening (the container and its network stay); probes and new connections are refused until the kubelet restarts it. */
    target: z.string().regex(/^pod\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME'),
  }),
  z.strictObject({
    kind: z.literal('pod-delete'),
    at: Duration,
    /** pod/NAME is deleted gracefully: its endpoints turn terminating (not ready, still serving), it keeps serving until gracePeriod ends, then it is gone. */
    target: z.string().regex(/^pod\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME'),
    /** terminationGracePeriodSeconds (default 30 s). */
    gracePeriod: Duration.default('30s'),
  }),
  z.strictObject({
    kind: z.literal('node-down'),
    at: Duration,
    /** node/NAME: its eth0 goes down; its pods' endpoints turn not-ready after cluster.endpointDelay. */
    target: z.string().regex(/^node\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected node/NAME'),
  }),
  ...NET_FAULTS, // netem, partition, bandwidth, link-down, link-up (faults-net-schema.ts)
  ...K8S_FAULTS, // pod-kill, pod-failure, container-kill, dns-chaos, dns-outage, node-crash, node-delete, node-reboot, kube-proxy-stall, conntrack-full, toxic (faults-k8s.ts)
]);

/** HOST/IFNAME where either part may hold the globs * and ? (node*\/flannel.1, *\/eth0). */
const CaptureEndGlob = z.string().regex(/^[a-z0-9*?]([-a-z0-9.*?]*[a-z0-9*?])?\/[A-Za-z0-9*?][A-Za-z0-9_.@*?-]{0,14}$/, 'expected HOST/IFNAME like c1/eth0 (globs * and ? allowed)');

export const CaptureSpec = z.strictObject({
  /** `all`, `none`, or a list of HOST/IFNAME (globs * and ? allowed, e.g. node*\/cni0). */
  interfaces: z.union([z.literal('all'), z.literal('none'), z.array(CaptureEndGlob)]).default('all'),
  /** One pcapng with an interface block per interface, or one classic pcap per interface. */
  format: z.enum(['pcapng', 'pcap']).default('pcapng'),
  /** Bytes kept of each frame, as tcpdump -s (the EPB keeps the original length). */
  snaplen: z.number().int().min(64).max(262144).default(262144),
  /** A pcap-filter(7) subset (capture/filter): only packets it matches are written. */
  filter: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      const err = captureFilterError(v);
      if (err !== null) ctx.addIssue({ code: 'custom', message: err });
    }),
});

export const ClusterNodeSpec = z.strictObject({
  name: Name,
  /** The node's address on the external network (InternalIP). */
  ip: Ipv4Text.optional(),
  /** Pod subnet of this node (default: allocated in order from podCIDR, like the node IPAM controller). */
  podCIDR: CidrText.optional(),
  mac: MacText.optional(),
  /** control-plane: kubeadm's node-role.kubernetes.io/control-plane label and NoSchedule taint (only pods that tolerate it run there). */
  role: z.enum(['control-plane', 'worker']).default('worker'),
  /** Node labels beside kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch (and their beta.kubernetes.io/ twins) (for nodeSelector / node affinity). */
  labels: z.record(z.string(), z.string()).default({}),
  /** Node taints (kubectl taint): pods without a matching toleration are not scheduled there. */
  taints: z.array(z.strictObject({ key: z.string().min(1), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) })).default([]),
  /** The kubelet's maxPods: pods beyond it stay Pending ("Too many pods"). Default 110, as the kubelet's. */
  maxPods: z.number().int().min(1).max(100_000).optional(),
});

export const ExternalHostSpec = z.strictObject({
  name: Name,
  ip: Ipv4Text.optional(),
  mac: MacText.optional(),
  /** This host runs a DNS server answering these names (A records), e.g. a provider's DNS or an upstream resolver. */
  dnsRecords: z.record(DomainText, Ipv4Text).optional(),
  /** The nameserver in this host's resolv.conf (for http://NAME/ targets sent from it). */
  nameserver: Ipv4Text.optional(),
});

/** The external network: one L2 segment (a switch) joining node eth0s and external hosts. */
export const NetworkSpec = z.strictObject({
  cidr: CidrText.default('192.168.56.0/24'),
  rate: Rate.default('1Gbps'),
  delay: Duration.default('50us'),
  queue: z.number().int().min(1).default(1000),
  mtu: z.number().int().min(576).max(9000).default(1500),
  /** netem on every link of the network: loss probability (0..1), extra delay and jitter. */
  loss: z.number().min(0).max(1).default(0),
  netemDelay: Duration.default('0'),
  jitter: Duration.default('0'),
});

/** Health-check overrides of a cloud load balancer (each unset field keeps the provider's default, k8s/cloud-lb/config.ts). */
const LbHealthCheckSpec = z.strictObject({
  protocol: z.enum(['TCP', 'HTTP']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  path: z.string().startsWith('/').optional(),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  healthyThreshold: z.number().int().min(1).max(10).optional(),
  unhealthyThreshold: z.number().int().min(1).max(10).optional(),
});

/** The load-balancer provider of `type: LoadBalancer` Services (k8s/cloud-lb). */
const LoadBalancerSpec = z.strictObject({
  provider: z.enum(['aws-nlb', 'aws-clb', 'gcp', 'azure', 'metallb-l2', 'metallb-bgp']),
  /** The addresses the provider hands to Services: a list, or a CIDR (every host address of it). */
  pool: z.union([z.array(Ipv4Text), CidrText]).default([]),
  /** The load balancer's (or BGP router's) own address on the cluster network (default: the network's .254). */
  address: Ipv4Text.optional(),
  healthCheck: LbHealthCheckSpec.optional(),
  /** Idle timeout of a connection at the load balancer (default: the provider's). */
  idleTimeout: Duration.optional(),
});

export const ClusterSpec = z.strictObject({
  name: Name.default('kubernetes'),
  /** Cluster pod network (kube-controller-manager --cluster-cidr). */
  podCIDR: CidrText.default('10.244.0.0/16'),
  /** Size of each node's pod subnet (--node-cidr-mask-size). */
  nodeSubnetPrefix: z.number().int().min(16).max(30).default(24),
  /** Service network (kube-apiserver --service-cluster-ip-range). */
  serviceCIDR: CidrText.default('10.96.0.0/12'),
  /** flannel-vxlan: overlay on flannel.1; host-gw: routes via node IPs, no encapsulation. */
  cni: z.enum(['flannel-vxlan', 'host-gw']).default('flannel-vxlan'),
  /** VXLAN UDP port: 8472 as flannel uses (Linux default), or 4789 (IANA, Calico). */
  vxlanPort: z.number().int().min(1).max(65535).default(8472),
  vni: z.number().int().min(0).max(16777215).default(1),
  /** Time a veth hop takes (backlog + softirq); 0 delivers in the same instant. */
  vethDelay: Duration.default('5us'),
  kubeProxy: z
    .strictObject({
      /** iptables: random endpoint choice (statistic match); nftables: the `ip kube-proxy` table (numgen random vmap); ipvs: a scheduler such as rr. */
      mode: z.enum(['iptables', 'nftables', 'ipvs']).default('iptables'),
      scheduler: z.enum(['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh']).default('rr'),
      masqueradeAll: z.boolean().default(false),
      randomFully: z.boolean().default(true),
      /**
       * Optional rule-traversal cost (netfilter/cost-model.ts; off when absent): every node holds a packet back by
       * perRule × the netfilter rules it evaluated for it (iptables walks KUBE-SERVICES linearly per new
       * connection, nftables verdict maps and IPVS do not), e.g. 50ns.
       */
      costModel: z.strictObject({ perRule: Duration }).optional(),
    })
    .default({ mode: 'iptables', scheduler: 'rr', masqueradeAll: false, randomFully: true }),
  /** Cluster DNS: CoreDNS pods (kube-system, k8s-app=kube-dns) behind the kube-dns Service (10th address of the service range). */
  dns: z
    .strictObject({
      enabled: z.boolean().default(true),
      replicas: z.number().int().min(1).max(10).default(2),
      /** `forward . /etc/resolv.conf`: the nodes' upstream nameservers (e.g. an external host with dnsRecords). */
      upstream: z.array(Ipv4Text).default([]),
    })
    .optional(),
  /** An ingress controller (ingress-nginx as its Helm chart installs it): pods, their Service, IngressClass nginx. */
  ingressController: z
    .strictObject({
      kind: z.literal('nginx').default('nginx'),
      replicas: z.number().int().min(1).max(10).default(1),
      /** The controller's Service: the chart's LoadBalancer, or NodePort (bare metal), with optional node ports. */
      service: z
        .strictObject({
          type: z.enum(['NodePort', 'LoadBalancer']).default('LoadBalancer'),
          nodePorts: z.strictObject({ http: z.number().int().min(1).max(65535).optional(), https: z.number().int().min(1).max(65535).optional() }).optional(),
          externalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
        })
        .default({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' }),
      /** Mark IngressClass nginx as the cluster default (Ingresses without a class are then served). */
      defaultClass: z.boolean().default(true),
    })
    .optional(),
  /**
   * TCP MSS clamping on every node (k8s/mss-clamp): `pmtu` installs `-t mangle -A FORWARD -p tcp -m tcp
   * --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`, a number the same rule with `--set-mss N`.
   */
  mssClamp: z.union([z.literal('pmtu'), z.number().int().min(0).max(65515)], { error: 'expected pmtu or an MSS from 0 to 65515' }).optional(),
  /** Addresses a load-balancer provider hands to LoadBalancer services (none: they stay pending). */
  loadBalancerPool: z.array(Ipv4Text).default([]),
  /** A load-balancer provider with its pool (loadBalancerPool alone means metallb-l2). */
  loadBalancer: LoadBalancerSpec.optional(),
  network: NetworkSpec.default({ cidr: '192.168.56.0/24', rate: '1Gbps', delay: '50us', queue: 1000, mtu: 1500, loss: 0, netemDelay: '0', jitter: '0' }),
  /** EndpointSlice propagation: from a pod's readiness change to its endpoint's condition. */
  endpointDelay: Duration.default('1s'),
  /** kube-proxy's sync: from an EndpointSlice change to the rules on every node (--min-sync-period and friends). */
  proxySyncDelay: Duration.default('1s'),
  /** A silent kubelet's node turns NotReady (and tainted unreachable) this long after its last report (--node-monitor-grace-period). */
  nodeMonitorGracePeriod: Duration.default('40s'),
  /** tolerationSeconds the API server gives pods for the not-ready / unreachable NoExecute taints (--default-unreachable-toleration-seconds). */
  defaultTolerationSeconds: z.number().int().nonnegative().default(300),
  /** Terminated (Succeeded / Failed) pods the pod GC lets stay before it deletes the oldest (--terminated-pod-gc-threshold; 0: never). */
  terminatedPodGcThreshold: z.number().int().nonnegative().default(12500),
  /**
   * The kubelet's time from a pod bound to its containers running, for pods created while the scenario
   * runs (k8s/pod-startup): `sandbox` (RunPodSandbox), then each image not on the node pulled in `imagePull`
   * (or `images[IMAGE]`), per imagePullPolicy, serialized per node. Absent: containers run the instant
   * the pod is bound.
   */
  podStartup: z
    .strictObject({
      sandbox: Duration.default('0'),
      imagePull: Duration.default('0'),
      images: z.record(z.string().min(1), Duration).default({}),
    })
    .optional(),
  nodes: z.array(ClusterNodeSpec).default([]),
  externalHosts: z.array(ExternalHostSpec).default([]),
});

/** A host on the internet segment (a user, a DNS server). */
export const InternetHostSpec = z.strictObject({
  name: Name,
  /** Its address on the internet (default: from the 10th address of the internet's CIDR on). */
  ip: Ipv4Text.optional(),
  mac: MacText.optional(),
  /** The nameserver in its resolv.conf (default: spec.dns.server when there is one). */
  nameserver: Ipv4Text.optional(),
});

/** An internet-like network behind a router: users and public DNS outside the cluster. */
export const InternetSpec = z.strictObject({
  cidr: CidrText.default('203.0.113.0/24'),
  /** One-way delay of each link of the internet segment (a user's distance to the router). */
  delay: Duration.default('10ms'),
  rate: Rate.default('100Mbps'),
  queue: z.number().int().min(1).default(1000),
  mtu: z.number().int().min(576).max(9000).default(1500),
  /** netem on every internet link: loss probability (0..1), extra delay and jitter. */
  loss: z.number().min(0).max(1).default(0),
  jitter: Duration.default('0'),
  /** The router between the internet and the cluster network (forwarding on, no NAT). */
  router: z
    .strictObject({
      name: Name.default('edge'),
      /** Its address on the internet (default: the 1st of the CIDR). */
      ip: Ipv4Text.optional(),
      /** Its address on the cluster network (default: the 1st of spec.cluster.network.cidr). */
      clusterIp: Ipv4Text.optional(),
    })
    .default({ name: 'edge' }),
  hosts: z.array(InternetHostSpec).default([]),
});

/** One record of a zone (or of a DNSEndpoint): A with one or more addresses, or a CNAME. */
export const DnsRecordSpec = z.strictObject({
  /** Relative to the origin ("www", "@" for the apex) or absolute ("www.mydomain.com."). */
  name: DomainText,
  type: z.enum(['A', 'CNAME']),
  /** A: the addresses (answered in rotating order); CNAME: one target name. */
  values: z.array(DomainText).min(1).optional(),
  value: DomainText.optional(),
  ttl: z.number().int().min(0).max(2147483647).optional(),
});

/** A public DNS zone served by the authoritative server. */
export const DnsZoneSpec = z.strictObject({
  origin: z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\.?$/, 'expected a domain like mydomain.com'),
  /** Default TTL of the zone's records ($TTL). */
  ttl: z.number().int().min(0).max(2147483647).default(300),
  /** The SOA's minimum: how long resolvers cache NXDOMAIN / NODATA (RFC 2308). */
  negativeTtl: z.number().int().min(0).max(2147483647).default(60),
  records: z.array(DnsRecordSpec).default([]),
});

/** Authoritative DNS outside the cluster (a provider's DNS): zones, plus external-dns's DNSEndpoint records. */
export const PublicDnsSpec = z.strictObject({
  /** The authoritative server: a host on the internet (or on the cluster network when there is no spec.internet). */
  server: z.strictObject({ name: Name.default('ns1'), ip: Ipv4Text.optional() }).default({ name: 'ns1' }),
  zones: z.array(DnsZoneSpec).default([]),
  /** external-dns in the cluster: publishes Service / Ingress load-balancer addresses as DNSEndpoints. */
  externalDns: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** --interval: time between reconciles (external-dns: 1m). */
      interval: Interval.default('1m'),
      /** --events: also reconcile on Service / Ingress changes, at most once per --min-event-sync-interval (5s). */
      events: z.boolean().default(true),
      minEventSyncInterval: Duration.default('5s'),
    })
    .optional(),
});

export const ScenarioSpec = z.strictObject({
  /** Default seed (the CLI's --seed wins). */
  seed: z.number().int().nonnegative().optional(),
  /**
   * The namespace of the manifests below that name none (as the namespace of kubectl's context: objects
   * naming another stay there); the CLI's --namespace wins, as `kubectl apply -n` (and refuses those).
   */
  namespace: z.string().max(63, 'expected at most 63 characters').regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace name (a DNS label: a-z, 0-9 and "-")').optional(),
  /** Simulated time to run (the CLI's --until wins); without it the run ends when traffic is done. */
  duration: Duration.optional(),
  /** A Kubernetes cluster: nodes on an external network, a CNI, pods from the manifests beside this document. */
  cluster: ClusterSpec.optional(),
  /** An internet-like network behind a router (needs spec.cluster): users outside the cluster. */
  internet: InternetSpec.optional(),
  /** Authoritative public DNS (zones, external-dns records); not the cluster's CoreDNS (spec.cluster.dns). */
  dns: PublicDnsSpec.optional(),
  hosts: z.array(HostSpec).default([]),
  veths: z.array(VethSpec).default([]),
  links: z.array(LinkSpec).default([]),
  traffic: z.array(TrafficSpec).default([]),
  /** The fault timeline. */
  faults: z.array(FaultSpec).default([]),
  /** How stats.json's recovery section judges a fault recovered. */
  recovery: RecoverySpec.default({ errorThreshold: 0.01, window: '5s' }),
  capture: CaptureSpec.default({ interfaces: 'all', format: 'pcapng', snaplen: 262144 }),
});

export const ScenarioDoc = z.strictObject({
  apiVersion: z.literal('podwire.dev/v1alpha1'),
  kind: z.literal('Scenario'),
  metadata: z.strictObject({ name: Name, description: z.string().optional() }),
  spec: ScenarioSpec,
});

export type ScenarioDocT = z.infer<typeof ScenarioDoc>;
export type ScenarioSpecT = z.infer<typeof ScenarioSpec>;
export type HostSpecT = z.infer<typeof HostSpec>;
export type TrafficSpecT = z.infer<typeof TrafficSpec>;
export type ClusterSpecT = z.infer<typeof ClusterSpec>;
export type InternetSpecT = z.infer<typeof InternetSpec>;
export type PublicDnsSpecT = z.infer<typeof PublicDnsSpec>;
export type FaultSpecT = z.infer<typeof FaultSpec>;
