/**
 * The long-running handler scenarios of `npm run bench` (`--only pipe`, `--only emit`):
 *
 * - pipe: `consume Q --pipe 'node bench/pipe-handler.mjs'` (answers ack at once) against
 *   `consume Q --format ndjson` to a file, the same messages: what the line protocol costs
 *   over writing the records (the target: at least 0.7 of its rate);
 * - emit: `consume IN --pipe 'node bench/pipe-handler.mjs --emit' --emit :OUT`, one event
 *   per input, each input acked once its event is confirmed, against bench/baseline-emit.js,
 *   the raw amqplib consume, publish, ack-on-confirm loop (target: at least 0.5 of its rate).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineCount } from './lines.js';

export async function pipeScenario({
  broker,
  warren,
  root,
  tmp,
  count,
  target,
  problem,
  alternate,
  runChild,
  throughputRow,
}) {
  const handler = `node '${join(root, 'bench', 'pipe-handler.mjs')}'`;
  const file = join(tmp, 'pipe-baseline.ndjson');
  let queue;
  const sides = [
    {
      name: 'baseline',
      argv: () => [warren, 'consume', queue, '--count', String(count), '--format', 'ndjson'],
    },
    { name: 'warren', argv: () => [warren, 'consume', queue, '--count', String(count), '--pipe', handler] },
  ].map((side) => ({ ...side, scenario: 'pipe' }));
  const results = await alternate(sides, async (side) => {
    queue = await broker.queue('pipe');
    await broker.fill(queue, count);
    const run = await runChild(`${side.name} pipe`, side.argv(), {
      tmp,
      ...(side.name === 'baseline' ? { stdout: file } : {}),
    });
    if (side.name === 'baseline' && lineCount(file) !== count)
      problem('pipe: consume --format ndjson wrote the wrong number of records', `${lineCount(file)}`);
    if (
      side.name === 'warren' &&
      !new RegExp(`handled ${count} messages .*: ${count} acked`).test(run.stderr)
    ) {
      problem('pipe: warren did not ack every message', run.stderr.trim().split('\n').at(-1));
    }
    const left = await broker.count(queue);
    if (left !== 0) problem(`pipe: ${side.name} left messages in the queue`, `${left} of ${count}`);
    await broker.drop(queue);
    return run;
  });
  return {
    ...throughputRow(`consume --pipe, trivial Node handler (${count})`, target, results, count),
    baselineName: 'consume ndjson',
    note: `consume Q --pipe 'node bench/pipe-handler.mjs' against consume Q --format ndjson > file (both warren)`,
  };
}

export async function emitScenario({
  broker,
  warren,
  root,
  brokerUrl,
  tmp,
  count,
  target,
  problem,
  alternate,
  runChild,
  throughputRow,
}) {
  const handler = `node '${join(root, 'bench', 'pipe-handler.mjs')}' --emit`;
  let input;
  let output;
  const sides = [
    {
      name: 'baseline',
      argv: () => [
        join(root, 'bench', 'baseline-emit.js'),
        '--url',
        brokerUrl,
        '--queue',
        input,
        '--exchange',
        '',
        '--routing-key',
        output,
        '--count',
        String(count),
      ],
    },
    {
      name: 'warren',
      argv: () => [
        warren,
        'consume',
        input,
        '--count',
        String(count),
        '--pipe',
        handler,
        '--emit',
        `:${output}`,
      ],
    },
  ].map((side) => ({ ...side, scenario: 'emit' }));
  const results = await alternate(sides, async (side) => {
    input = await broker.queue('emit-in');
    output = await broker.queue('emit-out');
    await broker.fill(input, count);
    const run = await runChild(`${side.name} emit`, side.argv(), { tmp });
    const [left, emitted] = [await broker.count(input), await broker.count(output)];
    if (left !== 0) problem(`emit: ${side.name} left inputs in the queue`, `${left} of ${count}`);
    if (emitted !== count)
      problem(`emit: ${side.name} emitted the wrong number of events`, `${emitted} of ${count}`);
    await broker.drop(input);
    await broker.drop(output);
    return run;
  });
  return {
    ...throughputRow(`consume --pipe --emit, one event per input (${count})`, target, results, count),
    baselineName: 'amqplib loop',
    note: 'each input acked once its event is confirmed; baseline: bench/baseline-emit.js (raw amqplib)',
  };
}

/** A process's resident memory now, in KiB (Linux), or undefined. */
function rssKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Memory with a handler that stalls: `consume Q --pipe 'cat >/dev/null'` (it reads every
 * line and never answers) on a queue of `count` messages; warren's RSS after 2 s and after
 * 8 s must stay flat (the prefetch bounds what it holds), and after Ctrl-C every message is
 * back in the queue. Returns the report line.
 */
export async function stallScenario({ broker, warren, count, problem, childEnv }) {
  const queue = await broker.queue('pipe-stall');
  await broker.fill(queue, count);
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [warren, 'consume', queue, '--pipe', 'cat >/dev/null', '--grace', '1s'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: childEnv({}),
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const ended = new Promise((resolve) => child.on('close', resolve));
  await sleep(2000);
  const early = rssKb(child.pid);
  await sleep(6000);
  const late = rssKb(child.pid);
  child.kill('SIGINT');
  const code = await ended;
  const left = await broker.count(queue);
  await broker.drop(queue);
  if (code !== 130)
    problem(
      'pipe stall: Ctrl-C did not end the run with 130',
      `${code}: ${stderr.trim().split('\n').at(-1)}`,
    );
  if (left !== count)
    problem('pipe stall: messages missing from the queue after Ctrl-C', `${left} of ${count}`);
  const mb = (kb) => (kb === undefined ? '?' : `${(kb / 1024).toFixed(0)} MB`);
  const flat = early !== undefined && late !== undefined && late <= early * 1.2 + 10 * 1024;
  if (!flat) problem('pipe stall: memory grew while the handler stalled', `${mb(early)} then ${mb(late)}`);
  return `consume --pipe with a handler that never answers (${count} queued): RSS ${mb(early)} after 2 s, ${mb(late)} after 8 s: ${flat ? 'flat' : 'GREW'}; after Ctrl-C ${left} of ${count} back in the queue`;
}
