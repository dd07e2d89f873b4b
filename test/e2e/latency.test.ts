import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBody } from '../../src/bench/latency.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { collect, outputSoFar, type RunOptions, startWarren } from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';

let broker: TestBroker;
const root = mkdtempSync(join(tmpdir(), 'warren-latency-e2e-'));
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const QUEUE_NAMED = /probe queue '(warren-latency-[0-9a-f]+)'/;

/** Runs `warren -v latency ARGS`; the probe queue's name comes from -v's line. */
async function latency(
  args: string[],
  during?: (
    queue: string,
    stderr: () => string,
    run: { child: ChildProcess; done: Promise<unknown> },
  ) => Promise<void>,
  options: RunOptions = {},
) {
  const child = startWarren(['-v', 'latency', ...args], options);
  const seen = outputSoFar(child);
  const done = collect(child, 60_000);
  const queue = await until(() => QUEUE_NAMED.exec(seen.stderr())?.[1], done);
  if (during) await during(queue, seen.stderr, { child, done });
  const run = await done;
  return { run, queue };
}

/** Waits for `find` to give a value, failing if the run ends first. */
async function until<T>(find: () => T | undefined, done: Promise<unknown>): Promise<T> {
  let ended = false;
  void done.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (ended) throw new Error('warren latency ended before it was expected to');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function summaryOf(stdout: Buffer): BenchSummary {
  return JSON.parse(stdout.toString()) as BenchSummary;
}

describe('warren latency', () => {
  it('--count 20 --rate 50/s: 20 probes, a JSON summary with ordered percentiles, the queue gone', async () => {
    const { run, queue } = await latency(['--count', '20', '--rate', '50/s', '--json']);
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary).toMatchObject({ published: 20, confirmed: 20, failed: 0, consumed: 20 });
    const l = summary.latency;
    expect(l.count).toBe(20);
    expect(l.min).toBeGreaterThan(0);
    for (const [low, high] of [
      [l.min, l.p50],
      [l.p50, l.p75],
      [l.p75, l.p95],
      [l.p95, l.p99],
      [l.p99, l.p999],
      [l.p999, l.max],
    ] as const) {
      expect(low).toBeLessThanOrEqual(high);
    }
    expect(summary.confirmLatency.count).toBe(20);
    expect(run.stderr).toMatch(/20 of 20 probes received/);
    expect(run.stderr).toMatch(/latency min \S+ {2}p50 \S+ {2}p75 .* p99\.9 \S+ {2}max \S+/);
    expect(await broker.queueExists(queue)).toBe(false);
  });

  it('--assert: exit 0 when all hold, 9 naming each one that does not', async () => {
    const asserting = (...assertions: string[]) =>
      latency(['--count', '3', '--rate', '50', ...assertions.flatMap((a) => ['--assert', a])]);
    const holds = await asserting('max<60s', 'consume>0');
    expect(holds.run.code).toBe(0);
    const fails = await asserting('max<60s', 'max<1us', 'confirm.p50<0us');
    expect(fails.run.code).toBe(9);
    expect(fails.run.stderr).toMatch(/assertion failed: max<1us \(measured \S+\)/);
    expect(fails.run.stderr).toMatch(/assertion failed: confirm\.p50<0us \(measured \S+\)/);
    expect(fails.run.stderr).not.toMatch(/assertion failed: max<60s/);
    expect(fails.run.stderr).toContain('2 of 3 assertions did not hold: max<1us, confirm.p50<0us');
    expect(await broker.queueExists(fails.queue)).toBe(false);
  });

  it('Ctrl-C mid-run: the summary so far, exit 130, the queue gone', async () => {
    const { run, queue } = await latency(
      ['--duration', '60s', '--rate', '20'],
      async (_queue, stderr, { child, done }) => {
        // A second's line written: the probe is running.
        await until(() => (/\d+s: sent \d+, received \d+/.test(stderr()) ? true : undefined), done);
        child.kill('SIGINT');
      },
    );
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/\d+ of \d+ probes received/);
    expect(await broker.queueExists(queue)).toBe(false);
  });

  it('a lost connection mid-run: the summary so far, exit 69 saying so', async () => {
    const { run } = await latency(
      ['--duration', '60s', '--rate', '20', '--json'],
      async (_queue, stderr, { child, done }) => {
        await until(() => (/\d+s: sent \d+, received \d+/.test(stderr()) ? true : undefined), done);
        await forceCloseConnectionOf(child.pid as number, 'warren latency');
      },
    );
    expect(run.code, run.stderr).toBe(69);
    expect(run.stderr).toMatch(/\d+ of \d+ probes received/);
    const errorLines = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errorLines).toEqual([expect.stringContaining('lost the connection')]);
    const summary = JSON.parse(run.stdout.toString()) as BenchSummary;
    expect(summary.consumed).toBeGreaterThan(0);
  });

  it('--to-url: publishes on one URL and consumes on the other (the same broker by another name)', async () => {
    const other = BROKER_URL.replace('127.0.0.1', 'localhost');
    expect(other).not.toBe(BROKER_URL);
    const { run, queue } = await latency(['--count', '5', '--rate', '50', '--to-url', other, '--json']);
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ published: 5, consumed: 5 });
    expect(await broker.queueExists(queue)).toBe(false);
  });

  it("--to-profile: consumes on the profile's broker (its URL, its password file), publishes on WARREN_URL", async () => {
    // The shared broker by another name, its password from the profile's file: the flags and
    // the environment (WARREN_URL: 127.0.0.1) are the publishing side's.
    const other = new URL(BROKER_URL.replace('127.0.0.1', 'localhost'));
    const password = decodeURIComponent(other.password);
    // Not the password: the profile's passwordFile wins over the URL's, as with --profile.
    other.password = 'not-the-password';
    expect(other.hostname).not.toBe(new URL(BROKER_URL).hostname);
    const xdg = join(root, 'to-profile');
    mkdirSync(join(xdg, 'warren'), { recursive: true });
    writeFileSync(join(xdg, 'password'), `${password}\n`, { mode: 0o600 });
    const profiles = { other: { url: other.href, passwordFile: join(xdg, 'password') } };
    writeFileSync(join(xdg, 'warren', 'config.json'), JSON.stringify({ profiles }), { mode: 0o600 });
    const { run, queue } = await latency(
      ['--count', '5', '--rate', '50', '--to-profile', 'other', '--json'],
      undefined,
      { env: { XDG_CONFIG_HOME: xdg, WARREN_PROFILE: undefined } },
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ published: 5, consumed: 5 });
    expect(run.stderr).toContain(`--to-profile: profile 'other' from ${join(xdg, 'warren', 'config.json')}`);
    const connected = [...run.stderr.matchAll(/connected to (\S+)/g)].map((m) => m[1]);
    expect(connected).toEqual([
      BROKER_URL.replace(/:[^:@/]*@/, ':***@'),
      other.href.replace('not-the-password', '***'),
    ]);
    expect(await broker.queueExists(queue)).toBe(false);
  });

  it('--to-profile with a name the config file lacks: the error --profile gives, exit 2', async () => {
    const xdg = join(root, 'unknown-profile');
    mkdirSync(join(xdg, 'warren'), { recursive: true });
    writeFileSync(
      join(xdg, 'warren', 'config.json'),
      JSON.stringify({ profiles: { a: { url: BROKER_URL } } }),
    );
    const env = { XDG_CONFIG_HOME: xdg, WARREN_PROFILE: undefined };
    const toProfile = await collect(startWarren(['latency', '--to-profile', 'nope'], { env }));
    const profile = await collect(startWarren(['--profile', 'nope', 'latency'], { env }));
    expect(toProfile.code).toBe(2);
    expect(profile.code).toBe(2);
    expect(toProfile.stderr).toMatch(/^error: no profile 'nope' in /);
    expect(toProfile.stderr).toBe(profile.stderr);
  });

  it('a probe older than it looks lands in the top percentiles, and only there', async () => {
    // Ten messages in the probe's format sent "10 s ago" join ~30 real probes: a quarter of
    // the values, so p50 and p75 are real probes (far under 10 s) and p95 up are the old ones.
    const AGE_US = 10_000_000;
    const { run } = await latency(
      ['--duration', '3s', '--rate', '10', '--json'],
      async (queue, stderr, { done }) => {
        await until(() => (/1s: sent/.test(stderr()) ? true : undefined), done);
        for (let i = 0; i < 10; i += 1) {
          await broker.publish('', queue, probeBody(Date.now() * 1000 - AGE_US));
        }
      },
    );
    expect(run.code).toBe(0);
    const l = summaryOf(run.stdout).latency;
    expect(l.count).toBeGreaterThanOrEqual(35);
    expect(l.p50).toBeLessThan(AGE_US);
    expect(l.p75).toBeLessThan(AGE_US);
    for (const high of [l.p95, l.p99, l.p999, l.max]) expect(high).toBeGreaterThanOrEqual(AGE_US * 0.999);
  });

  it('a message that is no probe is not counted, and is said to be there', async () => {
    // The probe's length without its mark, a send time alone (8 bytes), and text.
    const unmarked = Buffer.alloc(16);
    unmarked.writeDoubleBE(Date.now() * 1000, 8);
    const bare = Buffer.alloc(8);
    bare.writeDoubleBE(Date.now() * 1000);
    const { run } = await latency(
      ['--duration', '2s', '--rate', '10', '--json'],
      async (queue, stderr, { done }) => {
        await until(() => (/1s: sent/.test(stderr()) ? true : undefined), done);
        for (const body of [unmarked, bare, Buffer.from('hello')]) await broker.publish('', queue, body);
      },
    );
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.consumed).toBe(summary.published);
    expect(summary.latency.count).toBe(summary.published);
    expect(run.stderr).toMatch(/probes received in \S+ \(3 other messages not counted\)/);
    expect(run.stderr.match(/a message of \d+ bytes that is no probe: not counted/g)).toHaveLength(3);
  });

  it.each([
    [['--count', '0']],
    [['--count', '3', '--duration', '1s']],
    [['--rate', 'fast']],
    [['--duration', '0s']],
    [['--assert', 'p99<<5ms']],
    [['--assert', 'p98<5ms']],
    [['--to-url', 'http://localhost']],
    [['--to-url', '']],
    [['--to-url', BROKER_URL, '--to-profile', 'a']],
  ])('bad flags are usage errors: %j', async (args) => {
    const run = await collect(startWarren(['latency', ...args]));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /);
  });
});
