/** `warren export`: a vhost read through the management API, written as a topology file. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { ExitCode, WarrenError } from '../../errors.js';
import { type Export, exportTopology, topologyText } from '../../inventory/export.js';
import { loadSnapshot } from '../../inventory/snapshot.js';
import type { CommandContext } from '../context.js';

export interface ExportOptions {
  match: RegExp | undefined;
  vhost: string | undefined;
  output: string | undefined;
  includeAutoDelete: boolean;
}

export async function exportVhost(options: ExportOptions, context: CommandContext): Promise<void> {
  const api = await context.api();
  const vhost = options.vhost ?? api.vhost;
  const spinner = await context.spinner(`reading vhost '${vhost}' from ${api.target.masked}…`);
  let result: Export;
  try {
    const snapshot = await loadSnapshot(api, vhost, { statistics: false });
    result = exportTopology(snapshot, { match: options.match, includeAutoDelete: options.includeAutoDelete });
  } finally {
    spinner.stop();
    api.close();
  }
  const text = topologyText(result.topology);
  if (options.output === undefined) context.io.stdout.write(text);
  else writeWhole(options.output, text);
  summarise(result, vhost, context);
}

/** Written beside the file and renamed: a failed export never leaves half a file. */
function writeWhole(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new WarrenError(`--output: cannot write '${path}' (${code})`, ExitCode.failure, { cause: error });
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function summarise({ topology, leftOut }: Export, vhost: string, context: CommandContext): void {
  context.reporter.info(
    `exported ${count(topology.exchanges.length, 'exchange')}, ${count(topology.queues.length, 'queue')} and ${count(topology.bindings.length, 'binding')} of vhost '${vhost}'`,
  );
  for (const { kind, reason, names } of leftOut) {
    context.reporter.info(`left out ${count(names.length, kind)}: ${reason}`);
    for (const name of names)
      context.reporter.detail(`left out ${kind} ${kind === 'binding' ? name : `'${name}'`}`);
  }
}
