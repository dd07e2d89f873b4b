/** warren's commands, in the order `warren --help` lists them: a new command is one line here. */
import { benchCommand } from './bench/command.js';
import { checkCommand } from './check/command.js';
import { completionCommand } from './completion/command.js';
import { consumeCommand } from './consume/command.js';
import { declareCommand } from './declare/command.js';
import type { CommandDefinition } from './define.js';
import { deleteCommand } from './delete/command.js';
import { eventsCommand } from './events/command.js';
import { exportCommand } from './export/command.js';
import { infoCommand } from './info/command.js';
import { latencyCommand } from './latency/command.js';
import { lsCommand } from './ls/command.js';
import { profileCommand } from './profile/command.js';
import { publishCommand } from './publish/command.js';
import { purgeCommand } from './purge/command.js';
import { replayCommand } from './replay/command.js';
import { routeCommand } from './route/command.js';
import { serveCommand } from './serve/command.js';
import { tailCommand } from './tail/command.js';

export const COMMANDS: CommandDefinition[] = [
  publishCommand,
  consumeCommand,
  tailCommand,
  serveCommand,
  replayCommand,
  eventsCommand,
  declareCommand,
  deleteCommand,
  purgeCommand,
  lsCommand,
  infoCommand,
  routeCommand,
  exportCommand,
  checkCommand,
  benchCommand,
  latencyCommand,
  profileCommand,
  completionCommand,
];
