/**
 * Writes message records to stdout in batches (everything that arrived in one tick of the
 * event loop) and reports, per batch, the last delivery tag whose record the stream has
 * taken: the write callback fired without error. Only then may that message be acked.
 */
export class RecordSink {
  private batch: (string | Buffer)[] = [];
  private batchHasBuffer = false;
  private batchRecords = 0;
  /** Records the stream has taken (their write callbacks fired without error). */
  written = 0;
  private lastTag = 0;
  private scheduled = false;
  private pendingWrites = 0;
  private idleWaiters: (() => void)[] = [];
  broken: Error | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly onWritten: (upToTag: number) => void,
    private readonly onBroken: (error: Error) => void,
  ) {
    out.on('error', (error: Error) => this.break(error));
  }

  /** Batches a record; `isRecord` false for a message that is only to be acked (filtered out). */
  push(record: string | Buffer | Buffer[], tag: number, isRecord = true): void {
    if (this.broken) return;
    if (isRecord) this.batchRecords += 1;
    if (Array.isArray(record)) {
      for (const piece of record) this.batch.push(piece);
      this.batchHasBuffer = true;
    } else {
      this.batch.push(record);
      if (typeof record !== 'string') this.batchHasBuffer = true;
    }
    this.lastTag = tag;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is batched now, without waiting for the next tick. */
  flush(): void {
    this.scheduled = false;
    if (this.batch.length === 0 || this.broken) return;
    const records = this.batch;
    const hasBuffer = this.batchHasBuffer;
    const tag = this.lastTag;
    const count = this.batchRecords;
    this.batch = [];
    this.batchHasBuffer = false;
    this.batchRecords = 0;
    const chunk = hasBuffer
      ? Buffer.concat(records.map((r) => (typeof r === 'string' ? Buffer.from(r) : r)))
      : records.join('');
    this.pendingWrites += 1;
    this.out.write(chunk, (error) => {
      this.pendingWrites -= 1;
      if (error) this.break(error);
      else if (!this.broken) {
        this.written += count;
        this.onWritten(tag);
      }
      if (this.pendingWrites === 0) this.wakeIdle();
    });
  }

  /** Records pushed that are not written yet: while any wait, the output is busy, not idle. */
  get waiting(): boolean {
    return this.pendingWrites > 0 || this.batch.length > 0;
  }

  /** Resolves once every record pushed so far was written (or the stream broke). */
  settled(): Promise<void> {
    this.flush();
    if (this.pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private break(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.batch = [];
    this.batchRecords = 0;
    this.onBroken(error);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
