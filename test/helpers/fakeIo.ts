import { PassThrough } from 'node:stream';
import { main } from '../../src/main.js';
import type { Io } from '../../src/ui/io.js';

export interface FakeIo {
  io: Io;
  stdout(): string;
  stderr(): string;
}

/** Streams that capture what warren writes; stdout or stdin is a terminal only when asked. */
export function fakeIo(options: { tty?: boolean; stdinTty?: boolean } = {}): FakeIo {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const stdin = new PassThrough();
  const io: Io = {
    stdin: options.stdinTty ? Object.assign(stdin, { isTTY: true }) : stdin,
    stdout: options.tty ? Object.assign(stdout, { isTTY: true }) : stdout,
    stderr,
    env: {},
  };
  return {
    io,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

/** Runs main and lets the capturing streams deliver what was written. */
export async function runMain(argv: string[], options: { tty?: boolean; stdinTty?: boolean } = {}) {
  const fake = fakeIo(options);
  const code = await main(argv, fake.io);
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: fake.stdout(), stderr: fake.stderr() };
}
