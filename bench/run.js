#!/usr/bin/env node
/**
 * `npm run bench [-- --quick]`: warren against a raw amqplib loop doing the same work.
 *
 * - publish: N NDJSON envelopes (100-byte bodies) from stdin, confirms, mandatory;
 * - consume: N messages from a pre-filled queue to a file, as NDJSON (and, for
 *   information, as bare bodies);
 * - replay: the same envelopes from a file (`warren replay FILE`) against the same amqplib
 *   confirm loop, and a dead-letter re-drive (`warren replay --from-queue`) against an
 *   amqplib consume → publish → ack-on-confirm loop;
 * - exec: `consume --exec` (a process per message) against rabbitmq-c's `amqp-consume` with
 *   the same handler (bench/exec.js);
 * - pipe, emit: `consume --pipe` with a trivial Node handler against `consume --format
 *   ndjson`, and with one event emitted per input against a raw amqplib consume, publish,
 *   ack-on-confirm loop (bench/handlers.js);
 * - load: `warren bench` (one producer, one consumer) against a raw amqplib producer and
 *   consumer at once, by the rates each reports, and against the publish and consume
 *   baselines above (bench/load.js);
 * - a single `warren publish` against `node -e 0`.
 *
 * Every run is a whole child process, timed from spawn to exit. The sides alternate and
 * each takes its best of several trials, since noise (other work on the machine) only ever
 * makes a run slower. The result is a report: it exits 0 when a target is missed and
 * non-zero only when something broke (a child failed, or a message count is wrong).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { execScenario } from './exec.js';
import { emitScenario, pipeScenario, stallScenario } from './handlers.js';
import { lineCount } from './lines.js';
import { againstAlone, loadScenario } from './load.js';
import { lsScenario } from './ls.js';
import { routeScenario } from './route.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write(
    'usage: npm run bench [-- --quick] [-- --only SCENARIO[,SCENARIO…]]   (--quick: a tenth of the work;\n' +
      '  --only runs the scenarios named: publish, lines, replay, redrive, consume, load, tail, exec,\n' +
      '  pipe, emit, startup, memory, large, ls, route; comma-separated)\n',
  );
  process.exit(0);
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const WARREN = join(ROOT, 'bin', 'warren.js');
const BASELINE_PUBLISH = join(ROOT, 'bench', 'baseline-publish.js');
const BASELINE_CONSUME = join(ROOT, 'bench', 'baseline-consume.js');
const BASELINE_SINGLE = join(ROOT, 'bench', 'baseline-single.js');
const BASELINE_REDRIVE = join(ROOT, 'bench', 'baseline-redrive.js');
const BASELINE_BENCH = join(ROOT, 'bench', 'baseline-bench.js');
const BROKER_URL = process.env.WARREN_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const MESSAGES = flags.quick ? 10_000 : 100_000;
// Best of three: noise only ever slows a run down.
const TRIALS = flags.quick ? 1 : 3;
/** The memory scenario's larger N (and a tenth of it): 1 KiB messages. */
const MEMORY_MESSAGES = flags.quick ? 100_000 : 1_000_000;
/**
 * The slow reader: it stops for STALL_MS after every STALL_EVERY bytes, so warren must hold
 * back (socket buffers full, prefetch used up) again and again, however fast it is.
 */
const STALL_EVERY = 64 * 1024 * 1024;
const STALL_MS = 1000;
const LARGE_MIB = 64;
const MEMORY_LIMIT_MB = 150;
const STARTUP_RUNS = flags.quick ? 3 : 10;
const BODY_BYTES = 100;
const CHILD_TIMEOUT_MS = 120_000;
const benchStarted = performance.now();

const TARGET_THROUGHPUT = 1.0;
const TARGET_STARTUP = 1.3;
/** `warren ls queues` over LS_QUEUES queues against curl of the same API pages: at most 1.3× its time. */
const TARGET_LS = 1.3;
const LS_QUEUES = flags.quick ? 1_000 : 5_000;
/** `consume --pipe` (and `--emit`): a line each way per message. */
const HANDLER_MESSAGES = flags.quick ? 5_000 : 20_000;
/** `--pipe` with a trivial handler: at least 0.7 of `consume --format ndjson`'s rate. */
const TARGET_PIPE = 0.7;
/** `--pipe --emit`: at least 0.5 of a raw amqplib consume, publish, ack-on-confirm loop. */
const TARGET_EMIT = 0.5;
/** `consume --exec`: a process per message, so far fewer messages. */
const EXEC_MESSAGES = flags.quick ? 200 : 1_000;

/** Something broke: the bench cannot report (exit 1), as opposed to a missed target. */
class BenchBroken extends Error {}

const log = (line) => process.stderr.write(`bench: ${line}\n`);

