/**
 * The `ls` scenario of `npm run bench`: `warren ls queues REGEX --format ndjson > /dev/null`
 * over 5,000 queues against `curl` fetching the same API pages (same page size, same regex,
 * same columns, one keep-alive connection), in the same run, alternating, best of the trials. The queues
 * are declared first (over a few channels: one channel waits for each reply) and deleted
 * after; each has an expiry, so an interrupted run leaves nothing behind.
 *
 * Also warren's peak RSS over a tenth of them, to show memory flat as the list grows.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { importTs } from '../scripts/importTs.mjs';

const CHANNELS = 8;
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** One child process, timed from spawn to exit; peak RSS and CPU from GNU time when it exists. */
function timed(label, command, args, { env, stdout = 'ignore', rssFile }) {
  const [file, ...rest] =
    rssFile && GNU_TIME ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, command, ...args] : [command, ...args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, rest, { stdio: ['ignore', stdout, 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`${label} exited ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
        return;
      }
      let rssKb;
      let cpuMs;
      if (rssFile && GNU_TIME) {
        const [maxRss, user, system] = readFileSync(rssFile, 'utf8')
          .trim()
          .split('\n')
          .at(-1)
          .split(' ')
          .map(Number);
        rssKb = maxRss;
        cpuMs = (user + system) * 1000;
      }
      resolve({ ms, rssKb, cpuMs, stderr });
    });
  });
}

async function eachQueue(connection, names, work) {
  const channels = await Promise.all(Array.from({ length: CHANNELS }, () => connection.createChannel()));
  await Promise.all(
    channels.map(async (channel, c) => {
      for (let i = c; i < names.length; i += CHANNELS) await work(channel, names[i]);
      await channel.close();
    }),
  );
}

/**
 * Returns a report row: `kind: 'time'` (lower is better), warren's time against curl's,
 * the target a ratio of at most `target`.
 */
export async function lsScenario({ brokerUrl, warren, tmp, trials, count, target, log, problem, childEnv }) {
  // curl asks for the pages warren asks for: its page size and the queue fields its records read.
  const { PAGE_SIZE } = await importTs('src/api/client.ts');
  const columns = (await importTs('src/inventory/listing.ts')).API_COLUMNS.queues;
  const url = new URL(brokerUrl);
  const api = `http://${url.hostname}:15672`;
  const user = decodeURIComponent(url.username || 'guest');
  const password = decodeURIComponent(url.password || 'guest');
  const prefix = `warren-bench.ls.${process.pid}.${randomBytes(4).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${prefix}.${String(i).padStart(5, '0')}`);
  const regex = `^${prefix.replace(/\./g, '\\.')}\\.`;
  // The first tenth: 00000 to 00499 of 5,000.
  const tenthRegex = `${regex}0${'[0-4]'}\\d\\d$`;
  const connection = await amqp.connect(brokerUrl);
  const declared = performance.now();
  try {
    await eachQueue(connection, names, (channel, name) =>
      channel.assertQueue(name, { durable: false, arguments: { 'x-expires': 15 * 60_000 } }),
    );
    log(`ls: declared ${count} queues in ${((performance.now() - declared) / 1000).toFixed(1)} s`);
    const vhost = encodeURIComponent(decodeURIComponent(url.pathname.slice(1)) || '/');
    const pages = Math.ceil(count / PAGE_SIZE);
    // As warren's client writes it: the same parameters in the same order.
    const query = (page) =>
      new URLSearchParams({
        columns: columns.join(','),
        name: regex,
        use_regex: 'true',
        page: String(page),
        page_size: String(PAGE_SIZE),
      }).toString();
    const curlArgs = ['-sS', '--fail', '--retry', '2', '-u', `${user}:${password}`];
    for (let page = 1; page <= pages; page += 1) curlArgs.push(`${api}/api/queues/${vhost}?${query(page)}`);
    const sides = {
      curl: () => timed('curl', 'curl', curlArgs, { env: childEnv(), rssFile: join(tmp, 'ls-curl.rss') }),
      warren: () =>
        timed('warren ls', process.execPath, [warren, 'ls', 'queues', regex, '--format', 'ndjson'], {
          env: childEnv(),
          rssFile: join(tmp, 'ls-warren.rss'),
        }),
    };
    // Untimed: the whole list once into a file, to check every queue is there exactly once.
    const out = join(tmp, 'ls.ndjson');
    const fd = openSync(out, 'w');
    await timed(
      'warren ls (check)',
      process.execPath,
      [warren, 'ls', 'queues', regex, '--format', 'ndjson'],
      {
        env: childEnv(),
        stdout: fd,
      },
    );
    closeSync(fd);
    const listed = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).name);
    if (listed.length !== count || new Set(listed).size !== count) {
      problem(
        'ls: not every queue listed exactly once',
        `${listed.length} lines, ${new Set(listed).size} names`,
      );
    }
    const runs = { curl: [], warren: [] };
    for (let i = 0; i < trials; i += 1) {
      const order = i % 2 === 0 ? ['curl', 'warren'] : ['warren', 'curl'];
      for (const side of order) {
        const run = await sides[side]();
        runs[side].push(run);
        log(`ls ${i + 1}/${trials}: ${side} ${(run.ms / 1000).toFixed(2)} s`);
      }
    }
    const tenth = await timed(
      'warren ls (a tenth)',
      process.execPath,
      [warren, 'ls', 'queues', tenthRegex, '--format', 'ndjson'],
      { env: childEnv(), rssFile: join(tmp, 'ls-tenth.rss') },
    );
    const best = (list) => list.reduce((a, b) => (b.ms < a.ms ? b : a));
    const peak = (list) => Math.max(...list.map((run) => run.rssKb ?? 0)) || undefined;
    const least = (list) => Math.min(...list.map((run) => run.cpuMs ?? Number.POSITIVE_INFINITY));
    const warrenBest = best(runs.warren);
    const curlBest = best(runs.curl);
    return {
      scenario: `ls queues, ${count.toLocaleString('en-US')} queues vs curl`,
      kind: 'time',
      warren: { ms: warrenBest.ms, rssKb: peak(runs.warren), cpuMs: least(runs.warren) },
      baseline: { ms: curlBest.ms, rssKb: peak(runs.curl), cpuMs: least(runs.curl) },
      baselineName: 'curl',
      ratio: warrenBest.ms / curlBest.ms,
      target,
      note: `warren peak RSS: ${count / 10} queues ${((tenth.rssKb ?? 0) / 1024).toFixed(0)} MB, ${count} queues ${((peak(runs.warren) ?? 0) / 1024).toFixed(0)} MB`,
    };
  } finally {
    await eachQueue(connection, names, (channel, name) => channel.deleteQueue(name)).catch(() => {});
    await connection.close().catch(() => {});
  }
}
