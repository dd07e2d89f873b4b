import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, type RunResult, runWarren, startWarren, WARREN_BIN } from '../helpers/cli.js';
import { blocksUnder, type CodeBlock, readDoc, shellLines } from '../helpers/shellExamples.js';
import { runShell } from '../helpers/spawn.js';

/**
 * The README's quick start, the CI smoke check of docs/commands/tail.md and the sessions the
 * docs show in console blocks, run as the docs write them (read out of the markdown, names
 * made unique), through a `warren` on the PATH, against the real broker.
 */

let broker: TestBroker;
let root: string;
/** PATH with a `warren` that runs the built bin/warren.js, as `npm link` would give. */
let path: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  root = mkdtempSync(join(tmpdir(), 'warren-examples-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'warren'), `#!/bin/sh\nexec '${process.execPath}' '${WARREN_BIN}' "$@"\n`);
  chmodSync(join(bin, 'warren'), 0o755);
  path = [bin, process.env['PATH'] ?? ''].join(delimiter);
});

afterAll(async () => {
  await broker.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh working folder, as a user's current directory. */
function workDir(): string {
  return mkdtempSync(join(root, 'cwd-'));
}

/** Runs a bash script in `cwd` with warren on the PATH and the test broker in WARREN_URL. */
function bash(script: string, cwd: string): Promise<RunResult> {
  return runShell(script, { cwd, env: { PATH: path }, timeoutMs: 60_000 });
}

/** Replaces whole names (not parts of longer names) in a shell text: `orders` → unique. */
function renamed(text: string, names: Record<string, string>): string {
  return Object.entries(names).reduce(
    (out, [from, to]) => out.replace(new RegExp(`(?<![\\w.-])${from}(?![\\w-])`, 'g'), to),
    text,
  );
}

interface Step {
  text: string;
  code: number;
  stdout: string;
  stderr: string;
}

const MARK = '\x1e';

/**
 * Runs shell lines one after another in one shell (so `Q=…` carries on), and says what
 * each printed and how it ended. `pipefail`, as a careful script would; no `-e`.
 */
async function runSteps(lines: string[], cwd: string): Promise<Step[]> {
  const mark = `__step() { local rc=$?; printf '${MARK}%s\\n' "$rc"; printf '${MARK}%s\\n' "$rc" >&2; return "$rc"; }`;
  const script = ['set -o pipefail', mark, ...lines.flatMap((line) => [line, '__step'])].join('\n');
  const result = await bash(script, cwd);
  const split = (text: string) => text.split(new RegExp(`${MARK}(\\d+)\\n`));
  const out = split(result.stdout.toString('utf8'));
  const err = split(result.stderr);
  return lines.map((text, i) => ({
    text,
    stdout: out[2 * i] ?? '',
    stderr: err[2 * i] ?? '',
    code: Number(out[2 * i + 1] ?? Number.NaN),
  }));
}

function stepRunning(steps: Step[], pattern: RegExp): Step {
  const step = steps.find(({ text }) => pattern.test(text));
  if (!step) throw new Error(`no step matches ${pattern}: ${steps.map(({ text }) => text).join('\n')}`);
  return step;
}

function bodies(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { body: string }).body);
}

/** Whether the broker has the queue or exchange (a failed check closes only its own channel). */
async function exists(kind: 'queue' | 'exchange', name: string): Promise<boolean> {
  const channel = await broker.connection.createChannel();
  channel.on('error', () => {});
  try {
    await (kind === 'queue' ? channel.checkQueue(name) : channel.checkExchange(name));
    await channel.close();
    return true;
  } catch {
    return false;
  }
}

