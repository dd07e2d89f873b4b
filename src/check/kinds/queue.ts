import type { Session } from '../../broker/session.js';
import type { CommandContext } from '../../commands/context.js';
import { type Measure, statusOf, worst } from '../outcome.js';
import type { Finding } from '../run.js';
import type { Bounds, QueueCheck } from '../specs.js';
import { apiStats, noQueue, peek, QUORUM_NOT_PEEKED } from './peek.js';

/** Whether a threshold pair holds a threshold. */
function given(bounds: Bounds | undefined): boolean {
  return bounds?.warn !== undefined || bounds?.crit !== undefined;
}

function thresholds(bounds: Bounds | undefined, scale = 1): { warn?: number; crit?: number } {
  const scaled = (value: number | undefined) => (value === undefined ? undefined : value / scale);
  return { warn: scaled(bounds?.warn), crit: scaled(bounds?.crit) };
}

/**
 * A measure has one bound, so a consumer count held both ways is two measures: `consumers`
 * against the minimum, `consumers_max` against the maximum. With one of them only, it is
 * `consumers` alone.
 */
function consumerMeasures(count: number | null, spec: QueueCheck): Measure[] {
  const measure = (name: string, bounds: Bounds | undefined, bound: 'min' | 'max'): Measure => ({
    name,
    value: count,
    unit: 'count',
    ...thresholds(bounds),
    bound,
  });
  if (!given(spec.minConsumers)) return [measure('consumers', spec.maxConsumers, 'max')];
  const atLeast = measure('consumers', spec.minConsumers, 'min');
  return given(spec.maxConsumers) ? [atLeast, measure('consumers_max', spec.maxConsumers, 'max')] : [atLeast];
}

/** A rate as people read it: `1.5/s`. */
function perSecond(rate: number): string {
  return `${Number(rate.toFixed(rate < 10 ? 1 : 0))}/s`;
}

/**
 * `check queue`: a passive declare gives the ready messages (`depth`) and the consumers over
 * AMQP alone; the management API adds the unacknowledged messages and the rates when it
 * answers. With an age threshold, the head message is peeked (and put back) and its age
 * taken from its `timestamp` property. A threshold that could not be measured (no API, a head
 * without a timestamp) makes the check UNKNOWN, unless a measured value is worse.
 */
export async function checkQueue(spec: QueueCheck, context: CommandContext): Promise<Finding> {
  const { queue } = spec;
  const depthMeasure = (value: number | null): Measure => ({
    name: 'depth',
    value,
    unit: 'messages',
    ...thresholds(spec.depth),
  });
  const session = await context.connect();
  try {
    const counts = await session.queueInfo(queue);
    if (!counts) return noQueue(queue, [depthMeasure(null)]);
    const ageAsked = given(spec.ageMs);
    const api = await apiStats(context, queue);
    const quorum = 'stats' in api && api.stats.type === 'quorum';
    const head = ageAsked && !quorum ? await headTimestamp(session, queue) : undefined;
    const unacked = 'stats' in api ? (api.stats.messages_unacknowledged ?? null) : null;
    const measures: Measure[] = [
      depthMeasure(counts.messageCount),
      { name: 'unacked', value: unacked, unit: 'messages', ...thresholds(spec.unacked) },
      ...consumerMeasures(counts.consumerCount, spec),
    ];
    const said = [`${counts.messageCount} ready`];
    if (unacked !== null) said.push(`${unacked} unacked`);
    said.push(`${counts.consumerCount} consumer${counts.consumerCount === 1 ? '' : 's'}`);
    const unknown: string[] = [];
    const noUnacked = (why: string) => {
      const note = `no unacked count: ${why}`;
      if (given(spec.unacked)) unknown.push(note);
      else said.push(note);
    };
    if ('why' in api) noUnacked(`the management API did not answer (${api.why})`);
    else {
      // A queue just declared has no statistics in the API until its next collection.
      if (unacked === null) noUnacked("not in the management API's statistics yet");
      const stats = api.stats.message_stats;
      const rateIn = stats?.publish_details?.rate;
      const rateOut = stats?.deliver_get_details?.rate;
      if (rateIn !== undefined || rateOut !== undefined)
        said.push(`in ${perSecond(rateIn ?? 0)}, out ${perSecond(rateOut ?? 0)}`);
    }
    if (ageAsked) {
      let age: number | null = null;
      if (quorum) unknown.push(`no head age: ${QUORUM_NOT_PEEKED}`);
      else if (head === undefined) said.push('no head message');
      else if (head === null) unknown.push('the head message has no timestamp property');
      else {
        age = Math.round((Date.now() / 1000 - head) * 1000) / 1000;
        said.push(`head ${Math.round(age)}s old`);
      }
      measures.push({ name: 'head_age', value: age, unit: 'seconds', ...thresholds(spec.ageMs, 1000) });
    }
    const measured = statusOf(measures);
    return {
      target: queue,
      message: [...said, ...unknown].join(', '),
      measures,
      status: unknown.length > 0 ? worst([measured, 'UNKNOWN']) : measured,
    };
  } finally {
    await session.close();
  }
}

/** The head message's timestamp (seconds since the epoch): null when it has none, undefined when the queue is empty. */
async function headTimestamp(session: Session, queue: string): Promise<number | null | undefined> {
  let timestamp: number | null | undefined;
  await peek(session, queue, 1, (message) => {
    timestamp = message.properties.timestamp ?? null;
    return false;
  });
  return timestamp;
}
