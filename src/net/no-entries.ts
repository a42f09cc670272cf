// net/no-entries — the shared empty table a namespace's rarely written maps and sets start as (PMTU
// exceptions, reassembly queues, ICMP rate-limit peers, ping sockets, UDP encapsulation sockets, ARP
// announcements; transport's UDP port table and TCP's listeners, timestamp offsets, port searches and
// passive ports): a big cluster's pods never write most of them, and an empty Map is ~180 bytes.
// Layer: net. A writer gives its namespace or layer its own table first (`ns.pmtu === NO_ENTRIES`); the
// shared one refuses writes, so a write site that forgets fails loudly instead of leaking into every
// namespace.

class NoEntries extends Map<never, never> {
  override set(): this {
    throw new Error('internal: a write to the shared empty table (give the namespace or layer its own first)');
  }
}

class NoMembers extends Set<never> {
  override add(): this {
    throw new Error('internal: a write to the shared empty set (give the namespace or layer its own first)');
  }
}

/** The shared empty map: read it as any Map<K, V>, never write it. */
export const NO_ENTRIES: Map<never, never> = new NoEntries();
/** The shared empty set: read it as any Set<T>, never write it. */
export const NO_MEMBERS: Set<never> = new NoMembers();
