// k8s/inventory — what the cluster's builders created, in creation order (namespaces, devices), and
// the MACs they take: a fixed one from the scenario or one from the `mac/OWNER/IF` stream. Creation
// order is the capture's interface order and the ifindex order, so every builder goes through here.
// Layer: k8s (imports core, wire, link, net).
import type { Simulator } from '../core/simulator.js';
import { randomMac, type NetDevice } from '../link/device.js';
import { Namespace } from '../net/namespace.js';
import { parseMac } from '../wire/mac.js';
import type { Mac } from '../wire/types.js';

/** Namespaces and devices of the cluster, in creation order. */
export class Inventory {
  readonly namespaces: Namespace[] = [];
  readonly devices: NetDevice[] = [];

  constructor(readonly sim: Simulator) {}

  /** `ip netns add NAME`: a namespace with its lo. */
  newNs(name: string): Namespace {
    const ns = new Namespace(this.sim, name);
    this.namespaces.push(ns);
    this.devices.push(ns.lo);
    return ns;
  }

  /** Moves a device into a namespace. */
  add(ns: Namespace, dev: NetDevice): void {
    ns.addDevice(dev);
    this.devices.push(dev);
  }

  /** The scenario's fixed MAC, or a random one from the owner's interface stream. */
  mac(owner: string, ifname: string, fixed?: string): Mac {
    if (fixed) return parseMac(fixed)!;
    return randomMac(this.sim, owner, ifname);
  }
}
