import type { ExecOptions } from '../../src/commands/consume/exec.js';
import type { ConsumeOptions } from '../../src/commands/consume/run.js';
import type { ProfileOptions } from '../../src/commands/profile/run.js';
import type { RpcOptions } from '../../src/commands/publish/rpc.js';
import type { PublishOptions } from '../../src/commands/publish/run.js';
import type { ReplayOptions } from '../../src/commands/replay/run.js';
import type { TailOptions } from '../../src/commands/tail/run.js';
import type { GlobalOptions } from '../../src/globalOptions.js';
import type { ParsedCommand } from '../../src/program.js';

/** A parse result with its options typed by the command, for tests that look inside. */
export type KnownParse = { global: GlobalOptions } & (
  | { command: 'publish'; options: PublishOptions }
  | { command: 'rpc'; options: RpcOptions }
  | { command: 'consume'; options: ConsumeOptions }
  | { command: 'exec'; options: ExecOptions }
  | { command: 'tail'; options: TailOptions }
  | { command: 'replay'; options: ReplayOptions }
  | { command: 'profile'; options: ProfileOptions }
  | { command: 'declare' | 'delete' | 'purge' | 'completion'; options: unknown }
);

export function known(parsed: ParsedCommand | undefined): KnownParse | undefined {
  return parsed as KnownParse | undefined;
}
