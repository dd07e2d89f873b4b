/**
 * When each replayed message may go: `--timing original` keeps the recorded gaps (scaled by
 * `--speed`), `--rate` caps the throughput. Times are kept against the start, not from
 * message to message, so waiting never adds up into drift; a message that is already late
 * (the broker was slower than the recording) goes at once.
 */
export interface PacerOptions {
  timing: 'none' | 'original';
  speed: number;
  /** Messages per second at most. */
  rate: number | undefined;
}

export class Pacer {
  private startedAt: number | undefined;
  private firstRecordedAt: number | undefined;
  /** When the previous message was due (not when it went: lateness is caught up). */
  private lastDue = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: PacerOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether messages are paced at all (otherwise they go as fast as confirms allow). */
  get active(): boolean {
    return this.options.timing === 'original' || this.options.rate !== undefined;
  }

  /** How long to wait before sending the next message, recorded at `recordedAt` (ms). */
  delayFor(recordedAt: number | undefined): number {
    const now = this.now();
    if (this.startedAt === undefined) {
      this.startedAt = now;
      this.firstRecordedAt = recordedAt;
    }
    let due = this.startedAt;
    if (this.options.timing === 'original' && recordedAt !== undefined) {
      this.firstRecordedAt ??= recordedAt;
      due = Math.max(due, this.startedAt + (recordedAt - this.firstRecordedAt) / this.options.speed);
    }
    if (this.options.rate !== undefined) due = Math.max(due, this.lastDue + 1000 / this.options.rate);
    this.lastDue = due;
    return Math.max(0, due - now);
  }
}
