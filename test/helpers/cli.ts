/** Spawns the built `bin/warren.js` with real pipes, stdin, signals and exit codes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BROKER_URL } from './broker.js';

export const WARREN_BIN = fileURLToPath(new URL('../../bin/warren.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** What warren reads on stdin; 'open' leaves the pipe open for the test to write (see feedLines). */
  stdin?: string | Buffer | 'open';
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** The environment warren runs with in tests: the test broker, no colour, no inherited URL. */
export function testEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WARREN_URL: BROKER_URL,
    AMQP_URL: undefined,
    NO_COLOR: '1',
  };
  delete env['FORCE_COLOR'];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function startWarren(args: string[], options: RunOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [WARREN_BIN, ...args], {
    env: testEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.stdin === 'open') return child;
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  else child.stdin?.end();
  return child;
}

/**
 * Writes `line-1`, `line-2`, … to the stdin of a warren started with `stdin: 'open'`, as fast
 * as it reads them, and keeps on until `until` settles (a fault the test brings about), then
 * writes `more` lines and ends stdin. So the fault always comes in the middle of the stream,
 * however fast warren publishes. Stops early if warren exits. Resolves to the number of lines
 * written.
 */
export async function feedLines(child: ChildProcess, until: Promise<unknown>, more = 5_000): Promise<number> {
  const stdin = child.stdin;
  if (!stdin) throw new Error('feedLines needs a child started with stdin: open');
  let settled = false;
  let gone = child.exitCode !== null || child.signalCode !== null;
  until.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  stdin.on('error', () => {
    gone = true; // EPIPE: warren stopped reading
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  let next = 1;
  let last = Number.POSITIVE_INFINITY;
  while (!gone && next <= last) {
    if (settled && last === Number.POSITIVE_INFINITY) last = next + more - 1;
    const end = Math.min(next + 1000, last + 1);
    let chunk = '';
    for (; next < end; next += 1) chunk += `line-${next}\n`;
    if (stdin.write(chunk)) await new Promise((resolve) => setImmediate(resolve));
    else await Promise.race([new Promise((resolve) => stdin.once('drain', resolve)), exited]);
  }
  if (!gone) stdin.end();
  return next - 1;
}

export function collect(child: ChildProcess, timeoutMs = 30_000): Promise<RunResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not finish in ${timeoutMs} ms; stderr so far: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** What a running child has written so far, as text (for waiting until it has said something). */
export function outputSoFar(child: ChildProcess): { stdout(): string; stderr(): string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { stdout: () => stdout, stderr: () => stderr };
}

/**
 * Starts `warren -v COMMAND…` (tail, events) and waits until its tap queue is bound, which
 * -v says; resolves with the tap queue's name and the run's result to come.
 */
export async function startTapping(args: string[], timeoutMs = 30_000) {
  const child = startWarren(['-v', ...args]);
  const done = collect(child, timeoutMs);
  let stderr = '';
  const tapQueue = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /through queue '([^']+)'/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('close', () => reject(new Error(`${args[0]} ended before binding: ${stderr}`)));
  });
  return { child, done, tapQueue };
}

export function runWarren(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return collect(startWarren(args, options), options.timeoutMs);
}

/** Parses NDJSON stdout into objects. */
export function ndjson(stdout: Buffer): Record<string, unknown>[] {
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
