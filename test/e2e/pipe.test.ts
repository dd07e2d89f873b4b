import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { collect, outputSoFar, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { deadLettered, expectClean, fileLines, newHandlerDir, warnings } from '../helpers/execRuns.js';
import { forceCloseConnectionOf } from '../helpers/rabbitmqctl.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/handlers/', import.meta.url));

let broker: TestBroker;
let root: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  root = mkdtempSync(join(tmpdir(), 'warren-pipe-'));
});

afterAll(async () => {
  await broker?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

/**
 * What every test handler starts with: it reads envelope lines, notes each message it is
 * given in $HDIR/seen (`id retries`), and `send`s answers. Each process notes its pid in
 * $HDIR/lives; `firstLife` is true in the first one only (the tests that use it run one
 * process at a time).
 */
const PRELUDE = `
import { createInterface } from 'node:readline';
import { appendFileSync, existsSync } from 'node:fs';
const dir = process.env.HDIR;
const note = (file, text) => appendFileSync(dir + '/' + file, text + '\\n');
const send = (answer) => process.stdout.write(JSON.stringify(answer) + '\\n');
const firstLife = !existsSync(dir + '/lives');
note('lives', String(process.pid));
let given = 0;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = JSON.parse(line);
  given += 1;
  note('seen', m.properties.messageId + ' ' + m.retries);
  handle(m);
});
`;

/** A directory with the handler `script` (after the prelude) as h.mjs; the command to run it. */
function handler(name: string, script: string): { dir: string; command: string } {
  const dir = newHandlerDir(root, name);
  writeFileSync(join(dir, 'h.mjs'), `${PRELUDE}\n${script}\n`);
  return { dir, command: 'node "$HDIR/h.mjs"' };
}

/** `consume QUEUE --pipe CMD ARGS…` until nothing comes for 2 s, with $HDIR set. */
function pipe(queue: string, h: { dir: string; command: string }, args: string[] = []): Promise<RunResult> {
  return runWarren(['consume', queue, '--pipe', h.command, '--timeout', '2s', ...args], {
    env: { HDIR: h.dir },
    timeoutMs: 60_000,
  });
}

const withDeadLetters = (prefix: string) => deadLettered(broker, prefix);

async function filledQueue(prefix: string, count: number): Promise<string> {
  const queue = await broker.queue(prefix);
  await publishMany(broker.connection, '', queue, numbered(prefix, count));
  return queue;
}

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
const idsOf = (messages: amqp.Message[]) => messages.map((m) => m.properties.messageId as string);
const sorted = (values: string[]) => [...values].sort();

/**
 * Runs a handler whose first process does `wrong` (instead of answering) when `when` holds,
 * and whose restarted ones ack everything, until the queue is idle. Checks that every
 * message was acked in the end and the queue is empty; returns the one warning warren gave.
 */
async function recovers(prefix: string, count: number, when: string, wrong: string): Promise<string> {
  const queue = await filledQueue(prefix, count);
  const h = handler(
    prefix,
    `function handle(m) {
      if (firstLife && (${when})) { ${wrong}; return; }
      note('acked', m.properties.messageId);
      send({ seq: m.seq, outcome: 'ack' });
    }`,
  );
  const result = await pipe(queue, h);
  expect(result.code, result.stderr).toBe(0);
  expectClean(result);
  expect(sorted(fileLines(join(h.dir, 'acked')))).toEqual(sorted(ids(prefix, count)));
  expect(await broker.messageCount(queue)).toBe(0);
  expect(result.stderr, 'control characters made safe').not.toContain('\u001b');
  expect(fileLines(join(h.dir, 'lives')), 'restarted once').toHaveLength(2);
  const warned = warnings(result.stderr);
  expect(warned).toHaveLength(1);
  return warned[0] ?? '';
}

describe.concurrent('consume --pipe', () => {
  it('each outcome of an answer: ack, requeue, reject to the DLQ, retry counted up to --max-retries', async () => {
    const { work, dlq } = await withDeadLetters('pipe-outcomes');
    const bodies = ['ack', 'ack', 'requeue', 'reject', 'retry'];
    for (const [i, body] of bodies.entries())
      await broker.publish('', work, body, { messageId: `o-${i + 1}` });
    const h = handler(
      'outcomes',
      `function handle(m) {
        const outcome = m.body === 'requeue' && m.redelivered ? 'ack' : m.body;
        send({ seq: m.seq, outcome, reason: 'asked for ' + m.body });
      }`,
    );
    const result = await pipe(work, h, ['--max-retries', '2']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(await broker.messageCount(work)).toBe(0);
    const dead = await takeAllFast(broker.connection, dlq);
    expect(sorted(idsOf(dead))).toEqual(['o-4', 'o-5']);
    const seen = fileLines(join(h.dir, 'seen'));
    // The requeued one came back once (uncounted); the retried one had its two retries.
    expect(seen.filter((line) => line.startsWith('o-3 '))).toEqual(['o-3 0', 'o-3 0']);
    expect(seen.filter((line) => line.startsWith('o-5 '))).toEqual(['o-5 0', 'o-5 1', 'o-5 2']);
    expect(seen.filter((line) => /^o-[124] /.test(line))).toHaveLength(3);
    expect(result.stderr).toContain('message o-4: handler answered reject (asked for reject): rejected');
    expect(result.stderr).toMatch(
      /message o-5: handler answered retry \(asked for retry\); gave up after 2 retries: rejected/,
    );
  });

  it('answers out of order: each settles its own message', async () => {
    const { work, dlq } = await withDeadLetters('pipe-order');
    await publishMany(broker.connection, '', work, numbered('ord', 10));
    // Holds every message until it has all ten, then answers from the last to the first:
    // the even ones ack, the odd ones reject.
    const h = handler(
      'order',
      `const held = [];
      function handle(m) {
        held.push(m);
        if (held.length < 10) return;
        for (const one of held.reverse()) {
          const i = JSON.parse(one.body).i;
          note('answered', one.properties.messageId);
          send({ seq: one.seq, outcome: i % 2 === 0 ? 'ack' : 'reject' });
        }
      }`,
    );
    const result = await pipe(work, h, ['--count', '10']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(fileLines(join(h.dir, 'answered'))).toEqual(ids('ord', 10).reverse());
    expect(await broker.messageCount(work)).toBe(0);
    const dead = await takeAllFast(broker.connection, dlq);
    expect(sorted(idsOf(dead))).toEqual(sorted(['ord-1', 'ord-3', 'ord-5', 'ord-7', 'ord-9']));
  });

  it('a handler that crashes mid-run is restarted: its unanswered messages come back, none lost', async () => {
    // The first process dies on its fifth message, having answered four.
    const warned = await recovers('pipe-crash', 30, 'given === 5', 'process.exit(3)');
    expect(warned).toMatch(
      /--pipe: the handler \(pid \d+\) exited with code 3; its \d+ unanswered messages? go back to the queue, each to be tried alone; restarting it in 100 ms/,
    );
  });

  it('a message that kills the handler each time: tried alone, it fails as its handler had; every other is handled once', async () => {
    const { work, dlq } = await withDeadLetters('pipe-poison');
    const count = 30;
    for (let i = 1; i <= count; i++) {
      await broker.publish('', work, i === 10 ? 'poison' : 'fine', { messageId: `p-${i}` });
    }
    const h = handler(
      'poison',
      `function handle(m) {
        if (m.body === 'poison') process.exit(3);
        note('acked', m.properties.messageId);
        send({ seq: m.seq, outcome: 'ack' });
      }`,
    );
    const result = await pipe(work, h, ['--max-retries', '1', '--concurrency', '2']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    const others = ids('p', count).filter((id) => id !== 'p-10');
    // Each innocent one answered exactly once: the ones held with the poison came back and
    // were each tried alone.
    expect(sorted(fileLines(join(h.dir, 'acked')))).toEqual(sorted(others));
    expect(await broker.messageCount(work)).toBe(0);
    expect(idsOf(await takeAllFast(broker.connection, dlq))).toEqual(['p-10']);
    // Three deaths: one with others held (they go back uncounted), then two alone, each a
    // counted failure of the poison (its try, its one retry).
    const deaths = warnings(result.stderr).filter((line) => /--pipe: .* exited with code 3/.test(line));
    expect(deaths, result.stderr).toHaveLength(3);
    expect(deaths[0]).toMatch(/unanswered messages? go back to the queue, each to be tried alone/);
    for (const death of deaths.slice(1))
      expect(death).toMatch(/while it held seq \d+ alone, which fails for it/);
    expect(result.stderr).toContain(
      'message p-10: handler exited with code 3 while it held this message alone; gave up after 1 retry: rejected',
    );
    expect(result.stderr).toMatch(/handled 30 messages from '.*': 29 acked, 1 rejected \(1 retry/);
  });

  it('--exec-timeout: a message not answered in time fails as timed out; the stuck handler is restarted', async () => {
    const { work, dlq } = await withDeadLetters('pipe-hang');
    for (const [i, body] of ['ok', 'hang', 'ok', 'ok'].entries())
      await broker.publish('', work, body, { messageId: `h-${i + 1}` });
    const h = handler(
      'hang',
      `function handle(m) {
        if (m.body === 'hang') return;
        send({ seq: m.seq, outcome: 'ack' });
      }`,
    );
    const result = await pipe(work, h, ['--exec-timeout', '1s', '--on-failure', 'reject']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(await broker.messageCount(work)).toBe(0);
    expect(idsOf(await takeAllFast(broker.connection, dlq))).toEqual(['h-2']);
    expect(result.stderr).toContain('message h-2: handler timed out: rejected');
    expect(result.stderr).toMatch(
      /the handler \(pid \d+\) did not answer seq \d+ within --exec-timeout: killed/,
    );
  });

  // The first process answers its first message wrong; warren kills it, and the restarted
  // one handles every message.
  for (const { what, wrong, said } of [
    {
      what: 'a line that is not JSON (control characters made safe in the warning)',
      wrong: "process.stdout.write('oops \\u001b[31mred\\n')",
      said: /the handler \(pid \d+\) wrote what is not an answer \(not JSON\): "oops .*red": killed/,
    },
    {
      what: 'an answer for a seq it was not given',
      wrong: "send({ seq: m.seq + 1000, outcome: 'ack' })",
      said: /the handler \(pid \d+\) wrote what is not an answer \(it answered seq 100\d, which it does not hold\): .*: killed/,
    },
    {
      what: 'an answer with an unknown field',
      wrong: "send({ seq: m.seq, outcome: 'ack', status: 'fine' })",
      said: /wrote what is not an answer \(unknown field "status"\)/,
    },
  ]) {
    it(`garbage, ${what}: the handler is killed with one warning, restarted, and every message handled`, async () => {
      expect(await recovers('pipe-garbage', 5, 'true', wrong)).toMatch(said);
    });
  }

  it('a handler that only ever writes garbage fails the run (exit 1) after a few restarts; no message is lost', async () => {
    const queue = await filledQueue('pipe-hopeless', 5);
    const h = handler('hopeless', `function handle(m) { send({ seq: m.seq, outcome: 'maybe' }); }`);
    const result = await pipe(queue, h);
    expect(result.code, result.stderr).toBe(1);
    expectClean(result);
    expect(result.stderr).toContain(
      'error: --pipe: the handler ended 5 times in a row without answering a message',
    );
    expect(result.stderr).toContain('"outcome" must be one of ack, requeue, reject, retry');
    expect(warnings(result.stderr)).toHaveLength(4);
    expect(sorted(idsOf(await takeAllFast(broker.connection, queue)))).toEqual(
      sorted(ids('pipe-hopeless', 5)),
    );
  });

  it('a command that cannot run fails the run (exit 1) instead of restarting for ever', async () => {
    const queue = await filledQueue('pipe-missing', 2);
    const result = await runWarren(['consume', queue, '--pipe', 'no-such-handler-command-xyz']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('not found');
    expect(result.stderr).toMatch(
      /ended 5 times in a row without answering a message \(last: exited with code 127\)/,
    );
    expect(await broker.messageCount(queue)).toBe(2);
  });

  it('events in an answer without --emit: the run fails (exit 2) and the message stays queued', async () => {
    const queue = await broker.queue('pipe-noemit');
    for (const id of ['o-1', 'o-2', 'o-3']) await broker.publish('', queue, JSON.stringify({ id }));
    const result = await runWarren([
      'consume',
      queue,
      '--pipe',
      `node '${EXAMPLES}ship.mjs'`,
      '--timeout',
      '5s',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/answered seq \d+ with events, but this run was not given --emit/);
    expect(await broker.messageCount(queue)).toBe(3);
  });

  it('--concurrency 3: three processes share the messages; their stderr lines are prefixed', async () => {
    const queue = await filledQueue('pipe-three', 30);
    const h = handler(
      'three',
      `process.stderr.write('hello from ' + process.pid + '\\n');
      function handle(m) {
        note('pids', String(process.pid));
        send({ seq: m.seq, outcome: 'ack' });
      }`,
    );
    const result = await pipe(queue, h, ['--concurrency', '3', '--count', '30']);
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(await broker.messageCount(queue)).toBe(0);
    expect(fileLines(join(h.dir, 'pids'))).toHaveLength(30);
    expect(new Set(fileLines(join(h.dir, 'pids'))).size).toBe(3);
    for (const n of [1, 2, 3])
      expect(result.stderr).toMatch(new RegExp(`^\\[handler ${n}\\] hello from \\d+$`, 'm'));
  });

  describe('SIGINT with messages in flight', () => {
    it('answers that come within --grace settle their messages: exit 130, all acked', async () => {
      const queue = await filledQueue('pipe-grace', 5);
      // Answers nothing until the test says so (a file), then everything it holds.
      const h = handler(
        'grace',
        `const held = [];
        function handle(m) { held.push(m); }
        const timer = setInterval(() => {
          if (!existsSync(dir + '/go')) return;
          clearInterval(timer);
          for (const m of held) { note('acked', m.properties.messageId); send({ seq: m.seq, outcome: 'ack' }); }
        }, 20);
        lines.on('close', () => clearInterval(timer));`,
      );
      const child = startWarren(['consume', queue, '--pipe', h.command, '--grace', '30s'], {
        env: { HDIR: h.dir },
      });
      const done = collect(child, 60_000);
      const output = outputSoFar(child);
      await eventually(async () => fileLines(join(h.dir, 'seen')).length === 5);
      child.kill('SIGINT');
      await eventually(async () => output.stderr().includes('stopping:'));
      writeFileSync(join(h.dir, 'go'), '');
      const result = await done;
      expect(result.code, result.stderr).toBe(130);
      expectClean(result);
      expect(result.stderr).toMatch(/stopping: waiting up to 30s for the answers to 5 messages/);
      expect(sorted(fileLines(join(h.dir, 'acked')))).toEqual(sorted(ids('pipe-grace', 5)));
      expect(await broker.messageCount(queue)).toBe(0);
    });

    it('a handler that does not answer within --grace: its messages go back to the queue, exit 130', async () => {
      const queue = await filledQueue('pipe-stall', 5);
      const h = handler('stall', 'function handle() {}');
      const child = startWarren(['consume', queue, '--pipe', h.command, '--grace', '1s'], {
        env: { HDIR: h.dir },
      });
      const done = collect(child, 60_000);
      await eventually(async () => fileLines(join(h.dir, 'seen')).length === 5);
      child.kill('SIGINT');
      const result = await done;
      expect(result.code, result.stderr).toBe(130);
      expectClean(result);
      expect(result.stderr).toMatch(/handled 0 messages from '.*': 0 acked \(5 requeues\)/);
      expect(sorted(idsOf(await takeAllFast(broker.connection, queue)))).toEqual(
        sorted(ids('pipe-stall', 5)),
      );
    });
  });

  it('a lost connection: warren reconnects, the handler keeps running, late answers are not garbage, every message handled', async () => {
    const queue = await filledQueue('pipe-cut', 20);
    // Holds every message until the test says so (a file), then answers all it holds and
    // every one after at once.
    const h = handler(
      'cut',
      `let held = [];
      const answer = (m) => { note('acked', m.properties.messageId); send({ seq: m.seq, outcome: 'ack' }); };
      function handle(m) { if (existsSync(dir + '/go')) answer(m); else held.push(m); }
      const timer = setInterval(() => {
        if (!existsSync(dir + '/go')) return;
        clearInterval(timer);
        for (const m of held) answer(m);
        held = [];
      }, 20);
      lines.on('close', () => clearInterval(timer));`,
    );
    // 5 s of quiet ends the run: on a loaded machine the broker may deliver nothing for
    // seconds after the reconnection, which a shorter --timeout would take for the end.
    const child = startWarren(['consume', queue, '--pipe', h.command, '--timeout', '5s'], {
      env: { HDIR: h.dir },
    });
    const done = collect(child, 120_000);
    const output = outputSoFar(child);
    await eventually(async () => fileLines(join(h.dir, 'seen')).length === 20, 30_000);
    await forceCloseConnectionOf(child.pid as number, 'warren consume --pipe');
    await eventually(async () => /lost the connection.*reconnecting/.test(output.stderr()), 30_000);
    // The 20 come again on the new connection, under new seqs, to the same process.
    await eventually(async () => fileLines(join(h.dir, 'seen')).length === 40, 30_000);
    writeFileSync(join(h.dir, 'go'), '');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(result.stderr).not.toContain('not an answer');
    expect(fileLines(join(h.dir, 'lives')), 'one process, never restarted').toHaveLength(1);
    expect(new Set(fileLines(join(h.dir, 'acked')))).toEqual(new Set(ids('pipe-cut', 20)));
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('a second SIGINT quits now: the handler process is killed, its messages go back', async () => {
    const queue = await filledQueue('pipe-twice', 3);
    const h = handler('twice', 'function handle() {}');
    const child = startWarren(['consume', queue, '--pipe', h.command, '--grace', '5m'], {
      env: { HDIR: h.dir },
    });
    const done = collect(child, 60_000);
    const output = outputSoFar(child);
    await eventually(async () => fileLines(join(h.dir, 'seen')).length === 3);
    child.kill('SIGINT');
    await eventually(async () => output.stderr().includes('stopping: waiting'));
    child.kill('SIGINT');
    const result = await done;
    expect(result.signal, `exit ${result.code} / ${result.signal}`).toBe('SIGINT');
    expect(result.stderr).toMatch(/handled 0 messages from '.*': 0 acked, 3 unsettled/);
    const [pid] = fileLines(join(h.dir, 'lives'));
    await eventually(async () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    });
    await eventually(async () => (await broker.messageCount(queue)) === 3);
  });

  it('events in answers with --emit-format ndjson: each names its queue; an answer whose event is no envelope fails its message', async () => {
    const { work, dlq } = await withDeadLetters('pipe-emit');
    const out = await broker.queue('pipe-emit-out');
    for (const body of ['good', 'bad']) await broker.publish('', work, body, { messageId: `e-${body}` });
    const h = handler(
      'emit',
      `function handle(m) {
        const emit = m.body === 'good'
          ? [{ routingKey: process.env.OUT, body: 'one' }, { routingKey: process.env.OUT, body: 'two', properties: { correlationId: 'mine' } }]
          : [{ routingKey: process.env.OUT, body: 'x', colour: 'red' }];
        send({ seq: m.seq, outcome: 'ack', emit });
      }`,
    );
    const result = await runWarren(
      [
        'consume',
        work,
        '--pipe',
        h.command,
        '--emit-format',
        'ndjson',
        '--on-failure',
        'reject',
        '--count',
        '2',
      ],
      { env: { HDIR: h.dir, OUT: out }, timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expectClean(result);
    expect(result.stderr).toMatch(
      /message e-bad: handler succeeded, but its emit 1 is not an event: .*colour.*: rejected/,
    );
    expect(result.stderr).toMatch(/2 events emitted/);
    const events = await takeAllFast(broker.connection, out);
    expect(events.map((m) => m.content.toString())).toEqual(['one', 'two']);
    expect(events.map((m) => m.properties.correlationId)).toEqual(['e-good', 'mine']);
    expect(events[0]?.properties.headers?.['x-warren-causation-id']).toBe('e-good');
    expect(idsOf(await takeAllFast(broker.connection, dlq))).toEqual(['e-bad']);
    expect(await broker.messageCount(work)).toBe(0);
  });

  describe('the example handlers', () => {
    for (const [language, command] of [
      ['sh+jq', 'sh ship.sh'],
      ['Python', 'python3 ship.py'],
      ['Node', 'node ship.mjs'],
    ] as const) {
      it(`${language}: orders in, order.shipped events out, the bad order rejected, the queue empty`, async () => {
        const { work, dlq } = await withDeadLetters('pipe-ship');
        const events = await broker.exchange('pipe-ship-events', 'topic');
        const shipped = await broker.queue('pipe-shipped');
        await broker.channel.bindQueue(shipped, events, 'order.shipped');
        const orders = ['o-1', 'o-2', 'o-3', 'o-4', 'o-5'];
        for (const id of orders)
          await broker.publish('', work, JSON.stringify({ id }), { messageId: `in-${id}` });
        await broker.publish('', work, 'not an order', { messageId: 'in-bad' });
        const result = await runWarren(
          [
            'consume',
            work,
            '--pipe',
            `cd '${EXAMPLES}' && exec ${command}`,
            '--emit',
            events,
            '--count',
            '6',
          ],
          { timeoutMs: 60_000 },
        );
        expect(result.code, result.stderr).toBe(0);
        expectClean(result);
        expect(result.stderr).toMatch(/5 events emitted/);
        expect(await broker.messageCount(work)).toBe(0);
        expect(idsOf(await takeAllFast(broker.connection, dlq))).toEqual(['in-bad']);
        const out = await takeAllFast(broker.connection, shipped);
        expect(sorted(out.map((m) => (JSON.parse(m.content.toString()) as { id: string }).id))).toEqual(
          orders,
        );
        for (const event of out) {
          const { id } = JSON.parse(event.content.toString()) as { id: string };
          expect(event.properties.correlationId).toBe(`in-${id}`);
          expect(event.properties.type).toBe('order.shipped');
          expect(event.fields.routingKey).toBe('order.shipped');
        }
      });
    }
  });

  it('usage: --pipe goes without --exec and --reply, and takes --prefetch', async () => {
    const queue = await broker.queue('pipe-usage');
    const both = await runWarren(['consume', queue, '--pipe', 'cat', '--exec', 'cat']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--pipe does not go with --exec');
    const reply = await runWarren(['consume', queue, '--pipe', 'cat', '--reply']);
    expect(reply.code).toBe(2);
    expect(reply.stderr).toContain('--reply goes with --exec');
    const format = await runWarren(['consume', queue, '--pipe', 'cat', '--format', 'ndjson']);
    expect(format.code).toBe(2);
    const prefetch = await runWarren([
      'consume',
      queue,
      '--pipe',
      'cat',
      '--prefetch',
      '7',
      '--timeout',
      '1s',
      '-v',
    ]);
    expect(prefetch.code, prefetch.stderr).toBe(0);
    expect(prefetch.stderr).toContain('with 1 handler process, up to 7 messages in flight');
  });
});
