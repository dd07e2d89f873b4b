import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { publishMany } from '../helpers/bulk.js';
import {
  collect,
  ndjson,
  outputSoFar,
  runWarren,
  startTapping,
  startWarren,
  testEnv,
} from '../helpers/cli.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';
import { REPO_ROOT, runShell } from '../helpers/spawn.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
});

/** Starts a tail and waits until its queue is bound (it says so with -v). */
function startTail(args: string[]) {
  return startTapping(['tail', ...args]);
}

/**
 * Runs `warren -v tail ARGS | READER` under bash (warren killed if it hangs 20 s: exit 137)
 * and waits until its queue is bound. The result's stderr ends with warren's `exit=N`.
 */
async function startTailPipeline(args: string, reader: string) {
  const child = spawn(
    'bash',
    [
      '-c',
      `timeout -s KILL 20 node bin/warren.js -v tail ${args} | ${reader}; echo "exit=\${PIPESTATUS[0]}" >&2`,
    ],
    { cwd: REPO_ROOT, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const done = collect(child, 60_000);
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/through queue/.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`tail ended before binding: ${stderr}`)));
  });
  // Wrapped: an async function would wait for a promise it returns.
  return { done };
}

describe('warren tail', () => {
  it('sees every message while the real consumer still gets all of them, and leaves nothing behind', async () => {
    const exchange = await broker.exchange('tail-topic', 'topic');
    const queue = await broker.queue('tail-real');
    await broker.channel.bindQueue(queue, exchange, '#');
    const { done, tapQueue } = await startTail([exchange, '--count', '5', '--format', 'ndjson']);
    for (let i = 1; i <= 5; i += 1) await broker.publish(exchange, `order.${i}`, `m${i}`);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((r) => r['body'])).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(await broker.messageCount(queue)).toBe(5);
    await eventually(async () => !(await broker.queueExists(tapQueue)));
  });

  it('with EXCHANGE:KEY sees only what that binding key matches', async () => {
    const exchange = await broker.exchange('tail-key', 'topic');
    const { done } = await startTail([
      `${exchange}:order.created`,
      '--count',
      '1',
      '--template',
      '{routingKey}',
    ]);
    await broker.publish(exchange, 'order.cancelled', 'no');
    await broker.publish(exchange, 'order.created', 'yes');
    const result = await done;
    expect(result.stdout.toString()).toBe('order.created\n');
  });

  it('--match filters what is printed and counted', async () => {
    const exchange = await broker.exchange('tail-match', 'fanout');
    const { done } = await startTail([exchange, '--match', 'body.id=42', '--count', '1', '--format', 'body']);
    await broker.publish(exchange, '', '{"id":41}');
    await broker.publish(exchange, '', '{"id":42}');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('{"id":42}\n');
  });

  it('--match compares numbers: only bodies whose amount is a number >= 100 are printed and counted', async () => {
    const exchange = await broker.exchange('tail-match-number', 'fanout');
    const { done } = await startTail([
      exchange,
      '--match',
      'body.amount>=100',
      '--match',
      'headers.retries<3',
      '--count',
      '3',
      '--format',
      'body',
    ]);
    const bodies = [
      '{"amount":99.99}',
      '{"amount":100}',
      '{"amount":"abc"}',
      '{"amount":true}',
      '{"amount":null}',
      'amount=500',
      '{"amount":"250"}',
      '{"amount":-1e3}',
    ];
    // The header is text here, a number below: both compare as numbers.
    for (const body of bodies) await broker.publish(exchange, '', body, { headers: { retries: '2' } });
    await broker.publish(exchange, '', '{"amount":999}', { headers: { retries: 3 } });
    await broker.publish(exchange, '', '{"amount":999}');
    await broker.publish(exchange, '', '{"amount":1.5e3}', { headers: { retries: 0 } });
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('{"amount":100}\n{"amount":"250"}\n{"amount":1.5e3}\n');
  });

  it('--timeout counts messages --match leaves out as nothing: a busy exchange still times out (exit 3)', async () => {
    const exchange = await broker.exchange('tail-match-timeout', 'fanout');
    const { done } = await startTail([exchange, '--match', 'body.id=42', '--count', '1', '--timeout', '1s']);
    // Messages that never match, faster than the timeout, until warren has ended.
    let ended = false;
    const result = done.finally(() => {
      ended = true;
    });
    while (!ended) {
      await broker.publish(exchange, '', '{"id":41}');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { code, stderr, stdout } = await result;
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/timed out: got 0 of 1 messages/);
    expect(stdout.length).toBe(0);
  });

  it('headers exchanges: --match-header binds on header values', async () => {
    const exchange = await broker.exchange('tail-headers', 'headers');
    const { done } = await startTail([
      exchange,
      '--match-header',
      'format=pdf',
      '--count',
      '1',
      '--format',
      'body',
    ]);
    await broker.publish(exchange, '', 'txt', { headers: { format: 'txt' } });
    await broker.publish(exchange, '', 'pdf', { headers: { format: 'pdf' } });
    const result = await done;
    expect(result.stdout.toString()).toBe('pdf\n');
  });

  it('runs a trigger once bound: exit 0 when the event arrives', async () => {
    const exchange = await broker.exchange('tail-trigger', 'topic');
    const result = await runWarren([
      'tail',
      `${exchange}:order.created`,
      '--count',
      '1',
      '--timeout',
      '10s',
      '--format',
      'body',
      // The trigger reaches the broker with warren's URL only when told to.
      '--pass-url',
      '--',
      process.execPath,
      'bin/warren.js',
      'publish',
      '-q',
      '--exchange',
      exchange,
      '--routing-key',
      'order.created',
      'event',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('event\n');
  });

  it('a trigger still running when the event has come: its failure is reported; one that runs on is stopped after 5 s', async () => {
    const exchange = await broker.exchange('tail-trigger-late', 'fanout');
    const publish = `"${process.execPath}" bin/warren.js publish -q --no-mandatory -e ${exchange} -k k event`;
    const tailWith = (script: string) =>
      runWarren([
        'tail',
        exchange,
        '--count',
        '1',
        '--timeout',
        '20s',
        '--format',
        'body',
        '--pass-url',
        '--',
        'sh',
        '-c',
        script,
      ]);

    // Ends with exit 3 a second after the event: once lost, as the tail had already ended.
    const failing = await tailWith(`${publish}; sleep 1; exit 3`);
    expect(failing.code, failing.stderr).toBe(0);
    expect(failing.stdout.toString()).toBe('event\n');
    expect(failing.stderr).toMatch(/warning: trigger 'sh -c .*' exited 3/);

    // Would have published into the next run's tail: stopped instead (exec: the shell's pid is the sleep's).
    const pidFile = join(tmpdir(), `${uniqueName('trigger-pid')}`);
    const lingering = await tailWith(`echo $$ > ${pidFile}; ${publish}; exec sleep 60`);
    expect(lingering.code, lingering.stderr).toBe(0);
    expect(lingering.stdout.toString()).toBe('event\n');
    expect(lingering.stderr).toMatch(
      /warning: trigger 'sh -c .*' still running 5s after the tail ended: stopping it/,
    );
    expect(lingering.stderr).not.toMatch(/exited SIGTERM/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile, { force: true });
    expect(() => process.kill(pid, 0), `trigger ${pid} still running`).toThrow(/ESRCH/);
  });

  describe('a trigger that fails before the event came ends the tail at once: exit 4, naming its own code', () => {
    // Each would otherwise wait out the whole --timeout and exit 3, as if the event were late.
    /** A tail of a new exchange; the trigger is made for it. */
    const tailWith = async (trigger: (exchange: string) => string[], extra = ['--count', '1']) => {
      const exchange = await broker.exchange('tail-trigger-fails', 'topic');
      const tail = ['tail', `${exchange}:order.created`, ...extra, '--timeout', '30s', '--pass-url'];
      return runWarren([...tail, '--', ...trigger(exchange)]);
    };

    it('a trigger whose message was not routed (warren publish exits 4)', async () => {
      const run = await tailWith((exchange) => [
        process.execPath,
        'bin/warren.js',
        'publish',
        '-e',
        exchange,
        '-k',
        'nowhere',
        'x',
      ]);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stdout.length).toBe(0);
      // The trigger's own words first, then one error line naming it and its code.
      expect(run.stderr).toMatch(
        /312 NO_ROUTE[\s\S]*\nerror: trigger '.*publish -e .* -k nowhere x' failed \(exit 4\) before the awaited message came\n/,
      );
      expect(run.stderr).not.toMatch(/timed out|warning: trigger/);
    });

    it('a trigger that exits non-zero (false)', async () => {
      const run = await tailWith(() => ['false']);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(
        /^error: trigger 'false' failed \(exit 1\) before the awaited message came$/m,
      );
    });

    it('a trigger killed by a signal', async () => {
      const run = await tailWith(() => ['sh', '-c', 'kill -TERM $$']);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(
        /^error: trigger 'sh -c kill -TERM \$\$' failed \(SIGTERM\) before the awaited message came$/m,
      );
    });

    it('a trigger that cannot start (no such command)', async () => {
      const run = await tailWith(() => ['warren-test-no-such-command']);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(
        /^error: trigger 'warren-test-no-such-command' could not start \(ENOENT: no such command\)$/m,
      );
    });

    it('without --count, a tail with a trigger also ends when it fails', async () => {
      const run = await tailWith(() => ['false'], []);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/^error: trigger 'false' failed \(exit 1\)$/m);
    });
  });

  it('--timeout counts only an exchange that is quiet, never a reader that is slow', async () => {
    const exchange = await broker.exchange('tail-timeout-slow', 'fanout');
    const { done } = await startTailPipeline(`'${exchange}' --timeout 1s --format body`, '{ sleep 4; cat; }');
    // 1,000 a second for 3 s, while the reader takes nothing: a prefetch window of 1,000 KiB
    // bodies is far more than a pipe holds, and it fills in one second.
    const n = 3000;
    const body = (i: number) => `${i}:`.padEnd(1024, '.');
    for (let i = 0; i < n; i += 100) {
      await publishMany(
        broker.connection,
        exchange,
        '',
        Array.from({ length: 100 }, (_, j) => ({ body: body(i + j + 1) })),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const result = await done;
    expect(/exit=(\d+)\s*$/.exec(result.stderr)?.[1], result.stderr).toBe('0');
    const bodies = result.stdout.toString().split('\n').filter(Boolean);
    expect(bodies.length, 'the tail stopped while the exchange still had messages').toBe(n);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => body(i + 1)));
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    '`| head -n 1` on an exchange that then stays quiet: the tail ends once its reader has left',
    async () => {
      const exchange = await broker.exchange('tail-head-quiet', 'fanout');
      const { done } = await startTailPipeline(`'${exchange}' --format body`, 'head -n 1');
      await broker.publish(exchange, '', 'only');
      const result = await done;
      const status = /exit=(\d+)\s*$/.exec(result.stderr)?.[1];
      expect(status, `killed while waiting for a next message: ${result.stderr}`).not.toBe('137');
      expect(status, result.stderr).toBe('0');
      expect(result.stdout.toString()).toBe('only\n');
    },
  );

  it('a SOURCE whose bytes are not UTF-8 is exit 2 naming it, before anything is bound', async () => {
    // Was bound to the key with U+FFFD in place of the bytes, and watched it: exit 0.
    const exchange = await broker.exchange('tail-bytes', 'topic');
    const result = await runShell(`node bin/warren.js tail "${exchange}:$(printf 'k\\377')" --timeout 1s`);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: SOURCE '.*' is not valid UTF-8 as given/m);
    expect(result.stderr).not.toMatch(/through queue|saw \d+/);
  });

  it('exit 3 when the expected event does not come before --timeout', async () => {
    const exchange = await broker.exchange('tail-timeout', 'topic');
    const result = await runWarren([
      'tail',
      `${exchange}:order.created`,
      '--count',
      '1',
      '--timeout',
      '500ms',
      '--',
      process.execPath,
      '-e',
      '0',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/timed out: got 0 of 1 messages/);
    expect(result.stdout.length).toBe(0);
  });

  it('refuses the default exchange (exit 2), a missing exchange (exit 5), a direct exchange without a key (exit 2)', async () => {
    const direct = await broker.exchange('tail-direct', 'direct');
    const defaultExchange = await runWarren(['tail', ':q']);
    expect(defaultExchange.code).toBe(2);
    expect(defaultExchange.stderr).toMatch(/default exchange cannot be tailed/);
    const missing = await runWarren(['tail', 'warren-test.no-such-exchange']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(missing.stderr).toMatch(
      /check the name \(and the vhost in --url\), or declare it: warren declare exchange warren-test\.no-such-exchange --type TYPE/,
    );
    const noKey = await runWarren(['tail', direct]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/direct exchange: say which routing key/);
  });

  it('--capture writes NDJSON envelopes beside the screen output, ready for publish --input ndjson', async () => {
    const exchange = await broker.exchange('tail-capture', 'fanout');
    const file = join(tmpdir(), `${uniqueName('capture')}.ndjson`);
    const { done } = await startTail([exchange, '--count', '2', '--template', '{body}', '--capture', file]);
    await broker.publish(exchange, '', 'one', { headers: { n: 1 } });
    await broker.publish(exchange, '', Buffer.from([0xff, 0x00]));
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const captured = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(captured.map((r) => [r['body'], r['bodyEncoding']])).toEqual([
      ['one', 'utf8'],
      ['/wA=', 'base64'],
    ]);
    expect(captured[0]?.['headers']).toEqual({ n: 1 });
    rmSync(file);
  });

  it('--capture to a full disk is one clear error', async () => {
    const exchange = await broker.exchange('tail-full', 'fanout');
    const { done } = await startTail([exchange, '--count', '1', '--capture', '/dev/full']);
    await broker.publish(exchange, '', 'x'.repeat(100_000));
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write the --capture file: ENOSPC/);
  });

  it('--capture to a place that cannot be written is a usage error before connecting', async () => {
    const result = await runWarren(['tail', 'amq.topic', '--capture', '/nonexistent/dir/cap.ndjson']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--capture: cannot write '\/nonexistent\/dir\/cap.ndjson' \(ENOENT\)/);
  });

  it('reconnects after the broker closes its connection, re-binds, warns of the gap, and carries on', async () => {
    const exchange = await broker.exchange('tail-reconnect', 'fanout');
    const { child, done } = await startTail([exchange, '--count', '2', '--format', 'body']);
    const seen = outputSoFar(child);
    await broker.publish(exchange, '', 'before');
    await eventually(async () => seen.stdout().includes('before'));
    await forceCloseConnectionOf(child.pid as number, 'warren tail');
    await eventually(async () => /tapping '.*' again/.test(seen.stderr()), 10_000);
    await broker.publish(exchange, '', 'after');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe('before\nafter\n');
    expect(result.stderr).toMatch(/reconnecting \(1 of 5\): messages published meanwhile may be missed/);
  });

  it('a direct exchange is tailed by routing key', async () => {
    const exchange = await broker.exchange('tail-direct-key', 'direct');
    const { done } = await startTail([`${exchange}:paid`, '--count', '1', '--format', 'body']);
    await broker.publish(exchange, 'created', 'no');
    await broker.publish(exchange, 'paid', 'yes');
    expect((await done).stdout.toString()).toBe('yes\n');
  });

  it('a capture replays: publish --input ndjson takes it as it is', async () => {
    const exchange = await broker.exchange('tail-replay', 'fanout');
    const target = await broker.queue('tail-replay-target');
    const file = join(tmpdir(), `${uniqueName('replay')}.ndjson`);
    const { done } = await startTail([exchange, '--count', '2', '--capture', file, '--format', 'body']);
    await broker.publish(exchange, '', 'first', { messageId: 'a', headers: { t: 'x' } });
    await broker.publish(exchange, '', 'second', { messageId: 'b' });
    expect((await done).code).toBe(0);
    const replayed = await runWarren([
      'publish',
      '--input',
      'ndjson',
      '--exchange',
      '',
      '--routing-key',
      target,
      '--file',
      file,
    ]);
    expect(replayed.code, replayed.stderr).toBe(0);
    const messages = await broker.drain(target);
    expect(
      messages.map((m) => [m.content.toString(), m.properties.messageId, m.properties.headers?.['t']]),
    ).toEqual([
      ['first', 'a', 'x'],
      ['second', 'b', undefined],
    ]);
    rmSync(file);
  });

  it('SIGKILL leaves nothing behind: the queue goes with the connection', async () => {
    const exchange = await broker.exchange('tail-kill', 'fanout');
    const { child, done, tapQueue } = await startTail([exchange]);
    child.kill('SIGKILL');
    await done;
    await eventually(async () => !(await broker.queueExists(tapQueue)));
  });

  describe('--stream', () => {
    let stream: string;
    beforeAll(async () => {
      stream = await broker.queue('tail-stream', { durable: true, arguments: { 'x-queue-type': 'stream' } });
      for (const body of ['s0', 's1', 's2']) await broker.publish('', stream, body);
    });

    it('--offset first reads from the start, and leaves the stream as it was', async () => {
      const result = await runWarren([
        'tail',
        '--stream',
        stream,
        '--offset',
        'first',
        '--count',
        '3',
        '--format',
        'body',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.toString()).toBe('s0\ns1\ns2\n');
      const again = await runWarren([
        'tail',
        '--stream',
        stream,
        '--offset',
        'first',
        '--count',
        '1',
        '--format',
        'body',
      ]);
      expect(again.stdout.toString()).toBe('s0\n');
    });

    it('--offset N starts at that offset', async () => {
      const result = await runWarren([
        'tail',
        '--stream',
        stream,
        '--offset',
        '1',
        '--count',
        '2',
        '--template',
        '{body}@{headers.x-stream-offset}',
      ]);
      expect(result.stdout.toString()).toBe('s1@1\ns2@2\n');
    });

    it('--offset next sees only what comes after it started', async () => {
      const child = startWarren([
        '-v',
        'tail',
        '--stream',
        stream,
        '--offset',
        'next',
        '--count',
        '1',
        '--format',
        'body',
      ]);
      const done = collect(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(async () => stderr.includes('consuming from'));
      await broker.publish('', stream, 'new');
      expect((await done).stdout.toString()).toBe('new\n');
    });

    it('a queue that is not a stream is refused (exit 5) and keeps its messages', async () => {
      const classic = await broker.queue('tail-not-stream');
      await broker.publish('', classic, 'keep me');
      const result = await runWarren(['tail', '--stream', classic, '--offset', 'first', '--count', '1']);
      expect(result.code).toBe(5);
      expect(result.stdout.length).toBe(0);
      expect(await broker.messageCount(classic)).toBe(1);
    });

    it('a bad --offset is a usage error', async () => {
      const result = await runWarren(['tail', '--stream', stream, '--offset', 'yesterday-ish']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--offset: 'yesterday-ish' is not/);
    });
  });

  it('SIGINT ends a tail with exit 130', async () => {
    const exchange = await broker.exchange('tail-sigint', 'fanout');
    const { child, done, tapQueue } = await startTail([exchange]);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    await eventually(async () => !(await broker.queueExists(tapQueue)));
  });
});
