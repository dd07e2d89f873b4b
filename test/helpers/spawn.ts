/** More ways to run warren: with files as stdin/stdout, under a shell, or with a hand on its stdout. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collect, type RunResult, testEnv, WARREN_BIN } from './cli.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FileRunOptions {
  /** A file opened as warren's stdin (a real file descriptor, as with `< file`). */
  stdinPath?: string;
  /** A file warren's stdout is redirected to (as with `> file`); truncated first. */
  stdoutPath?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs warren with files in place of its stdin/stdout, as a shell redirection would. */
export function runWarrenWithFiles(args: string[], options: FileRunOptions): Promise<RunResult> {
  const stdinFd = options.stdinPath === undefined ? 'ignore' : openSync(options.stdinPath, 'r');
  const stdoutFd = options.stdoutPath === undefined ? 'pipe' : openSync(options.stdoutPath, 'w');
  const child = spawn(process.execPath, [WARREN_BIN, ...args], {
    env: testEnv(options.env),
    stdio: [stdinFd, stdoutFd, 'pipe'],
  });
  if (typeof stdinFd === 'number') closeSync(stdinFd);
  if (typeof stdoutFd === 'number') closeSync(stdoutFd);
  return collect(child, options.timeoutMs);
}

/** Runs a bash script (cwd: the repository root unless given) with warren's test environment. */
export function runShell(
  script: string,
  options: { env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const child = spawn('bash', ['-c', script], {
    cwd: options.cwd ?? REPO_ROOT,
    env: testEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, options.timeoutMs);
}

/** True when text looks like it holds a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m.test(text) || /\n\s+at (async )?\S+ \(/.test(text);
}
