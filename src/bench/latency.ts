/**
 * `warren latency`'s probe: one producer sends a small message at a steady low rate, each
 * carrying its send time, and one consumer records how long each took to arrive. The two may
 * be on different nodes of a cluster, to see what crossing the cluster adds.
 */
import { performance } from 'node:perf_hooks';
import { ConfirmTracker } from '../broker/confirmTracker.js';
import type { Consumption, DeliveredMessage, Session } from '../broker/session.js';
import { nowMicros } from './clock.js';
import { Histogram } from './histogram.js';
import type { BenchSummary } from './summary.js';

/**
 * What a probe's body starts with: a message that does not (something else sent to the
 * queue) is no probe, however long it is, and is not counted.
 */
export const PROBE_MARK = Buffer.from('warren-l', 'latin1');
const PROBE_BYTES = PROBE_MARK.length + 8;

/** A probe's body: PROBE_MARK, then its send time in µs since the epoch as a float64. */
export function probeBody(sentMicros: number): Buffer {
  const body = Buffer.alloc(PROBE_BYTES);
  PROBE_MARK.copy(body);
  body.writeDoubleBE(sentMicros, PROBE_MARK.length);
  return body;
}

/** The send time a probe carries, or undefined for a message that is no probe. */
export function sentTimeOf(body: Buffer): number | undefined {
  if (body.length !== PROBE_BYTES || !body.subarray(0, PROBE_MARK.length).equals(PROBE_MARK)) {
    return undefined;
  }
  const sent = body.readDoubleBE(PROBE_MARK.length);
  return Number.isFinite(sent) ? sent : undefined;
}

export interface ProbeOptions {
  /** Publishes, and owns the queue. */
  publishOn: Session;
  /** Consumes: the same session, or one to another node. */
  consumeOn: Session;
  queue: string;
  /** Probes per second. */
  rate: number;
  /** Stop after this many probes were received, or */
  count: number | undefined;
  /** after this long (ms) of sending. */
  durationMs: number | undefined;
  /** How long to wait for probes still on their way once sending ends. */
  graceMs: number;
  /** Told once a second how the last second went. */
  onSecond: (second: SecondReport) => void;
  /** Told of a message in the queue that is no probe (not counted). */
  onStranger: (body: Buffer) => void;
  /** Ends the run early (Ctrl-C): resolves the probe with what it measured. */
  stop: AbortSignal;
}

export interface SecondReport {
  elapsedS: number;
  sent: number;
  received: number;
  /** Of the probes received in this second, µs. */
  p50: number;
  p99: number;
}

/** Runs the probe; the result is a BenchSummary, as `warren bench` reports it. */
export async function runProbe(options: ProbeOptions): Promise<BenchSummary> {
  const latency = new Histogram();
  const confirmLatency = new Histogram();
  let second = new Histogram();
  let received = 0;
  let bytes = 0;
  let wake: (() => void) | undefined;
  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const consumption: Consumption = await options.consumeOn.consume(
    options.queue,
    { prefetch: 100, noAck: true },
    (message: DeliveredMessage) => {
      const arrived = nowMicros();
      const sent = sentTimeOf(message.body);
      if (sent === undefined) {
        options.onStranger(message.body);
        return;
      }
      latency.record(arrived - sent);
      second.record(arrived - sent);
      received += 1;
      bytes += message.body.length;
      poke();
    },
    () => poke(),
  );

  const tracker = new ConfirmTracker();
  const sentAt: number[] = [];
  tracker.onSettled = (entry, _seq, status) => {
    if (status === 'confirmed' && entry.ref !== undefined) {
      confirmLatency.record(nowMicros() - (sentAt[entry.ref] as number));
    }
  };
  const publisher = await options.publishOn.openPublisher({ mandatory: true, tracker });

  const started = performance.now();
  const intervalMs = 1000 / options.rate;
  const stopped = () => options.stop.aborted;
  options.stop.addEventListener('abort', poke);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const ticker = setInterval(() => {
    const s = second.summary();
    options.onSecond({
      elapsedS: Math.round((performance.now() - started) / 1000),
      sent: tracker.published,
      received,
      p50: s.p50,
      p99: s.p99,
    });
    second = new Histogram();
  }, 1000);

  try {
    // Each probe goes at its own slot in the schedule (not "interval after the last"), so a
    // slow publish does not make the rate drift lower.
    const enough = () =>
      stopped() ||
      (options.count !== undefined && tracker.published >= options.count) ||
      (options.durationMs !== undefined && performance.now() - started >= options.durationMs);
    while (!enough()) {
      const index = tracker.published;
      const due = started + index * intervalMs;
      // A probe's arrival wakes the sleep early: sleep again until the slot comes.
      while (!stopped() && performance.now() < due) await sleep(due - performance.now());
      if (stopped()) break;
      const sent = nowMicros();
      sentAt[index] = sent;
      publisher.publish(
        {
          exchange: '',
          routingKey: options.queue,
          body: probeBody(sent),
          properties: { deliveryMode: 1 },
          headers: undefined,
        },
        index + 1,
        index,
      );
    }
    const sendingEnded = performance.now();
    // The probes still on their way, and their confirms, get graceMs to arrive.
    while (
      !stopped() &&
      (received < tracker.published - tracker.undelivered || tracker.inFlight > 0) &&
      performance.now() - sendingEnded < options.graceMs
    ) {
      await sleep(Math.min(100, options.graceMs));
    }
    const durationS = (performance.now() - started) / 1000;
    return {
      durationS,
      // A steady probe: its rates are over the whole run.
      publishS: durationS,
      consumeS: durationS,
      published: tracker.published,
      confirmed: tracker.confirmed,
      failed: tracker.undelivered,
      consumed: received,
      rates: {
        publish: tracker.published / durationS,
        confirm: tracker.confirmed / durationS,
        consume: received / durationS,
        bytes: bytes / durationS,
      },
      latency: latency.summary(),
      confirmLatency: confirmLatency.summary(),
    };
  } finally {
    clearInterval(ticker);
    options.stop.removeEventListener('abort', poke);
    await consumption.cancel().catch(() => {});
  }
}
