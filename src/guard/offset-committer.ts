// Where guard's saved position may move to: past every transaction index released so far, but never past
// one whose incidents are not yet copied and reported (a restart then examines it again), and never behind
// where this run began acting. Commits are serialized; a failed one is retried at the next tick. The
// position arithmetic is pure; the commit itself is the function given.
import { logger } from '../core/logger.js';

export interface CommitOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export class OffsetCommitter {
  private readonly log = logger().child({ component: 'guard' });
  /** TxnIndex meta offset -> incidents not yet reported. */
  private readonly pending = new Map<bigint, number>();
  private lastIndexDone = -1n;
  private chain: Promise<void> = Promise.resolve();
  /** Meta offset last saved, -1 before any. */
  committed: bigint;

  constructor(
    private readonly metaTopic: string,
    /** Meta offset this run acts from: the position never goes below it. */
    private readonly boundary: bigint,
    /** Where the changes partitions are (saved alongside, for information). */
    private readonly changesTopic: string,
    private readonly changesPosition: () => Map<number, bigint>,
    private readonly save: (offsets: CommitOffset[]) => Promise<void>,
    saved?: bigint,
  ) {
    this.committed = saved ?? -1n;
  }

  /** Every transaction of the index at this meta offset was examined. */
  indexDone(offset: bigint): void {
    this.lastIndexDone = offset;
  }

  /** An incident of the index at this offset is being recovered. */
  hold(indexOffset: bigint): void {
    this.pending.set(indexOffset, (this.pending.get(indexOffset) ?? 0) + 1);
  }

  /** That incident is copied and reported. */
  release(indexOffset: bigint): void {
    const n = (this.pending.get(indexOffset) ?? 1) - 1;
    if (n <= 0) this.pending.delete(indexOffset);
    else this.pending.set(indexOffset, n);
  }

  /** No incident waits for its copy. */
  get idle(): boolean {
    return this.pending.size === 0;
  }

  /** The meta offset the saved position may move to now. */
  position(): bigint {
    let m = this.lastIndexDone + 1n;
    for (const k of this.pending.keys()) if (k < m) m = k;
    return m > this.boundary ? m : this.boundary;
  }

  /** Saves the position (after any commit in flight). */
  commit(): Promise<void> {
    this.chain = this.chain.then(async () => {
      const m = this.position();
      const offsets: CommitOffset[] = [{ topic: this.metaTopic, partition: 0, offset: m }];
      for (const [p, o] of this.changesPosition()) offsets.push({ topic: this.changesTopic, partition: p, offset: o });
      try {
        await this.save(offsets);
        if (m !== this.committed) this.log.debug({ meta: m.toString() }, 'position saved');
        this.committed = m;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not save the position; retrying later');
      }
    });
    return this.chain;
  }
}
