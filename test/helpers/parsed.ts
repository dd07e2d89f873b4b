import type { ConsumeOptions } from '../../src/commands/consume.js';
import type { ExecOptions } from '../../src/commands/exec.js';
import type { ProfileOptions } from '../../src/commands/profile.js';
import type { PublishOptions } from '../../src/commands/publish.js';
import type { ReplayOptions } from '../../src/commands/replay.js';
import type { RpcOptions } from '../../src/commands/rpc.js';
import type { TailOptions } from '../../src/commands/tail.js';
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
