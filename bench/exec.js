/**
 * The `exec` scenario of `npm run bench` (`--only exec`): a process per message.
 * `warren consume Q --exec 'cat >/dev/null' --count N` against rabbitmq-c's `amqp-consume`
 * (Debian's amqp-tools) running the same handler, on the same queue fill, in the same run:
 *
 * - the row with the target: amqp-consume runs `/bin/sh -c 'cat >/dev/null'`, the very
 *   processes warren's `--exec` runs (warren's handler is a shell command line; amqp-consume
 *   runs an argv without a shell);
 * - for information, amqp-consume running `cat` itself, no shell, its stdout to /dev/null:
 *   the comparison the issue first made.
 *
 * Both ack each message once its handler exited; amqp-consume prefetches --count messages
 * (its qos is the count), warren as its --concurrency says. The set-up installs amqp-tools
 * with apt-get when it is missing and the bench runs as root; otherwise the rows say why
 * they were skipped.
 */
import { execFileSync } from 'node:child_process';

const HANDLER = 'cat >/dev/null';

/** amqp-consume's path, installing amqp-tools when it can; or why there is none. */
function amqpConsume(log) {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v amqp-consume'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = find();
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { why: 'amqp-consume is not installed (apt-get install amqp-tools)' };
  log('exec: amqp-consume is missing: installing amqp-tools with apt-get');
  try {
    const quiet = {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    try {
      execFileSync('apt-get', ['install', '-y', '-q', 'amqp-tools'], quiet);
    } catch {
      // A fresh image has no package lists yet.
      execFileSync('apt-get', ['update', '-q'], quiet);
      execFileSync('apt-get', ['install', '-y', '-q', 'amqp-tools'], quiet);
    }
  } catch (error) {
    const why = String(error.stderr ?? error.message)
      .trim()
      .split('\n')
      .at(-1);
    return { why: `amqp-tools could not be installed: ${why}` };
  }
  const installed = find();
  return installed ? { path: installed } : { why: 'amqp-tools installed, yet no amqp-consume on PATH' };
}

/** rabbitmq-c reads `amqp://host/` as the vhost '' (not '/'): give it the URL without the slash. */
function rabbitmqCUrl(url) {
  const parsed = new URL(url);
  return parsed.pathname === '/' ? url.replace(/\/$/, '') : url;
}

/**
 * Returns two report rows (throughput: warren's rate over amqp-consume's), or rows with
 * `skipped` set when there is no amqp-consume.
 */
export async function execScenario({
  broker,
  warren,
  brokerUrl,
  tmp,
  count,
  target,
  log,
  problem,
  alternate,
  runChild,
  throughputRow,
}) {
  const consume = amqpConsume(log);
  const viaShell = `consume --exec '${HANDLER}', sequential (${count})`;
  const bare = `consume --exec '${HANDLER}' vs amqp-consume cat (no shell)`;
  if (!consume.path) {
    return [
      { scenario: viaShell, skipped: consume.why },
      { scenario: bare, skipped: consume.why },
    ];
  }
  const url = rabbitmqCUrl(brokerUrl);
  let queue;
  const sides = [
    {
      name: 'baseline',
      program: consume.path,
      argv: () => ['-u', url, '-q', queue, '-c', String(count), '--', '/bin/sh', '-c', HANDLER],
    },
    { name: 'warren', argv: () => [warren, 'consume', queue, '--exec', HANDLER, '--count', String(count)] },
    { name: 'bare', program: consume.path, argv: () => ['-u', url, '-q', queue, '-c', String(count), 'cat'] },
  ].map((side) => ({ ...side, scenario: 'exec' }));
  const results = await alternate(sides, async (side) => {
    queue = await broker.queue('exec');
    await broker.fill(queue, count);
    const run = await runChild(`${side.name} exec`, side.argv(), { tmp, program: side.program });
    const left = await broker.count(queue);
    if (left !== 0) problem(`exec: ${side.name} left messages in the queue`, `${left} of ${count}`);
    if (
      side.name === 'warren' &&
      !new RegExp(`handled ${count} messages .*: ${count} acked`).test(run.stderr)
    ) {
      problem('exec: warren did not ack every message', run.stderr.trim().split('\n').at(-1));
    }
    await broker.drop(queue);
    return run;
  });
  const shellRow = throughputRow(viaShell, target, results, count);
  const bareRow = throughputRow(bare, undefined, { warren: results.warren, baseline: results.bare }, count);
  return [
    {
      ...shellRow,
      baselineName: 'amqp-consume',
      note: `amqp-consume -q Q -c ${count} -- /bin/sh -c '${HANDLER}' (the same processes); both ack each message after its handler`,
    },
    { ...bareRow, baselineName: 'amqp-consume cat', note: `amqp-consume -q Q -c ${count} cat > /dev/null` },
  ];
}
