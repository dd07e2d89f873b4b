import type { ReceivedMessage } from '../../broker/message.js';
import type { CommandContext } from '../../commands/context.js';
import { sendRequest } from '../../commands/publish/rpc.js';
import { formatDuration } from '../../duration.js';
import { NotDeliveredError, TimeoutError } from '../../errors.js';
import { compileMatches } from '../../match/predicate.js';
import { humanLine } from '../../ui/terminalText.js';
import type { Measure } from '../outcome.js';
import { type Finding, rpcTarget } from '../run.js';
import type { RpcCheck } from '../specs.js';

/** How much of a reply's body a result line quotes. */
const PREVIEW_CHARS = 80;

/** The start of a reply's body, one safe line, for "what came instead". */
function preview(message: ReceivedMessage): string {
  const text = message.body.toString('utf8');
  const cut = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  return `${message.body.length} bytes: ${humanLine(JSON.stringify(cut))}`;
}

/**
 * `check rpc`: sends one request as `publish --rpc` does (direct reply-to, a fresh
 * correlation id, mandatory; transient, and expiring after --within) and waits --within for its reply. OK with the reply time; a
 * reply later than --warn is WARNING; none in time, one that fails a --match, or a request
 * no queue takes (returned) is CRITICAL.
 */
export async function checkRpc(spec: RpcCheck, context: CommandContext): Promise<Finding> {
  // Compiled first: a malformed --match is a usage error before anything is sent.
  const matches = compileMatches(spec.matches ?? []);
  const target = rpcTarget(spec);
  const measure = (value: number | null): Measure => ({
    name: 'reply_time',
    value,
    unit: 'seconds',
    warn: spec.warnMs === undefined ? undefined : spec.warnMs / 1000,
    crit: spec.withinMs / 1000,
  });
  const session = await context.connect();
  let outcome: Awaited<ReturnType<typeof sendRequest>>;
  try {
    outcome = await sendRequest(
      session,
      {
        body: Buffer.from(spec.body, 'utf8'),
        overrides: {
          exchange: spec.exchange,
          routingKey: spec.routingKey,
          // A request nobody answered in time is of no use to anyone later: it expires then,
          // so that a service that is down does not come back to a backlog of checks.
          properties: { expiration: String(spec.withinMs), deliveryMode: 1 },
          headers: {},
        },
        mandatory: true,
        timeoutMs: spec.withinMs,
      },
      context,
    );
  } finally {
    await session.close();
  }
  if (!outcome.reply) {
    const failure = outcome.failure;
    if (failure instanceof TimeoutError) {
      return {
        target,
        status: 'CRITICAL',
        message: `no reply within ${formatDuration(spec.withinMs)}`,
        measures: [measure(null)],
      };
    }
    if (failure instanceof NotDeliveredError) {
      // publish's words for one message ("message not delivered: returned by the broker
      // (312 NO_ROUTE)"), said of the request.
      const message = `request ${failure.message.replace(/^message /, '')}`;
      return { target, status: 'CRITICAL', message, measures: [measure(null)] };
    }
    throw failure;
  }
  const seconds = Math.round(outcome.elapsedMs * 1000) / 1e6;
  const took = `in ${formatDuration(outcome.elapsedMs)}`;
  if (!matches(outcome.reply)) {
    return {
      target,
      status: 'CRITICAL',
      message: `the reply ${took} does not match ${(spec.matches ?? []).join(' and ')}: ${preview(outcome.reply)}`,
      measures: [measure(seconds)],
    };
  }
  return { target, message: `reply ${took}`, measures: [measure(seconds)] };
}
