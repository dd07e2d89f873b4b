import type { CommandContext } from '../../commands/context.js';
import { UnreachableError } from '../../errors.js';
import type { Measure } from '../outcome.js';
import type { Finding } from '../run.js';
import type { ConnectionCheck } from '../specs.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Milliseconds measured as seconds, to the microsecond (no float noise in the output). */
function toSeconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

/**
 * `check connection`: connect (TCP, TLS, the AMQP handshake, the vhost), then one round trip
 * on a channel (a passive declare of `amq.direct`, which every vhost has). Both times are
 * measured against --warn/--crit; for amqps, the days left on the broker's certificate
 * against --cert-warn/--cert-crit. A broker that cannot be reached is CRITICAL, not exit 69:
 * that is what this check is for.
 */
export async function checkConnection(spec: ConnectionCheck, context: CommandContext): Promise<Finding> {
  const target = context.brokerLabel();
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  const timed = (name: string, value: number | null): Measure => ({
    name,
    value,
    unit: 'seconds',
    warn: seconds(spec.warnMs),
    crit: seconds(spec.critMs),
  });
  const connecting = performance.now();
  let session: Awaited<ReturnType<CommandContext['connect']>>;
  try {
    session = await context.connect();
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    return { target, status: 'CRITICAL', message: error.message, measures: [timed('handshake', null)] };
  }
  try {
    const handshake = toSeconds(performance.now() - connecting);
    const asking = performance.now();
    await session.exchangeExists('amq.direct');
    const roundTrip = toSeconds(performance.now() - asking);
    const measures = [timed('handshake', handshake), timed('round_trip', roundTrip)];
    const validTo = session.certificateValidTo();
    let certificate = '';
    if (validTo) {
      const days = Math.round(((validTo.getTime() - Date.now()) / DAY_MS) * 1000) / 1000;
      measures.push({
        name: 'certificate_days_left',
        value: days,
        unit: 'days',
        warn: spec.certWarnDays,
        crit: spec.certCritDays,
        bound: 'min',
      });
      certificate = `, certificate valid for ${days < 0 ? 'no more days (expired)' : `${days.toFixed(days < 10 ? 1 : 0)} days`}`;
    }
    const ms = (value: number) => `${Math.round(value * 1000)}ms`;
    return {
      target: session.masked,
      message: `connected: handshake ${ms(handshake)}, round trip ${ms(roundTrip)}${certificate}`,
      measures,
    };
  } finally {
    await session.close();
  }
}