describe('the README quick start', () => {
  it('runs as written: publishes, peeks, takes, captures, replays and deletes its queue', async () => {
    const queue = uniqueName('readme-quickstart');
    const lines = blocksUnder('README.md', '## Quick start', true)
      .flatMap(shellLines)
      .map(({ text }) => text.replace(/^Q=.*?(?=\s+#|$)/, `Q=${queue}`));
    expect(lines[0]).toMatch(/^Q=/);
    expect(lines.some((line) => / --expires /.test(line))).toBe(true); // an interrupted run leaves nothing
    const cwd = workDir();

    const steps = await runSteps(lines, cwd);

    expect(steps.map(({ text, code, stderr }) => ({ text, code, stderr: code === 0 ? '' : stderr }))).toEqual(
      steps.map(({ text }) => ({ text, code: 0, stderr: '' })),
    );
    expect(stepRunning(steps, /warren declare queue/).stdout).toBe(`${queue}\n`); // "prints its name"
    const published = ['{"id":42}', '1', '2', '3', '4', '5'];
    const peeked = bodies(stepRunning(steps, /--ack-mode requeue/).stdout);
    expect(peeked.sort()).toEqual([...published].sort());
    const taken = stepRunning(steps, /--count 3 \| jq -r \.body/)
      .stdout.split('\n')
      .filter(Boolean);
    expect(taken).toHaveLength(3);
    const captured = bodies(readFileSync(join(cwd, 'capture.ndjson'), 'utf8'));
    expect([...taken, ...captured].sort()).toEqual([...published].sort());
    // "The last line says `queue 'demo-ada-4242' deleted: 3 messages with it`."
    const said = /The last line says `([^`]+)`/.exec(readDoc('README.md'))?.[1];
    expect(said).toBeDefined();
    const deleted = stepRunning(steps, /warren delete queue/);
    expect(deleted.stderr.trim()).toBe(said?.replace(/'[^']*'/, `'${queue}'`));
    expect(await exists('queue', queue)).toBe(false);
  });
});

describe('the CI smoke check of docs/commands/tail.md', () => {
  const [block] = blocksUnder('docs/commands/tail.md', '## CI smoke check');
  const script = (block as CodeBlock).body.map(({ text }) => text).join('\n');

  /** The script with unique exchange names, the test broker, and a topology that expires. */
  function setUp(): { cwd: string; names: Record<string, string>; queues: string[]; script: string } {
    const names = { orders: uniqueName('ci-orders'), billing: uniqueName('ci-billing') };
    const queues = [uniqueName('ci-service-x'), uniqueName('ci-billing-log')];
    const cwd = workDir();
    // Each exchange auto-deletes once the queue bound to it expires: nothing outlives a crash.
    const topology = {
      exchanges: [
        { name: names.orders, type: 'topic', durable: false, autoDelete: true },
        { name: names.billing, type: 'topic', durable: false, autoDelete: true },
      ],
      queues: queues.map((name) => ({ name, durable: false, expires: '2m' })),
      bindings: [
        { source: names.orders, queue: queues[0], key: 'order.created' },
        { source: names.billing, queue: queues[1], key: 'invoice.#' },
      ],
    };
    writeFileSync(join(cwd, 'topology.json'), JSON.stringify(topology, null, 2));
    const url = /^export WARREN_URL=(\S+)$/m.exec(script)?.[1];
    expect(url).toBeDefined();
    return {
      cwd,
      names,
      queues,
      script: renamed(script, names).replace(`WARREN_URL=${url}`, `WARREN_URL=${BROKER_URL}`),
    };
  }

  async function topologyGone(names: Record<string, string>, queues: string[]): Promise<boolean> {
    for (const queue of queues) if (await exists('queue', queue)) return false;
    for (const exchange of Object.values(names)) if (await exists('exchange', exchange)) return false;
    return true;
  }

  it('passes (exit 0) when service X emits the event, keeps the evidence, and tears down', async () => {
    const { cwd, names, queues, script: check } = setUp();
    expect((await runWarren(['declare', '-q', '--file', join(cwd, 'topology.json')])).code).toBe(0);
    // Service X: turns each order.created into an invoice.created, as the check expects.
    const service = startWarren(
      [
        'consume',
        queues[0] as string,
        '--exec',
        `warren publish -q --exchange ${names.billing} --routing-key invoice.created`,
        '--pass-url',
      ],
      { env: { PATH: path } },
    );
    const serviceDone = collect(service, 120_000);
    try {
      await eventually(async () => (await broker.channel.checkQueue(queues[0] as string)).consumerCount > 0);
      writeFileSync(join(cwd, 'check.sh'), check);
      const result = await bash('bash ./check.sh', cwd);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const evidence = readFileSync(join(cwd, 'evidence.ndjson'), 'utf8').split('\n').filter(Boolean);
      expect(evidence.map((line) => JSON.parse(line))).toMatchObject([
        { exchange: names.billing, routingKey: 'invoice.created', body: '{"orderId":42}' },
      ]);
      expect(await topologyGone(names, queues)).toBe(true);
    } finally {
      service.kill('SIGTERM');
      await serviceDone.catch(() => undefined);
    }
  });

  it('fails with exit 3 when the event never comes, and its trap still tears down', async () => {
    const { cwd, names, queues, script: check } = setUp();
    // Nothing answers; a 1 s wait rather than the 10 s the docs give a real service.
    expect(check).toContain('--timeout 10s');
    writeFileSync(join(cwd, 'check.sh'), check.replace('--timeout 10s', '--timeout 1s'));
    const result = await bash('bash ./check.sh', cwd);
    expect(result.code).toBe(3);
    expect(await topologyGone(names, queues)).toBe(true);
  });
});

/** A console block's shown output, with what changes from run to run made alike. */
function normalized(lines: string[]): string[] {
  return lines
    .map((line) =>
      line
        .replace(/amq\.gen-[\w-]+/g, 'amq.gen-…')
        .replace(/\d+ms \(\d+ msg\/s\)/g, 'Nms (N msg/s)')
        .trimEnd(),
    )
    .filter(Boolean)
    .sort();
}

/** Each `$ ` line of a console block with the lines it shows printed, names renamed. */
function consoleSession(
  block: CodeBlock,
  names: Record<string, string>,
): { line: string; shown: string[] }[] {
  const session: { line: string; shown: string[] }[] = [];
  const commands = new Map(shellLines(block).map(({ line, text }) => [line, text]));
  const indent = /^\s*/.exec(block.body[0]?.text ?? '')?.[0].length ?? 0;
  for (const { line, text } of block.body) {
    const command = commands.get(line);
    if (command !== undefined) session.push({ line: renamed(command, names), shown: [] });
    else if (!/^\s*\$ /.test(text)) session.at(-1)?.shown.push(renamed(text.slice(indent), names));
  }
  return session;
}

describe('the console sessions the docs show', () => {
  async function check(file: string, heading: string, names: Record<string, string>): Promise<Step[]> {
    const [block] = blocksUnder(file, heading);
    const session = consoleSession(block as CodeBlock, names);
    const steps = await runSteps(
      session.map(({ line }) => line),
      workDir(),
    );
    session.forEach(({ line, shown }, i) => {
      const step = steps[i] as Step;
      const printed = `${step.stderr}${step.stdout}`.split('\n');
      expect({ line, printed: normalized(printed) }).toEqual({ line, printed: normalized(shown) });
      const exit = /#.*\bexit (\d+)\b/.exec(line)?.[1];
      if (exit !== undefined) expect(step.code).toBe(Number(exit));
    });
    return steps;
  }

  it('README.md: a fresh server-named queue, a message with a header, and jq', async () => {
    const steps = await check('README.md', '# warren', {});
    const name = /queue '(amq\.gen-[\w-]+)' created/.exec(steps[0]?.stderr ?? '')?.[1];
    expect(name).toBeDefined();
    await broker.channel.deleteQueue(name as string);
  });

  it('docs/exit-codes.md: a queue that does not exist is exit 5; a bad value is exit 2', async () => {
    await check('docs/exit-codes.md', '# Exit codes', { 'no-such-queue': uniqueName('missing') });
  });

  it('docs/commands/purge.md: purging a queue that does not exist', async () => {
    await check('docs/commands/purge.md', '## What it prints', { orders: uniqueName('missing') });
  });

  it('docs/commands/delete.md: --if-empty and --if-unused refuse, and leave both', async () => {
    const orders = await broker.queue('delete-if', { arguments: { 'x-expires': 120_000 } });
    await broker.channel.assertExchange(orders, 'topic', { durable: false, autoDelete: true });
    await broker.channel.bindQueue(orders, orders, '#');
    await broker.publish('', orders, 'keep me');
    await check('docs/commands/delete.md', '## What it prints', { orders });
    expect(await broker.messageCount(orders)).toBe(1);
    expect(await exists('exchange', orders)).toBe(true);
    await broker.channel.deleteExchange(orders);
  });
});

describe('the request/reply of docs/handlers.md', () => {
  it('answers: the server upper-cases, the client prints HELLO', async () => {
    const queue = await broker.queue('rpc-upper', { arguments: { 'x-expires': 120_000 } });
    const [block] = blocksUnder('docs/handlers.md', '## Request/reply');
    const lines = shellLines(block as CodeBlock).map(({ text }) => renamed(text, { 'rpc.upper': queue }));
    expect(lines[0]).toMatch(/&\s+#/); // the server runs in the background: stopped below

    const steps = await runSteps([...lines, 'kill %1; wait'], workDir());

    const client = stepRunning(steps, /--rpc/);
    const prints = /# prints (\S+)/.exec(client.text)?.[1];
    expect({ code: client.code, stdout: client.stdout }).toEqual({ code: 0, stdout: `${prints}\n` });
    expect(await broker.messageCount(queue)).toBe(0);
  });
});

describe('the README set-up', () => {
  it('publishes its first event with confirms (npx warren, inside the clone)', async () => {
    const [block] = blocksUnder('README.md', '## Set-up');
    const [line] = shellLines(block as CodeBlock).filter(({ text }) => /npx warren/.test(text));
    const command = (line?.text ?? '').replace(/^npm ci && /, ''); // the install is done
    // The first `npx warren` of a clone installs the clone into npx's cache as a linked
    // package, and npm runs a linked package's `prepare` (the build) in the clone: dist/ would
    // be gone for seconds under the tests running beside this one. The build is done already.
    const result = await runShell(command, { env: { PATH: path, npm_config_ignore_scripts: 'true' } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/^published 1, confirmed 1, returned 0, nacked 0/),
    });
  });
});
