import type { CommandContext } from '../commands/context.js';
import { UnreachableError, UsageError, WarrenError } from '../errors.js';
import { type CheckResult, type CheckStatus, type Measure, statusOf } from './outcome.js';
import type { CheckSpec } from './specs.js';

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
};

/** A short name for what a spec checks, before it has run (for an UNKNOWN result). */
function targetOf(spec: CheckSpec, context: CommandContext): string {
  if (spec.kind === 'queue' || spec.kind === 'message') return spec.queue;
  return context.brokerLabel();
}

/**
 * Runs every check at once and reports each. A broker that cannot be reached ends the run
 * with exit 69 (a connection check reports it as CRITICAL instead, in its kind's code); any
 * other failure to tell is that check's UNKNOWN, with the reason.
 */
export async function runChecks(specs: CheckSpec[], context: CommandContext): Promise<CheckResult[]> {
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
        // A command line warren cannot run (a malformed --match) is exit 2, not a check's UNKNOWN.
        if (
          error instanceof UnreachableError ||
          error instanceof UsageError ||
          !(error instanceof WarrenError)
        )
          throw error;
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
