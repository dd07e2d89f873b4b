import type { CommandContext } from '../commands/context.js';
import { UnreachableError, WarrenError } from '../errors.js';
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
};

/** A short name for what a spec checks, before it has run (for an UNKNOWN result). */
function targetOf(spec: CheckSpec, context: CommandContext): string {
  void spec;
  return context.brokerLabel();
}

/**
 * Runs every check at once and reports each. A broker that cannot be reached ends the run
 * with exit 69 (a connection check reports it as CRITICAL instead, in its kind's code; under
 * --watch it is each other check's UNKNOWN); any other failure to tell is that check's
 * UNKNOWN, with the reason.
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
        if (!(error instanceof WarrenError)) throw error;
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
