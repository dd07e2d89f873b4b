import { ConfirmTracker } from '../../broker/confirmTracker.js';
import type { CommandContext } from '../../commands/context.js';
import { rawMessage } from '../../commands/publish/run.js';
import { WarrenError } from '../../errors.js';
import { humanBytes } from '../../format/table.js';
import { type CheckStatus, type Measure, statusOf, worst } from '../outcome.js';
import type { Finding } from '../run.js';
import type { NodeCheck } from '../specs.js';

/** How long the probe message may wait for its confirm before the check stops waiting. */
const PROBE_MS = 5000;

/** What GET /api/nodes tells of a node (a stopped member has only its name and running). */
export interface NodeRecord {
  name: string;
  running?: boolean;
  mem_used?: number;
  mem_limit?: number;
  mem_alarm?: boolean;
  disk_free?: number;
  disk_free_limit?: number;
  disk_free_alarm?: boolean;
  partitions?: string[];
}

/** How the probe publish ended: confirmed, blocked (with the broker's reason), or neither in time. */
export type Probe = { blocked: string } | { confirmed: true } | { waited: true };

/**
 * Publishes one empty message to the default exchange with a routing key no queue has
 * (nothing is stored): a broker in a memory or disk alarm answers a publishing connection
 * with connection.blocked, and else confirms it.
 */
async function probe(context: CommandContext): Promise<Probe> {
  const session = await context.connect();
  let result: Probe | undefined;
  let wake = () => {};
  const settled = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const end = (probe: Probe) => {
    result ??= probe;
    wake();
  };
  session.onBlocked((reason) => end({ blocked: reason }));
  session.onLost(wake);
  const timer = setTimeout(() => end({ waited: true }), PROBE_MS);
  try {
    const tracker = new ConfirmTracker();
    tracker.onSettled = () => end({ confirmed: true });
    const publisher = await session.openPublisher({ mandatory: false, tracker });
    publisher.publish(
      rawMessage(Buffer.alloc(0), {
        exchange: '',
        routingKey: 'warren.check.node.probe',
        properties: { deliveryMode: 1 },
        headers: {},
      }),
      1,
    );
    await settled;
  } finally {
    clearTimeout(timer);
  }
  if (session.lost) throw session.lost;
  // A blocked connection is never read again by the broker: a close would wait for ever.
  if (result && 'confirmed' in result) await session.close();
  else session.abandon();
  return result ?? { waited: true };
}

/** The cluster's nodes from the management API; a reason instead when it does not answer. */
async function nodes(context: CommandContext): Promise<NodeRecord[] | string> {
  try {
    const api = await context.api();
    try {
      return await api.get<NodeRecord[]>('nodes');
    } finally {
      api.close();
    }
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    return error.message;
  }
}

/**
 * `check node`: over AMQP, whether the broker blocks a publisher (connection.blocked, sent
 * for a memory or disk alarm); from the management API when it answers, each node's alarms,
 * partitions and whether it runs. An alarm, a blocked publisher, a partition or a stopped
 * member is CRITICAL; memory above --mem-warn of the high watermark is WARNING.
 */
export async function checkNode(spec: NodeCheck, context: CommandContext): Promise<Finding> {
  const [probed, listed] = await Promise.all([probe(context), nodes(context)]);
  return { target: context.brokerLabel(), ...judgeNode(probed, listed, spec.memWarn) };
}

/** What the probe and the API's node list (or why there is none) say, as a check's finding. */
export function judgeNode(
  probed: Probe,
  listed: NodeRecord[] | string,
  memWarn: number | undefined,
): Omit<Finding, 'target'> {
  const problems: string[] = [];
  const notes: string[] = [];
  const statuses: CheckStatus[] = [];
  if ('blocked' in probed) {
    problems.push(`publishers blocked (${probed.blocked})`);
    statuses.push('CRITICAL');
  } else if ('waited' in probed) {
    notes.push(`a probe message was not confirmed within ${PROBE_MS / 1000}s`);
    statuses.push('WARNING');
  }
  // The API's node statistics lag by their interval (5 s by default): a blocked publisher
  // is an alarm even before the API lists it.
  const blockedAlarms = 'blocked' in probed ? 1 : 0;
  let alarms = blockedAlarms;
  const measures: Measure[] = [];
  if (typeof listed === 'string') {
    notes.push(`alarms seen over AMQP only (${listed})`);
  } else {
    let listedAlarms = 0;
    // The node nearest its watermark speaks for the memory measures, the one with the
    // least disk for disk_free.
    let fullest: NodeRecord | undefined;
    let leastDisk: NodeRecord | undefined;
    const share = (node: NodeRecord) => (node.mem_used ?? 0) / (node.mem_limit || Number.POSITIVE_INFINITY);
    for (const node of listed) {
      if (node.running === false) {
        problems.push(`${node.name} is not running`);
        statuses.push('CRITICAL');
        continue;
      }
      if (node.mem_alarm) problems.push(`memory alarm on ${node.name}`);
      if (node.disk_free_alarm) problems.push(`disk alarm on ${node.name}`);
      listedAlarms += (node.mem_alarm ? 1 : 0) + (node.disk_free_alarm ? 1 : 0);
      if (node.partitions && node.partitions.length > 0) {
        problems.push(`${node.name} is partitioned from ${node.partitions.join(', ')}`);
        statuses.push('CRITICAL');
      }
      if (!fullest || share(node) > share(fullest)) fullest = node;
      if (node.disk_free !== undefined && (!leastDisk || node.disk_free < (leastDisk.disk_free ?? 0))) {
        leastDisk = node;
      }
    }
    alarms = Math.max(listedAlarms, blockedAlarms);
    const limit = fullest?.mem_limit ?? null;
    measures.push(
      {
        name: 'mem_used',
        value: fullest?.mem_used ?? null,
        unit: 'bytes',
        warn: memWarn !== undefined && limit !== null ? Math.round(limit * memWarn) : undefined,
        crit: limit ?? undefined,
      },
      { name: 'mem_limit', value: limit, unit: 'bytes' },
      { name: 'disk_free', value: leastDisk?.disk_free ?? null, unit: 'bytes' },
    );
    if (fullest?.mem_used !== undefined && limit) {
      notes.push(
        `memory ${humanBytes(fullest.mem_used)} of ${humanBytes(limit)} (${Math.round((fullest.mem_used / limit) * 100)}%)${listed.length > 1 ? ` on ${fullest.name}` : ''}`,
      );
    }
    if (leastDisk?.disk_free !== undefined) notes.push(`disk ${humanBytes(leastDisk.disk_free)} free`);
  }
  measures.push({ name: 'alarms', value: alarms, unit: 'count', crit: 0 });
  const status = worst([...statuses, statusOf(measures)]);
  const said = problems.length > 0 ? problems : ['no alarms, publishers not blocked'];
  return { status, message: [...said, ...notes].join('; '), measures };
}
