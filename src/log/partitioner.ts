// Which changes-topic partition holds a table's records: a stable hash of the key, so writers and
// readers agree without asking Kafka. Pure.

/** FNV-1a 32-bit over the UTF-8 bytes of the key. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(key, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function partitionFor(key: string, partitions: number): number {
  return keyHash(key) % partitions;
}
