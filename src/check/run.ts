import type { CommandContext } from '../commands/context.js';
import { DataError, UnreachableError, UsageError, WarrenError } from '../errors.js';
import { type CheckResult, type CheckStatus, type Measure, statusOf } from './outcome.js';
import type { CheckSpec, RpcCheck } from './specs.js';

/** What a check found: its measures, and a status when the measures alone do not say it. */
export interface Finding {
  target: string;
  message: string;
  measures: Measure[];
  status?: CheckStatus;
}

/** Runs one check of a kind. */
export type CheckRunner<S extends CheckSpec = CheckSpec> = (
  spec: S,
  context: CommandContext,
) => Promise<Finding>;

/** Each kind's code, loaded when a check of the kind runs. */
const KINDS: { [K in CheckSpec['kind']]: () => Promise<CheckRunner<Extract<CheckSpec, { kind: K }>>> } = {
  connection: () => import('./kinds/connection.js').then((m) => m.checkConnection),
  queue: () => import('./kinds/queue.js').then((m) => m.checkQueue),
  message: () => import('./kinds/message.js').then((m) => m.checkMessage),
  rpc: () => import('./kinds/rpc.js').then((m) => m.checkRpc),
  topology: () => import('./kinds/topology.js').then((m) => m.checkTopologyFile),
  node: () => import('./kinds/node.js').then((m) => m.checkNode),
};

/** A short name for what a spec checks, before it has run (for an UNKNOWN result). */
function targetOf(spec: CheckSpec, context: CommandContext): string {
  if (spec.kind === 'queue' || spec.kind === 'message') return spec.queue;
  if (spec.kind === 'rpc') return rpcTarget(spec);
  if (spec.kind === 'topology') return spec.file;
  return context.brokerLabel();
}

/**
 * Runs every check at once and reports each. A broker that cannot be reached ends the run
 * with exit 69 (a connection check reports it as CRITICAL instead, in its kind's code; under
 * --watch it is each other check's UNKNOWN), and a check that cannot be asked as given with
 * its usage (2) or data (65) code; any other failure to tell is that check's UNKNOWN, with
 * the reason.
 */
export async function runChecks(
  specs: CheckSpec[],
  context: CommandContext,
  options: {
    /** --watch: a broker out of reach is that round's UNKNOWN, not the end of the run. */
    unreachableIsUnknown?: boolean;
  } = {},
): Promise<CheckResult[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const started = performance.now();
      try {
        const run = (await KINDS[spec.kind]()) as CheckRunner;
        const finding = await run(spec, context);
        return {
          kind: spec.kind,
          target: finding.target,
          status: finding.status ?? statusOf(finding.measures),
          message: finding.message,
          measures: finding.measures,
          elapsedMs: performance.now() - started,
        };
      } catch (error) {
        // A check that cannot be asked as given (a malformed --match, a topology file that
        // is not one) ends the run with its own code (2, 65), as the same input to another
        // command would: it says nothing about the broker.
        if (error instanceof UsageError || error instanceof DataError || !(error instanceof WarrenError)) {
          throw error;
        }
        if (error instanceof UnreachableError && !options.unreachableIsUnknown) throw error;
        return {
          kind: spec.kind,
          target: targetOf(spec, context),
          status: 'UNKNOWN' as const,
          message: error.message,
          measures: [],
          elapsedMs: performance.now() - started,
        };
      }
    }),
  );
}

/** An rpc check's target: the exchange (`(default)` for '') and the routing key. */
export function rpcTarget(spec: RpcCheck): string {
  return `${spec.exchange || '(default)'}:${spec.routingKey}`;
}
