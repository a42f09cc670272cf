// external-dns (src/k8s/external-dns.ts): Services with the hostname annotation and Ingress objects
// become DNSEndpoint objects (A for status ip, CNAME for status hostname, TTL from the annotation),
// reconciled at start, every --interval, and --min-event-sync-interval after a change; the public
// server's records are read from every DNSEndpoint in the store.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { SEC } from '../../src/core/time.js';
import { objectMeta, type ApiObject, type Service } from '../../src/k8s/api/objects.js';
import { ApiStore } from '../../src/k8s/api/store.js';
import { dnsEndpointRecords, ExternalDns, HOSTNAME_ANNOTATION, TTL_ANNOTATION, type DnsEndpoint } from '../../src/k8s/external-dns.js';
import type { ServiceSpec } from '../../src/k8s/services.js';

function service(name: string, annotations: Record<string, string>, ingress?: { ip?: string; hostname?: string }[], type: ServiceSpec['type'] = 'LoadBalancer'): Service {
  const spec = { namespace: 'default', name, type, clusterIP: 0, headless: false, externalName: null, externalIPs: [], loadBalancerIPs: [], selector: {}, ports: [], sessionAffinityTimeout: null, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', sliceName: `${name}-abcde` } satisfies ServiceSpec;
  return { kind: 'Service', metadata: { ...objectMeta('default', name), annotations }, spec, ...(ingress ? { status: { loadBalancer: { ingress } } } : {}) };
}

function ingress(name: string, hosts: string[], lb: { ip?: string; hostname?: string }[]): ApiObject {
  return { kind: 'Ingress', metadata: objectMeta('web', name), spec: { rules: hosts.map((host) => ({ host })) }, status: { loadBalancer: { ingress: lb } } } as ApiObject;
}

function setup(events = true) {
  const sim = new Simulator(1);
  const api = new ApiStore(sim);
  const timeline: string[] = [];
  const ctl = new ExternalDns(sim, api, { intervalNs: 60 * SEC, events, minEventSyncNs: 5 * SEC }, (w) => timeline.push(`${sim.now / SEC}s ${w}`));
  const endpoints = (): string[] => (api.list('DNSEndpoint') as DnsEndpoint[]).flatMap((o) => o.spec.endpoints.map((e) => `${o.metadata.namespace}/${o.metadata.name} ${e.recordType} ${e.dnsName} ${e.targets.join(',')} ${e.recordTTL ?? '-'}`));
  return { sim, api, ctl, timeline, endpoints };
}

describe('external-dns', () => {
  it('Services: hostname annotation (comma-separated) → A records of status ips, TTL annotation; no annotation or no status → nothing', () => {
    const { api, ctl, endpoints } = setup();
    api.create(service('web', { [HOSTNAME_ANNOTATION]: 'web.mydomain.com, www.mydomain.com.', [TTL_ANNOTATION]: '1m' }, [{ ip: '10.100.11.240' }, { ip: '10.100.11.241' }]));
    api.create(service('plain', {}, [{ ip: '10.100.11.242' }]));
    api.create(service('pending', { [HOSTNAME_ANNOTATION]: 'pending.mydomain.com' }, []));
    api.create(service('np', { [HOSTNAME_ANNOTATION]: 'np.mydomain.com' }, [{ ip: '1.2.3.4' }], 'NodePort'));
    ctl.sync();
    expect(endpoints()).toEqual(['default/service-web A web.mydomain.com 10.100.11.240,10.100.11.241 60', 'default/service-web A www.mydomain.com 10.100.11.240,10.100.11.241 60']);
  });

  it('Ingress: every rule host → CNAME to the status hostname; the server reads A and CNAME records of all DNSEndpoints', () => {
    const { api, ctl, endpoints } = setup();
    api.create(ingress('shop', ['foo.mydomain.com', 'mydomain.com', ''], [{ hostname: 'abc.elb.us-east-1.amazonaws.com' }]));
    api.create<DnsEndpoint>({ kind: 'DNSEndpoint', metadata: objectMeta('default', 'by-hand'), spec: { endpoints: [{ dnsName: 'abc.elb.us-east-1.amazonaws.com', recordType: 'A', targets: ['198.51.100.7', '198.51.100.8'], recordTTL: 60 }, { dnsName: 'txt.mydomain.com', recordType: 'TXT', targets: ['x'] }] } });
    ctl.sync();
    expect(endpoints()).toContain('web/ingress-shop CNAME foo.mydomain.com abc.elb.us-east-1.amazonaws.com -');
    expect(endpoints()).toContain('web/ingress-shop CNAME mydomain.com abc.elb.us-east-1.amazonaws.com -');
    expect(dnsEndpointRecords(api)).toEqual([
      { name: 'abc.elb.us-east-1.amazonaws.com', type: 'A', values: ['198.51.100.7', '198.51.100.8'], ttl: 60 },
      { name: 'foo.mydomain.com', type: 'CNAME', values: ['abc.elb.us-east-1.amazonaws.com'], ttl: 300 },
      { name: 'mydomain.com', type: 'CNAME', values: ['abc.elb.us-east-1.amazonaws.com'], ttl: 300 },
    ]);
  });

  it('reconciles at start and on changes no sooner than 5 s after the last sync; updates and deletes its own DNSEndpoints only', () => {
    const { sim, api, ctl, timeline, endpoints } = setup();
    api.create<DnsEndpoint>({ kind: 'DNSEndpoint', metadata: objectMeta('default', 'user'), spec: { endpoints: [{ dnsName: 'keep.mydomain.com', recordType: 'A', targets: ['1.1.1.1'] }] } });
    ctl.start();
    sim.schedule(1 * SEC, () => api.create(service('web', { [HOSTNAME_ANNOTATION]: 'web.mydomain.com' }, [{ ip: '10.100.11.240' }])));
    sim.schedule(8 * SEC, () => api.update({ ...api.get('Service', 'default', 'web')!, status: { loadBalancer: { ingress: [{ ip: '10.100.11.250' }] } } }));
    sim.schedule(20 * SEC, () => api.delete('Service', 'default', 'web'));
    sim.schedule(30 * SEC, () => expect(endpoints()).toEqual(['default/user A keep.mydomain.com 1.1.1.1 -']));
    sim.run({ until: 30 * SEC });
    expect(timeline).toEqual(['5s external-dns: UPSERT A web.mydomain.com → 10.100.11.240 (ttl 300)', '10s external-dns: UPSERT A web.mydomain.com → 10.100.11.250 (ttl 300)', '20s external-dns: DELETE A web.mydomain.com']);
    expect(ctl.counters.writes).toBe(3);
  });

  it('without --events the change waits for the next interval', () => {
    const { sim, api, ctl, timeline } = setup(false);
    ctl.start();
    sim.schedule(1 * SEC, () => api.create(service('web', { [HOSTNAME_ANNOTATION]: 'web.mydomain.com' }, [{ ip: '10.100.11.240' }])));
    sim.run({ until: 70 * SEC });
    expect(timeline).toEqual(['60s external-dns: UPSERT A web.mydomain.com → 10.100.11.240 (ttl 300)']);
  });
});
