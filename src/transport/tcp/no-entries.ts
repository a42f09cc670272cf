// transport/tcp/no-entries — the shared empty tables a TCP layer's rarely written maps and sets start
// as (listeners, per-peer timestamp offsets, per-destination port searches, passive ports): a
// namespace whose TCP only listens, or is made and never used, writes few or none of them, and four
// empty Maps and Sets are ~1 KB a namespace. Layer: transport. A writer gives the layer its own table
// first (`this.tsOffsets === NO_ENTRIES`); the shared one refuses writes, so a write site that forgets
// fails loudly instead of leaking into every layer. (net/no-entries.ts is the same for a namespace's
// tables; transport may not import it.)

class NoEntries extends Map<never, never> {
  override set(): this {
    throw new Error('internal: a write to the shared empty TCP table (give the layer its own first)');
  }
}

class NoMembers extends Set<never> {
  override add(): this {
    throw new Error('internal: a write to the shared empty TCP set (give the layer its own first)');
  }
}

/** The shared empty map: read it as any Map<K, V>, never write it. */
export const NO_ENTRIES: Map<never, never> = new NoEntries();
/** The shared empty set: read it as any Set<T>, never write it. */
export const NO_MEMBERS: Set<never> = new NoMembers();