/**
 * Wrong message counts: the run is still timed and reported, then the bench exits 1.
 * Each distinct problem is listed once, with how many runs showed it.
 */
const problems = new Map();
function problem(text, detail = '') {
  problems.set(text, { runs: (problems.get(text)?.runs ?? 0) + 1, detail });
  log(`problem: ${text}${detail ? ` (${detail})` : ''}`);
}

// ---------------------------------------------------------------------------------------
// The work: N envelopes, each with a 100-byte JSON body, transient, to the default exchange.

function makeBody(seq) {
  const head = `{"seq":${seq},"pad":"`;
  const tail = '"}';
  return head + 'x'.repeat(BODY_BYTES - head.length - tail.length) + tail;
}

const PROPERTIES = { contentType: 'application/json', deliveryMode: 1 };

/** `count` lines of `size` bytes each (plus the newline), numbered. */
function writeLines(file, count, size) {
  const fd = openSync(file, 'w');
  const pad = 'x'.repeat(size);
  let chunk = '';
  for (let seq = 1; seq <= count; seq += 1) {
    const head = `${seq} `;
    chunk += `${head}${pad.slice(head.length)}\n`;
    if (seq % 4096 === 0) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

function writeEnvelopes(file, count) {
  const receivedAt = new Date().toISOString();
  const lines = [];
  for (let seq = 1; seq <= count; seq += 1) {
    lines.push(
      JSON.stringify({
        exchange: '',
        routingKey: 'bench',
        redelivered: false,
        properties: PROPERTIES,
        body: makeBody(seq),
        bodyEncoding: 'utf8',
        receivedAt,
      }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------
// Child processes: wall time from spawn to exit, and peak RSS from GNU time when it exists.

/** The bench's own environment with `changes` applied; an undefined value removes a variable. */
function childEnv(changes = {}) {
  const env = { ...process.env, WARREN_URL: BROKER_URL, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete env[name];
  return env;
}

/** The child now running, killed if the bench is interrupted. */
let running;
let rssFiles = 0;

/**
 * The broker's own CPU time (user + system, in ms) from /proc, when the broker listening on
 * the bench URL's port runs on this machine: a run during which the broker was busy all the
 * time (broker CPU ≈ wall time) was paced by the broker, not by the client.
 */
const BROKER_PID = (() => {
  try {
    const port = new URL(BROKER_URL).port || '5672';
    const out = execFileSync('ss', ['-Htlnp', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid && existsSync(`/proc/${pid}/stat`) ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
})();
function brokerCpuMs() {
  if (BROKER_PID === undefined) return undefined;
  try {
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    const stat = readFileSync(`/proc/${BROKER_PID}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}
/** Bytes the slow reader took, for the memory scenario's check. */
let slowRead = 0;

/**
 * `onStderr` sees the child's stderr as it comes (tail: "bound" means publish now);
 * `slowStdout` reads stdout at about that many bytes per millisecond, as a slow reader;
 * `program` runs something other than a Node script (argv is then its arguments).
 */
function runChild(
  label,
  argv,
  { stdin, stdout, env, measureRss = true, tmp, onStderr, slowStdout, program = process.execPath },
) {
  rssFiles += 1;
  const rssFile = measureRss && GNU_TIME ? join(tmp, `rss-${rssFiles}`) : undefined;
  const [command, ...args] = rssFile
    ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, program, ...argv]
    : [program, ...argv];
  const inFd = stdin ? openSync(stdin, 'r') : 'ignore';
  const outFd = slowStdout ? 'pipe' : stdout ? openSync(stdout, 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const brokerBefore = brokerCpuMs();
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: [inFd, outFd, 'pipe'],
      env: childEnv(env),
    });
    running = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      stderr += text;
      onStderr?.(stderr);
    });
    if (slowStdout) {
      let budget = 0;
      child.stdout.on('data', (chunk) => {
        slowRead += chunk.length;
        budget += chunk.length;
        if (budget >= STALL_EVERY) {
          child.stdout.pause();
          setTimeout(() => child.stdout.resume(), STALL_MS);
          budget = 0;
        }
      });
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new BenchBroken(`${label}: cannot start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      running = undefined;
      if (typeof inFd === 'number') closeSync(inFd);
      if (typeof outFd === 'number') closeSync(outFd);
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited ${code}`;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new BenchBroken(`${label} ${why}${tail ? `: ${tail}` : ''}`));
        return;
      }
      let rssKb;
      let cpuMs;
      if (rssFile) {
        // GNU time writes a status line first when the command fails; the figures are last.
        const last = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1) ?? '';
        const [maxRss, user, system] = last.split(' ').map(Number);
        if (Number.isFinite(maxRss)) rssKb = maxRss;
        if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user + system) * 1000;
      }
      const brokerAfter = brokerCpuMs();
      const brokerMs =
        brokerBefore === undefined || brokerAfter === undefined ? undefined : brokerAfter - brokerBefore;
      resolve({ ms, rssKb, cpuMs, brokerMs, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------
// The broker side of the bench: its own queues, pre-filling and counting.

class BenchBroker {
  static async open() {
    const connection = await amqp.connect(BROKER_URL, { noDelay: true });
    const channel = await connection.createConfirmChannel();
    return new BenchBroker(connection, channel);
  }

  constructor(connection, channel) {
    this.connection = connection;
    this.channel = channel;
    this.queues = [];
    this.exchanges = [];
  }

  async queue(role) {
    const name = `warren-bench.${role}.${process.pid}.${randomBytes(4).toString('hex')}`;
    // The expiry removes the queue even if this run is killed before it cleans up.
    await this.channel.assertQueue(name, { durable: false, arguments: { 'x-expires': 15 * 60_000 } });
    this.queues.push(name);
    return name;
  }

  async drop(queue) {
    await this.channel.deleteQueue(queue);
    this.queues = this.queues.filter((name) => name !== queue);
  }

  async exchange(role) {
    const name = `warren-bench.${role}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await this.channel.assertExchange(name, 'fanout', { durable: false, autoDelete: false });
    this.exchanges.push(name);
    return name;
  }

  /** Publishes N messages of the bench's bodies through an exchange, with confirms. */
  async fillExchange(exchange, count) {
    for (let seq = 1; seq <= count; seq += 1) {
      this.channel.publish(exchange, '', Buffer.from(makeBody(seq)), PROPERTIES);
      if (seq % 5000 === 0) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  async count(queue) {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async purge(queue) {
    await this.channel.purgeQueue(queue);
  }

  /** Fills a queue the same way before either side consumes it: same bodies, same properties. */
  async fill(queue, count) {
    for (let seq = 1; seq <= count; seq += 1) {
      this.channel.sendToQueue(queue, Buffer.from(makeBody(seq)), PROPERTIES);
      if (seq % 20_000 === 0) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  /** Fills a queue with messages that look dead-lettered from `origin` (an x-death header). */
  async fillDeadLettered(queue, origin, count) {
    const headers = {
      'x-death': [{ count: 1, reason: 'rejected', queue: origin, exchange: '', 'routing-keys': [origin] }],
      'x-first-death-exchange': '',
      'x-first-death-queue': origin,
      'x-first-death-reason': 'rejected',
    };
    for (let seq = 1; seq <= count; seq += 1) {
      this.channel.sendToQueue(queue, Buffer.from(makeBody(seq)), { ...PROPERTIES, headers });
      if (seq % 20_000 === 0) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  async cleanup() {
    for (const queue of this.queues) await this.channel.deleteQueue(queue).catch(() => {});
    for (const exchange of this.exchanges) await this.channel.deleteExchange(exchange).catch(() => {});
    await this.connection.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------
// Scenarios.

const best = (runs) => Math.min(...runs.map((r) => r.ms));
const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const peakRss = (runs) => {
  const known = runs.map((r) => r.rssKb).filter((kb) => kb !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
};
/** CPU time (user + system) is less disturbed by other work than wall time: the least of the runs. */
const leastCpu = (runs) => {
  const known = runs.map((r) => r.cpuMs).filter((ms) => ms !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
};

/** Runs both sides TRIALS times, alternating which goes first. */
async function alternate(sides, trial) {
  const results = Object.fromEntries(sides.map((side) => [side.name, []]));
  for (let i = 0; i < TRIALS; i += 1) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const run = await trial(side, i);
      results[side.name].push(run);
      log(`${side.scenario} ${i + 1}/${TRIALS}: ${side.name} ${(run.ms / 1000).toFixed(2)} s`);
    }
  }
  return results;
}

const summary = (ms, runs, count) => ({
  ms,
  rate: (count * 1000) / ms,
  rssKb: peakRss(runs),
  cpuMs: leastCpu(runs),
  // How busy the broker was during the best run: its CPU time over the run's wall time.
  brokerBusy: (() => {
    const run = runs.find((r) => r.ms === ms);
    return run?.brokerMs === undefined ? undefined : run.brokerMs / run.ms;
  })(),
});

function throughputRow(scenario, target, results, count = MESSAGES) {
  const warrenMs = best(results.warren);
  const baselineMs = best(results.baseline);
  return {
    scenario,
    kind: 'throughput',
    warren: summary(warrenMs, results.warren, count),
    baseline: summary(baselineMs, results.baseline, count),
    // Ratio of rates: above 1 means warren is faster.
    ratio: baselineMs / warrenMs,
    target,
  };
}

async function publishScenario(broker, tmp, envelopes) {
  const queue = await broker.queue('publish');
  const sides = [
    {
      name: 'baseline',
      scenario: 'publish',
      argv: [BASELINE_PUBLISH, '--url', BROKER_URL, '--exchange', '', '--routing-key', queue],
    },
    {
      name: 'warren',
      scenario: 'publish',
      argv: [WARREN, 'publish', '--input', 'ndjson', '--exchange', '', '--routing-key', queue],
    },
  ];
  const results = await alternate(sides, async (side) => {
    await broker.purge(queue);
    const run = await runChild(`${side.name} publish`, side.argv, {
      stdin: envelopes,
      tmp,
    });
    const count = await broker.count(queue);
    if (count !== MESSAGES)
      problem(`${side.name} publish: wrong number of messages in the queue`, `${count}`);
    return run;
  });
  await broker.purge(queue);
  return throughputRow('publish ndjson, confirms', TARGET_THROUGHPUT, results);
}

async function replayFileScenario(broker, tmp, envelopes) {
  const queue = await broker.queue('replay');
  const sides = [
    {
      name: 'baseline',
      scenario: 'replay file',
      argv: [BASELINE_PUBLISH, '--url', BROKER_URL, '--exchange', '', '--routing-key', queue],
      stdin: envelopes,
    },
    {
      name: 'warren',
      scenario: 'replay file',
      argv: [WARREN, 'replay', envelopes, '--exchange', '', '--routing-key', queue],
    },
  ];
  const results = await alternate(sides, async (side) => {
    await broker.purge(queue);
    const run = await runChild(`${side.name} replay`, side.argv, { stdin: side.stdin, tmp });
    const count = await broker.count(queue);
    if (count !== MESSAGES) problem(`${side.name} replay: wrong number of messages in the queue`, `${count}`);
    return run;
  });
  await broker.purge(queue);
  return throughputRow('replay FILE, confirms', TARGET_THROUGHPUT, results);
}

async function redriveScenario(broker, tmp) {
  // A fifth of the work: one message per round trip of acks makes it the slowest scenario.
  const count = MESSAGES / 10;
  const dlq = await broker.queue('dlq');
  const target = await broker.queue('redriven');
  const sides = [
    {
      name: 'baseline',
      scenario: 'replay --from-queue',
      argv: [BASELINE_REDRIVE, '--url', BROKER_URL, '--queue', dlq, '--to', target, '--count', String(count)],
    },
    { name: 'warren', scenario: 'replay --from-queue', argv: [WARREN, 'replay', '--from-queue', dlq] },
  ];
  const results = await alternate(sides, async (side) => {
    await broker.purge(dlq);
    await broker.purge(target);
    await broker.fillDeadLettered(dlq, target, count);
    const run = await runChild(`${side.name} re-drive`, side.argv, { tmp });
    const [left, moved] = [await broker.count(dlq), await broker.count(target)];
    if (left !== 0 || moved !== count) {
      problem(`${side.name} re-drive: wrong counts`, `${left} left, ${moved} moved`);
    }
    return run;
  });
  await broker.purge(target);
  return throughputRow(`replay --from-queue (DLQ re-drive, ${count / 1000}k)`, undefined, results, count);
}

async function publishLinesScenario(broker, tmp, lines) {
  const queue = await broker.queue('lines');
  const sides = [
    {
      name: 'baseline',
      scenario: 'publish lines',
      argv: [BASELINE_PUBLISH, '--url', BROKER_URL, '--input', 'lines', '--routing-key', queue],
    },
    { name: 'warren', scenario: 'publish lines', argv: [WARREN, 'publish', '--input', 'lines', '-k', queue] },
  ];
  const results = await alternate(sides, async (side) => {
    await broker.purge(queue);
    const run = await runChild(`${side.name} publish lines`, side.argv, { stdin: lines, tmp });
    const count = await broker.count(queue);
    if (count !== MESSAGES) problem(`${side.name} publish lines: wrong number of messages`, `${count}`);
    return run;
  });
  await broker.purge(queue);
  return throughputRow('publish lines, confirms', TARGET_THROUGHPUT, results);
}

/** tail: each side binds its own queue to a fanout exchange, then N messages go through it. */
async function tailScenario(broker, tmp) {
  const exchange = await broker.exchange('tail');
  const files = { warren: join(tmp, 'warren.tail'), baseline: join(tmp, 'baseline.tail') };
  const sides = [
    {
      name: 'baseline',
      scenario: 'tail',
      argv: [BASELINE_CONSUME, '--url', BROKER_URL, '--exchange', exchange, '--count', String(MESSAGES)],
      ready: /^bound$/m,
    },
    {
      name: 'warren',
      scenario: 'tail',
      argv: [WARREN, 'tail', exchange, '--count', String(MESSAGES), '--format', 'ndjson', '-v'],
      ready: /tapping/,
    },
  ];
  const results = await alternate(sides, async (side) => {
    let publishing;
    const run = await runChild(`${side.name} tail`, side.argv, {
      stdout: files[side.name],
      tmp,
      onStderr: (text) => {
        if (!publishing && side.ready.test(text)) publishing = broker.fillExchange(exchange, MESSAGES);
      },
    });
    await publishing;
    const lines = lineCount(files[side.name]);
    if (lines !== MESSAGES) problem(`${side.name} tail: wrong number of lines written`, `${lines}`);
    return run;
  });
  return throughputRow('tail (fanout) to a file', TARGET_THROUGHPUT, results);
}

/**
 * Memory, flat as N grows: publish N lines of 1 KiB from stdin, then consume them into a
 * reader that keeps stalling (so warren must hold back, not buffer), at N and N/10.
 */
async function memoryScenario(broker, tmp) {
  const queue = await broker.queue('memory');
  const rows = [];
  for (const count of [MEMORY_MESSAGES / 10, MEMORY_MESSAGES]) {
    const file = join(tmp, `kib-lines-${count}.txt`);
    writeLines(file, count, 1024);
    await broker.purge(queue);
    const publish = await runChild(
      `warren publish ${count} lines`,
      [WARREN, 'publish', '--input', 'lines', '-k', queue],
      {
        stdin: file,
        tmp,
      },
    );
    rmSync(file);
    const queued = await broker.count(queue);
    if (queued !== count) problem(`memory: publish ${count} lines: wrong number queued`, `${queued}`);
    slowRead = 0;
    const consume = await runChild(
      `warren consume ${count} slowly`,
      [WARREN, 'consume', queue, '--count', String(count), '--format', 'body'],
      { tmp, slowStdout: true },
    );
    if (slowRead !== count * 1025)
      problem(`memory: consume ${count}: wrong number of bytes read`, `${slowRead}`);
    log(`memory ${count}: publish ${megabytes(publish.rssKb)}, consume ${megabytes(consume.rssKb)}`);
    rows.push({ count, publish, consume });
  }
  await broker.purge(queue);
  return rows;
}

/** One 64 MiB body through publish and consume, byte for byte; seconds per MiB each way. */
async function largeMessageScenario(broker, tmp) {
  const queue = await broker.queue('large');
  const body = join(tmp, 'large.bin');
  const bytes = randomBytes(LARGE_MIB * 1024 * 1024);
  writeFileSync(body, bytes);
  const publish = await runChild('warren publish 64 MiB', [WARREN, 'publish', '-k', queue, '--file', body], {
    tmp,
  });
  const out = join(tmp, 'large.out');
  const consume = await runChild(
    'warren consume 64 MiB',
    [WARREN, 'consume', queue, '--count', '1', '--format', 'body'],
    {
      stdout: out,
      tmp,
    },
  );
  const back = readFileSync(out);
  // --format body writes the body and a newline.
  if (!back.subarray(0, bytes.length).equals(bytes) || back.length !== bytes.length + 1) {
    problem('64 MiB: the consumed body differs from the published one', `${back.length} bytes back`);
  }
  rmSync(body);
  rmSync(out);
  return { publish, consume };
}

/** Warns when the two sides' records differ in more than receivedAt: not the same work. */
function compareFirstRecords(files) {
  const first = (file) => {
    const line = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
    const record = JSON.parse(line);
    delete record.receivedAt;
    // Each run reads its own queue: the routing key (the queue's name) differs by design.
    delete record.routingKey;
    return JSON.stringify(record);
  };
  const [warren, baseline] = [first(files.warren), first(files.baseline)];
  if (warren !== baseline) log(`warning: records differ\n  warren:   ${warren}\n  baseline: ${baseline}`);
}

async function consumeScenario(broker, tmp, format, target) {
  const files = { warren: join(tmp, `warren.${format}`), baseline: join(tmp, `baseline.${format}`) };
  // Each run gets a fresh queue, filled the same way: a queue that was filled and drained
  // before is not in the same state as a new one, and that showed as a bias by run order.
  let queue;
  const sides = [
    {
      name: 'baseline',
      scenario: `consume ${format}`,
      argv: [
        BASELINE_CONSUME,
        '--url',
        BROKER_URL,
        '--queue',
        () => queue,
        '--count',
        String(MESSAGES),
        '--format',
        format,
      ],
    },
    {
      name: 'warren',
      scenario: `consume ${format}`,
      argv: [WARREN, 'consume', () => queue, '--count', String(MESSAGES), '--format', format],
    },
  ];
  const results = await alternate(sides, async (side) => {
    queue = await broker.queue(`consume-${format}`);
    await broker.fill(queue, MESSAGES);
    const argv = side.argv.map((arg) => (typeof arg === 'function' ? arg() : arg));
    const run = await runChild(`${side.name} consume`, argv, {
      stdout: files[side.name],
      tmp,
    });
    const lines = lineCount(files[side.name]);
    if (lines !== MESSAGES) {
      problem(`${side.name} consume --format ${format}: wrong number of lines written`, `${lines}`);
    }
    // Every message written must have been acked: anything left was written and requeued.
    const left = await broker.count(queue);
    if (left !== 0) {
      problem(`${side.name} consume --format ${format}: records written but still in the queue`, `${left}`);
    }
    await broker.drop(queue);
    return run;
  });
  if (format === 'ndjson') compareFirstRecords(files);
  return throughputRow(`consume ${format} to a file`, target, results);
}

async function startupScenario(broker, tmp, variant = { label: '', env: {}, subject: 'warren' }) {
  const queue = await broker.queue('single');
  // The subject is warren, or (as the floor to compare with) a minimal amqplib script.
  const subject =
    variant.subject === 'amqplib'
      ? [BASELINE_SINGLE, '--url', BROKER_URL, '--routing-key', queue]
      : [WARREN, 'publish', '--routing-key', queue, 'x'];
  const sides = [
    { name: 'baseline', argv: ['-e', '0'] },
    { name: 'warren', argv: subject },
  ];
  const options = { env: variant.env, tmp, measureRss: false };
  // One untimed run each, so neither side pays for a cold file cache.
  for (const side of sides) await runChild(`${side.name} (warm-up)`, side.argv, options);
  const times = { baseline: [], warren: [] };
  for (let i = 0; i < STARTUP_RUNS; i += 1) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) times[side.name].push((await runChild(side.name, side.argv, options)).ms);
  }
  // Peak RSS from one more run each under GNU time, kept out of the timings.
  const rss = {};
  for (const side of sides)
    rss[side.name] = await runChild(side.name, side.argv, { ...options, measureRss: true });
  const published = await broker.count(queue);
  const expected = STARTUP_RUNS + 2;
  if (published !== expected) {
    problem('single publish: wrong number of messages in the queue', `${published}, not ${expected}`);
  }
  const warrenMs = median(times.warren);
  const baselineMs = median(times.baseline);
  log(
    `single publish${variant.label}: warren median ${warrenMs.toFixed(0)} ms, node -e 0 median ${baselineMs.toFixed(0)} ms`,
  );
  return {
    scenario:
      variant.subject === 'amqplib'
        ? `(floor) amqplib script vs node -e 0${variant.label}`
        : `single publish vs node -e 0${variant.label}`,
    kind: 'startup',
    warren: { ms: warrenMs, rssKb: rss.warren.rssKb, cpuMs: rss.warren.cpuMs },
    baseline: { ms: baselineMs, rssKb: rss.baseline.rssKb, cpuMs: rss.baseline.cpuMs },
    ratio: warrenMs / baselineMs,
    target: variant.subject === 'amqplib' ? undefined : TARGET_STARTUP,
  };
}

// ---------------------------------------------------------------------------------------
// The report.

const thousands = (n) => Math.round(n).toLocaleString('en-US');
const cpu = (ms) =>
  ms === undefined ? 'n/a' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
const megabytes = (kb) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

function verdict(row) {
  if (row.target === undefined) return 'info';
  const met = row.kind === 'throughput' ? row.ratio >= row.target : row.ratio <= row.target;
  return met ? 'pass' : 'FAIL';
}

function busy(row) {
  const { warren, baseline } = row;
  if (row.kind !== 'throughput' || warren.brokerBusy === undefined || baseline.brokerBusy === undefined)
    return '';
  return `${warren.brokerBusy.toFixed(2)} / ${baseline.brokerBusy.toFixed(2)}`;
}

function describe(row) {
  if (row.kind !== 'throughput') {
    return {
      warren: `${row.warren.ms.toFixed(0)} ms`,
      baseline: `${row.baseline.ms.toFixed(0)} ms`,
      target: row.target === undefined ? '-' : `<= ${row.target}`,
    };
  }
  return {
    warren: `${thousands(row.warren.rate)} msg/s`,
    baseline: `${thousands(row.baseline.rate)} msg/s`,
    target: row.target === undefined ? '-' : `>= ${row.target}`,
  };
}

function printReport(rows, memory, large) {
  const header = [
    'scenario',
    'warren',
    'baseline',
    'ratio',
    'target',
    'result',
    'CPU warren',
    'CPU baseline',
    'RSS warren',
    'RSS baseline',
    'broker busy',
  ];
  const measured = rows.filter((row) => row.skipped === undefined);
  const table = measured.map((row) => {
    const shown = describe(row);
    return [
      row.scenario,
      shown.warren,
      shown.baseline,
      row.ratio.toFixed(2),
      shown.target,
      verdict(row),
      cpu(row.warren.cpuMs),
      cpu(row.baseline.cpuMs),
      megabytes(row.warren.rssKb),
      megabytes(row.baseline.rssKb),
      busy(row),
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => cells[i].length)));
  const format = (cells) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [
    `warren bench: ${thousands(MESSAGES)} messages of ${BODY_BYTES} bytes, best of ${TRIALS}; ` +
      `single publish: median of ${STARTUP_RUNS}; node ${process.version}, ${availableParallelism()} CPUs`,
    'publish: NDJSON on stdin, confirms, mandatory; consume: prefetch 1000, ack after write, stdout to a file;',
    'transient messages, non-durable classic queue; wall time of the whole process.',
    "broker busy: the broker's CPU time over the wall time of the best run (warren / baseline); near 1.0 or",
    'more, the broker (one core for the queue and channel processes) set the pace, not the client.',
    '',
    format(header),
    format(widths.map((w) => '-'.repeat(w))),
    ...table.map(format),
    '',
  ];
  for (const row of rows) {
    if (row.skipped !== undefined) {
      out.push(`${row.scenario}: skipped: ${row.skipped}`);
      continue;
    }
    const shown = describe(row);
    const secs = (ms) => (row.kind === 'throughput' ? ` (${(ms / 1000).toFixed(2)} s)` : '');
    const baselineName = row.baselineName ?? (row.kind === 'startup' ? 'node -e 0' : 'amqplib baseline');
    const subject = row.scenario.startsWith('(floor)') ? 'amqplib script' : 'warren';
    out.push(
      `${row.scenario}: ${subject} ${shown.warren}${secs(row.warren.ms)}, ${baselineName} ${shown.baseline}` +
        `${secs(row.baseline.ms)}, ratio ${row.ratio.toFixed(2)} (target ${shown.target}): ${verdict(row)}`,
    );
    if (row.note) out.push(`  ${row.note}`);
  }
  const kb = (n) => `${n / 1000}k`;
  if (memory.length > 0) {
    out.push('', `memory, peak RSS (1 KiB messages; limit ${MEMORY_LIMIT_MB} MB, flat as N grows):`);
    for (const { count, publish, consume } of memory) {
      out.push(
        `  N = ${kb(count).padStart(5)}: publish --input lines ${megabytes(publish.rssKb).padStart(7)} (${(publish.ms / 1000).toFixed(1)} s); ` +
          `consume into a stalling reader ${megabytes(consume.rssKb).padStart(7)} (${(consume.ms / 1000).toFixed(1)} s)`,
      );
    }
    const peak = Math.max(...memory.flatMap((m) => [m.publish.rssKb ?? 0, m.consume.rssKb ?? 0])) / 1024;
    out.push(`  highest: ${peak.toFixed(0)} MB: ${peak <= MEMORY_LIMIT_MB ? 'pass' : 'FAIL'}`);
  }
  const perMib = (ms) => `${(ms / LARGE_MIB).toFixed(1)} ms/MiB`;
  if (large)
    out.push(
      '',
      `one ${LARGE_MIB} MiB body (whole process, start-up included): publish ${(large.publish.ms / 1000).toFixed(2)} s ` +
        `(${perMib(large.publish.ms)}, RSS ${megabytes(large.publish.rssKb)}), consume ${(large.consume.ms / 1000).toFixed(2)} s ` +
        `(${perMib(large.consume.ms)}, RSS ${megabytes(large.consume.rssKb)}), byte for byte: ${problems.has('64 MiB: the consumed body differs from the published one') ? 'NO' : 'yes'}`,
    );
  if (problems.size > 0) {
    out.push('', 'problems (message counts wrong; exit status 1):');
    for (const [text, { runs, detail }] of problems) {
      out.push(`  ${text}: in ${runs} run${runs === 1 ? '' : 's'}, the last: ${detail}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
    throw new BenchBroken("dist/ is missing: run 'npm run build' first");
  }
  const tmp = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  let broker;
  const cleanup = async () => {
    running?.kill('SIGKILL');
    await broker?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    log('interrupted: cleaning up');
    cleanup().finally(() => process.exit(130));
  });
  try {
    broker = await BenchBroker.open().catch((error) => {
      throw new BenchBroken(
        `cannot connect to ${BROKER_URL.replace(/:[^:@/]*@/, ':***@')}: ${error.message}`,
      );
    });
    const envelopes = join(tmp, 'envelopes.ndjson');
    writeEnvelopes(envelopes, MESSAGES);
    if (!GNU_TIME) log('/usr/bin/time not found: peak RSS and CPU time are shown as n/a');
    // Untimed: loads warren and amqplib from disk once, so the first timed run is not the one to pay.
    await runChild('warm-up', [WARREN, '--version'], { tmp, measureRss: false });
    await runChild('warm-up', ['-e', "require('amqplib')"], { tmp, measureRss: false });
    const rows = [];
    // --only takes one scenario or several, comma-separated (publish,consume,load).
    const only = flags.only?.split(',');
    const wanted = (name) => only === undefined || only.includes(name);
    if (wanted('publish')) rows.push(await publishScenario(broker, tmp, envelopes));
    if (wanted('lines')) {
      const lines = join(tmp, 'lines.txt');
      writeLines(lines, MESSAGES, BODY_BYTES);
      rows.push(await publishLinesScenario(broker, tmp, lines));
    }
    if (wanted('replay')) rows.push(await replayFileScenario(broker, tmp, envelopes));
    if (wanted('redrive')) rows.push(await redriveScenario(broker, tmp));
    if (wanted('consume')) {
      rows.push(await consumeScenario(broker, tmp, 'ndjson', TARGET_THROUGHPUT));
      rows.push(await consumeScenario(broker, tmp, 'body', TARGET_THROUGHPUT));
    }
    if (wanted('load')) {
      const load = await loadScenario({
        warren: WARREN,
        baseline: BASELINE_BENCH,
        brokerUrl: BROKER_URL,
        tmp,
        count: MESSAGES,
        target: TARGET_THROUGHPUT,
        alternate,
        runChild,
        problem,
      });
      rows.push(...load.rows);
      const alone = (scenario) => rows.find((row) => row.scenario === scenario);
      const publishAlone = alone('publish ndjson, confirms');
      const consumeAlone = alone('consume ndjson to a file');
      if (publishAlone)
        rows.push(againstAlone('publish', load.warren.publish, publishAlone, TARGET_THROUGHPUT));
      if (consumeAlone)
        rows.push(againstAlone('consume', load.warren.consume, consumeAlone, TARGET_THROUGHPUT));
    }
    if (wanted('tail')) rows.push(await tailScenario(broker, tmp));
    if (wanted('exec')) {
      rows.push(
        ...(await execScenario({
          broker,
          warren: WARREN,
          brokerUrl: BROKER_URL,
          tmp,
          count: EXEC_MESSAGES,
          target: TARGET_THROUGHPUT,
          log,
          problem,
          alternate,
          runChild,
          throughputRow,
        })),
      );
    }
    const handlerBench = {
      broker,
      warren: WARREN,
      root: ROOT,
      brokerUrl: BROKER_URL,
      tmp,
      count: HANDLER_MESSAGES,
      problem,
      alternate,
      runChild,
      throughputRow,
    };
    if (wanted('pipe')) rows.push(await pipeScenario({ ...handlerBench, target: TARGET_PIPE }));
    const stall = wanted('pipe') ? await stallScenario({ ...handlerBench, childEnv }) : undefined;
    if (wanted('emit')) rows.push(await emitScenario({ ...handlerBench, target: TARGET_EMIT }));
    if (wanted('ls')) {
      rows.push(
        await lsScenario({
          brokerUrl: BROKER_URL,
          warren: WARREN,
          tmp,
          trials: TRIALS,
          count: LS_QUEUES,
          target: TARGET_LS,
          log,
          problem,
          childEnv,
        }),
      );
    }
    if (wanted('startup')) {
      rows.push(await startupScenario(broker, tmp));
      rows.push(await startupScenario(broker, tmp, { label: '', env: {}, subject: 'amqplib' }));
      // Every Node process reads NODE_EXTRA_CA_CERTS as it starts: that alone can double the
      // time of `node -e 0` and flatter the ratio, so measure without it as well.
      if (process.env.NODE_EXTRA_CA_CERTS && flags.only === 'startup') {
        const env = { NODE_EXTRA_CA_CERTS: undefined };
        const label = ', no NODE_EXTRA_CA_CERTS';
        rows.push(await startupScenario(broker, tmp, { label, env, subject: 'warren' }));
        rows.push(await startupScenario(broker, tmp, { label, env, subject: 'amqplib' }));
      }
    }
    const memory = wanted('memory') ? await memoryScenario(broker, tmp) : [];
    const large = wanted('large') ? await largeMessageScenario(broker, tmp) : undefined;
    const route = wanted('route')
      ? await routeScenario({
          channel: broker.channel,
          tmp,
          root: ROOT,
          warren: WARREN,
          brokerUrl: BROKER_URL,
          runChild,
        })
      : [];
    printReport(rows, memory, large);
    if (route.length > 0) process.stdout.write(`\n${route.join('\n')}\n`);
    if (stall) process.stdout.write(`\n${stall}\n`);
    log(`bench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s (the issue's limit: 300 s)`);
    if (problems.size > 0) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

try {
  await main();
} catch (error) {
  log(error instanceof BenchBroken ? `broken: ${error.message}` : `broken: ${error.stack ?? error}`);
  process.exitCode = 1;
}
