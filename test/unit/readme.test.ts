import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/program.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {} };

function flags(command: Command, path: string): [string, string][] {
  const own = command.options
    .filter((o) => !o.hidden && o.long)
    .map((o): [string, string] => [path, o.long as string]);
  return [...own, ...command.commands.flatMap((sub) => flags(sub, `${path} ${sub.name()}`))];
}

describe('README', () => {
  it.each(flags(buildProgram(io), 'warren'))('documents %s %s', (_path, flag) => {
    expect(readme).toContain(flag);
  });

  it('has a section for every command', () => {
    for (const command of buildProgram(io).commands) {
      if (command.name() === 'completion') expect(readme).toContain('warren completion');
      else expect(readme).toContain(`## \`warren ${command.name()}\``);
    }
  });
});
