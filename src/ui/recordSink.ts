import { writeSync } from 'node:fs';
import type { PipeProbe } from './pipeProbe.js';

/** While records wait in the pipe: how soon to look again, at first and at most (backing off). */
const POLL_FIRST_MS = 1;
const POLL_MOST_MS = 8;
/** With nothing in the pipe: how often to look whether the reader is still there. */
const READER_WATCH_MS = 100;

/**
 * Writes message records to stdout in batches (everything that arrived in one tick of the
 * event loop) and reports the last delivery tag whose record counts as written; only then
 * may that message be acked.
 *
 * With a probe (stdout is a pipe, on Linux), a record counts once the reader has taken it
 * out of the pipe: the bytes the pipe accepted, less those still in it, cover its end. What
 * the reader never took goes back to the queue. warren then writes to the pipe itself
 * (non-blocking), since a stream's write callback says nothing of a chunk the pipe took in
 * part. The probe also notices a reader that left while nothing is written. Without one, a
 * record counts once the stream took it (its write callback fired without error).
 */
export class RecordSink {
  private batch: (string | Buffer)[] = [];
  private batchHasBuffer = false;
  private batchRecords = 0;
  /** Records written (with a probe: taken out of the pipe by the reader). */
  written = 0;
  private lastTag = 0;
  private scheduled = false;
  private pendingWrites = 0;
  private idleWaiters: (() => void)[] = [];
  broken: Error | undefined;
  /** With a probe: the reader left (its end of the pipe closed) while the run was on. */
  readerLeft = false;

  // With a probe: per entry pushed, where it ends in the byte stream, its tag, whether a record.
  private ends: number[] = [];
  private tags: number[] = [];
  private isRecord: boolean[] = [];
  /** The first entry not yet taken by the reader. */
  private next = 0;
  private pushedBytes = 0;
  private acceptedBytes = 0;
  /** With a probe: chunks not yet wholly in the pipe, the first from `offset` on. */
  private unwritten: Buffer[] = [];
  private offset = 0;
  private pollMs = POLL_FIRST_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** Acks up to `upToTag`; `records`: how many of the entries written were records (not filtered out). */
    private readonly onWritten: (upToTag: number, records: number) => void,
    private readonly onBroken: (error: Error) => void,
    readonly probe?: PipeProbe,
  ) {
    out.on('error', (error: Error) => this.break(error));
    if (probe) this.watch();
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
    if (this.probe) {
      const bytes = Array.isArray(record)
        ? record.reduce((sum, piece) => sum + piece.length, 0)
        : typeof record === 'string'
          ? Buffer.byteLength(record)
          : record.length;
      this.pushedBytes += bytes;
      this.ends.push(this.pushedBytes);
      this.tags.push(tag);
      this.isRecord.push(isRecord);
    }
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
    if (this.probe) {
      this.unwritten.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.pump();
      this.observe();
      return;
    }
    this.pendingWrites += 1;
    this.out.write(chunk, (error) => {
      this.pendingWrites -= 1;
      if (error) this.break(error);
      else if (!this.broken) {
        this.written += count;
        this.onWritten(tag, count);
      }
      if (this.isSettled()) this.wakeIdle();
    });
  }

  /** Records pushed that do not count as written yet: while any wait, the output is busy, not idle. */
  get waiting(): boolean {
    return this.probe ? this.next < this.ends.length : this.pendingWrites > 0 || this.batch.length > 0;
  }

  /**
   * Resolves once every record pushed so far counts as written (with a probe: the reader
   * took it out of the pipe), or the output broke, or (with a probe) the reader left.
   */
  settled(): Promise<void> {
    this.flush();
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops watching the reader; with a probe, counts what it took until now. */
  close(): void {
    if (this.closed) return;
    if (!this.broken) this.observe();
    this.closed = true;
    clearTimeout(this.timer);
  }

  private isSettled(): boolean {
    return this.broken !== undefined || (this.pendingWrites === 0 && !this.waiting);
  }

  /** With a probe: writes what the pipe takes now; true if it took anything. */
  private pump(): boolean {
    const fd = this.probe?.fd;
    if (fd === undefined) return false;
    const before = this.acceptedBytes;
    while (!this.broken && this.unwritten.length > 0) {
      const chunk = this.unwritten[0] as Buffer;
      let wrote: number;
      try {
        wrote = writeSync(fd, chunk, this.offset);
      } catch (error) {
        // Full: the watch tries again.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        this.break(error as Error);
        break;
      }
      this.acceptedBytes += wrote;
      this.offset += wrote;
      if (this.offset < chunk.length) break;
      this.unwritten.shift();
      this.offset = 0;
    }
    return this.acceptedBytes > before;
  }

  /** With a probe: counts the records the reader has taken out of the pipe, and acks up to the last. */
  private observe(): boolean {
    const probe = this.probe;
    if (!probe || this.closed) return false;
    const inPipe = probe.unread();
    // Bytes other writers put in the same pipe only make this smaller: acks come later, never
    // early. Should the pipe stop answering, what it accepted counts, as without a probe.
    const taken = inPipe < 0 ? this.acceptedBytes : this.acceptedBytes - inPipe;
    const first = this.next;
    let records = 0;
    while (this.next < this.ends.length && (this.ends[this.next] as number) <= taken) {
      if (this.isRecord[this.next]) records += 1;
      this.next += 1;
    }
    if (this.next === first) return false;
    this.written += records;
    this.onWritten(this.tags[this.next - 1] as number, records);
    if (this.next > 4096 && this.next * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.next);
      this.tags = this.tags.slice(this.next);
      this.isRecord = this.isRecord.slice(this.next);
      this.next = 0;
    }
    if (this.isSettled()) this.wakeIdle();
    return true;
  }

  /**
   * With a probe: looks again soon while records wait in the pipe (backing off while the
   * reader takes nothing), and now and then while none do, for a reader that left: it would
   * otherwise be noticed only at the next write, which a quiet queue may never bring.
   */
  private watch(): void {
    if (this.closed || this.broken) return;
    const delay = this.waiting ? this.pollMs : READER_WATCH_MS;
    this.timer = setTimeout(() => {
      const wrote = this.pump();
      const progressed = this.observe() || wrote;
      this.pollMs = progressed ? POLL_FIRST_MS : Math.min(this.pollMs * 2, POLL_MOST_MS);
      if (!this.closed && this.probe?.readerGone()) {
        this.break(Object.assign(new Error('the reader closed the pipe'), { code: 'EPIPE' }));
        return;
      }
      this.watch();
    }, delay);
  }

  private break(error: Error): void {
    if (this.broken) return;
    if ((error as NodeJS.ErrnoException).code === 'EPIPE' && this.probe) {
      // What the reader took before it left counts; the rest stays unacked.
      this.observe();
      this.readerLeft = true;
    }
    this.broken = error;
    this.batch = [];
    this.batchRecords = 0;
    this.unwritten = [];
    clearTimeout(this.timer);
    this.onBroken(error);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
