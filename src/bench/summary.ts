/** What `warren bench` and `warren latency` report at the end of a run, as plain data. */
import type { LatencySummary } from './histogram.js';

export interface BenchSummary {
  /** How long the measured part of the run took, in seconds: from the first publish to the end. */
  durationS: number;
  /** From the first publish to the last confirm, and to the last delivery: the rates' spans. */
  publishS: number;
  consumeS: number;
  published: number;
  confirmed: number;
  /** Publishes the broker returned (unroutable) or nacked. */
  failed: number;
  consumed: number;
  /**
   * Messages per second: publish and confirm over publishS, consume over consumeS; bytes:
   * body bytes consumed per second, over consumeS.
   */
  rates: { publish: number; confirm: number; consume: number; bytes: number };
  /** End to end, from the send time carried in each message to its delivery, in µs. */
  latency: LatencySummary;
  /** From publish to the broker's confirm, in µs. */
  confirmLatency: LatencySummary;
}

/** The exit code of a run whose `--assert` did not all hold (docs/exit-codes.md). */
export const ASSERTION_FAILED_EXIT = 9;
