import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
// The one place the reference learns where the program is built.
import { buildProgram } from '../program.js';

/**
 * warren's command tree, as the reference is generated from it: built with an empty
 * environment, so that what the help shows (the config file's path) is the same on every
 * machine.
 */
export function commandTree(): Command {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
  return buildProgram(io);
}
