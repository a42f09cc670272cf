// test/net/ipvs-one-node — one node in kube-proxy IPVS mode (rr) with a Service 10.96.0.50:80 → web:8080
// and a client pod on the same node: the topology of the IPVS unit test and of its kernel comparison.

/** The Service document: ClusterIP 10.96.0.50:80 → the app=web pods' 8080. */
export const WEB_SERVICE_DOC = `---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: 10.96.0.50, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
`;

/** The scenario text (a client pod, a web pod behind ClusterIP 10.96.0.50:80, IPVS rr). */
export const IPVS_ONE_NODE_SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ipvs-one-node }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    kubeProxy: { mode: ipvs, scheduler: rr }
    nodes: [{ name: node1, ip: 10.100.11.11 }]
${WEB_SERVICE_DOC}---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec: { containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { containers: [{ name: c, image: x }] }
`;
