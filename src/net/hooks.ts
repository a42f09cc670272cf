// net/hooks — how the IP layer calls netfilter at the five hooks (include/linux/netfilter.h NF_HOOK).
// Layer: net. The netfilter layer's per-namespace engine is adapted to this shape by net/netfilter-glue.
import type { Packet } from '../packet/packet.js';

/** The five IPv4 hooks, in NF_INET_* numbering. */
export const NfHook = { PREROUTING: 0, INPUT: 1, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4 } as const;
export type NfHookNum = (typeof NfHook)[keyof typeof NfHook];

/** What a hook decided. REJECT variants name the error the kernel emits for the packet. */
export const HookVerdict = {
  ACCEPT: 0,
  DROP: 1,
  REJECT_PORT_UNREACH: 2,
  REJECT_HOST_UNREACH: 3,
  REJECT_NET_UNREACH: 4,
  REJECT_PROTO_UNREACH: 5,
  REJECT_ADMIN_PROHIBITED: 6,
  REJECT_TCP_RESET: 7,
} as const;
export type HookVerdictNum = (typeof HookVerdict)[keyof typeof HookVerdict];

/** A namespace's netfilter, as seen from the IP layer. */
export interface NetfilterHooks {
  /** Runs every table registered at `hook` over `pkt` (which it may rewrite: NAT, MARK). */
  hook(hook: NfHookNum, pkt: Packet, inIf: string | null, outIf: string | null): HookVerdictNum;
}
