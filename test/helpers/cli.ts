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
  stdin?: string | Buffer;
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
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  else child.stdin?.end();
  return child;
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
