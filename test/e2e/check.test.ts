/**
 * `warren check` against the test broker: connection OK and past its thresholds, an
 * unreachable broker and a refused login (CRITICAL), each format read by its consumer's
 * rules, a checks file (the worst exit; a bad one named by field and line), and --watch in a
 * pipe ended by Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import amqp from 'amqplib';
import parsePrometheusText from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import checkResultSchema from '../../check-result.schema.json' with { type: 'json' };
import { BROKER_URL, expiring, uniqueName } from '../helpers/broker.js';
import { collect, ndjson, outputSoFar, runWarren, startWarren } from '../helpers/cli.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { runShell } from '../helpers/spawn.js';
import { startInTmux } from '../helpers/tmux.js';

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(checkResultSchema);
const DEAD = 'amqp://guest:guest@127.0.0.1:1/';
const dir = mkdtempSync(join(tmpdir(), 'warren-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The JSON lines of a run, each checked against check-result.schema.json. */
function results(stdout: Buffer): Record<string, unknown>[] {
  const lines = ndjson(stdout);
  for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
  return lines;
}

describe('check connection', () => {
  it('OK: exit 0, json in a pipe, both times measured', async () => {
    const run = await runWarren(['check', 'connection', '--warn', '10m', '--crit', '20m']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [result, ...rest] = results(run.stdout);
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ kind: 'connection', status: 'OK', unit: 'seconds' });
    const measures = result?.['measures'] as { name: string; value: number }[];
    expect(measures.map((m) => m.name)).toEqual(['handshake', 'round_trip']);
    for (const m of measures) expect(m.value).toBeGreaterThan(0);
  });

  // A handshake takes more than no time at all: --warn 0ms is crossed on every run.
  it('--warn 0ms: WARNING, exit 6; --crit 0ms: CRITICAL, exit 7', async () => {
    const warned = await runWarren(['check', 'connection', '--warn', '0ms']);
    expect(warned.code).toBe(6);
    expect(results(warned.stdout)[0]).toMatchObject({
      status: 'WARNING',
      thresholds: { warn: 0, crit: null },
    });
    const critical = await runWarren(['check', 'connection', '--warn', '0ms', '--crit', '0ms']);
    expect(critical.code).toBe(7);
    expect(results(critical.stdout)[0]?.['status']).toBe('CRITICAL');
  });

  it('an unreachable broker is CRITICAL: exit 7, or 2 with --format nagios', async () => {
    const run = await runWarren(['--url', DEAD, 'check', 'connection']);
    expect(run.code).toBe(7);
    const [result] = results(run.stdout);
    expect(result).toMatchObject({
      status: 'CRITICAL',
      value: null,
      target: 'amqp://guest:***@127.0.0.1:1/',
    });
    const nagios = await runWarren(['--url', DEAD, 'check', 'connection', '--format', 'nagios']);
    expect(nagios.code).toBe(2);
    expect(nagios.stdout.toString()).toMatch(
      /^WARREN CRITICAL - connection amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1\//,
    );
    // Nothing measured: no perfdata.
    expect(nagios.stdout.toString().split('\n')[0]).not.toContain('|');
  });

  it('a refused login is CRITICAL too (warren cannot connect), the password not shown', async () => {
    const url = new URL(BROKER_URL);
    url.password = 'not-the-password-42';
    const run = await runWarren(['--url', url.toString(), 'check', 'connection']);
    expect(run.code).toBe(7);
    const [result] = results(run.stdout);
    expect(result?.['status']).toBe('CRITICAL');
    expect(String(result?.['message'])).toContain('login refused');
    expect(run.stdout.toString()).not.toContain('not-the-password-42');
  });

  it('--format nagios OK: exit 0, the perfdata of both times', async () => {
    const run = await runWarren(['check', 'connection', '--format', 'nagios', '--warn', '10m']);
    expect(run.code).toBe(0);
    const first = run.stdout.toString().split('\n')[0] ?? '';
    expect(first).toMatch(/^WARREN OK - /);
    const perf = first.slice(first.indexOf('|') + 1).trim();
    expect(perf).toMatch(
      /^'connection [^']+ handshake'=[\d.]+s;600; 'connection [^']+ round_trip'=[\d.]+s;600;$/,
    );
  });

  it('--format prometheus: parsed by parse-prometheus-text-format and the strict reader', async () => {
    const run = await runWarren(['check', 'connection', '--format', 'prometheus', '--warn', '0ms']);
    expect(run.code).toBe(6);
    const text = run.stdout.toString();
    const families = parsePrometheusText(text);
    const status = families.find((family) => family.name === 'warren_check_status');
    expect(status?.metrics).toEqual([
      { value: '1', labels: { kind: 'connection', target: expect.any(String) } },
    ]);
    const values = parsePrometheus(text).get('warren_check_value')?.samples ?? [];
    expect(values.map((sample) => sample.labels['measure'])).toEqual(['handshake', 'round_trip']);
  });
});

describe('check --file', () => {
  it('runs every check of the file; the exit code is the worst', async () => {
    const path = file(
      'two.json',
      JSON.stringify({
        checks: [
          { kind: 'connection', warn: '10m' },
          { kind: 'connection', warn: 0 },
        ],
      }),
    );
    const run = await runWarren(['check', '--file', path]);
    expect(run.code).toBe(6);
    expect(results(run.stdout).map((result) => result.status)).toEqual(['OK', 'WARNING']);
    const nagios = await runWarren(['check', '--file', path, '--format', 'nagios']);
    expect(nagios.code).toBe(1);
    expect(nagios.stdout.toString().split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^OK: connection /),
      expect.stringMatching(/^WARNING: connection /),
    ]);
  });

  it('mixes kinds: a queue that is missing (CRITICAL) beside the node and a message found; exit 7, the worst', async () => {
    const queue = uniqueName('check-file');
    const connection = await amqp.connect(BROKER_URL);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(queue, expiring({ durable: false }));
      channel.sendToQueue(queue, Buffer.from('{"id":7}'), { messageId: 'm-7', type: 'refund' });
      await channel.close();
      const path = file(
        'kinds.json',
        JSON.stringify({
          checks: [
            { kind: 'queue', queue, maxDepth: 10 },
            { kind: 'queue', queue: `${queue}-missing` },
            { kind: 'message', queue, match: 'properties.type=refund' },
            { kind: 'node' },
          ],
        }),
      );
      const run = await runWarren(['check', '--file', path]);
      expect(run.code, run.stderr.toString()).toBe(7);
      expect(results(run.stdout).map((result) => [result.kind, result.status])).toEqual([
        ['queue', 'OK'],
        ['queue', 'CRITICAL'],
        ['message', 'OK'],
        ['node', 'OK'],
      ]);
      // Peeked, not taken: the message is still there.
      expect((await (await connection.createChannel()).checkQueue(queue)).messageCount).toBe(1);
    } finally {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => {});
      await connection.close();
    }
  });

  it('a file with an error: exit 65, the field and its line named, nothing checked', async () => {
    const path = file(
      'bad.json',
      '{\n  "checks": [\n    { "kind": "connection" },\n    { "kind": "connection", "crit": true }\n  ]\n}\n',
    );
    const run = await runWarren(['check', '--file', path]);
    expect(run.code).toBe(65);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toContain(`${path}: checks[1].crit (line 4, column 37): must be a duration`);
    const unknown = file('kind.json', '{"checks": [\n {"kind": "weather"}]}');
    const second = await runWarren(['check', '--file', unknown]);
    expect(second.code).toBe(65);
    expect(second.stderr).toContain("checks[0].kind (line 2, column 11): 'weather' is not a kind of check");
  });

  it('--file with a kind of check is a usage error', async () => {
    const path = file('one.json', '{"checks": [{"kind": "connection"}]}');
    const run = await runWarren(['check', '--file', path, 'connection']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--file');
  });
});

/** Resolves once the child has written `count` whole lines to stdout (rejects if it ends first). */
function linesWritten(
  child: ChildProcess,
  seen: ReturnType<typeof outputSoFar>,
  count: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (seen.stdout().split('\n').length > count) {
        clearInterval(poll);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`watch ended: ${seen.stderr()}`));
      }
    }, 20);
  });
}

describe('check --watch', () => {
  it('in a pipe: a round of lines at a time until Ctrl-C, then 130', async () => {
    const path = file(
      'watch.json',
      JSON.stringify({ checks: [{ kind: 'connection' }, { kind: 'connection', warn: 0 }] }),
    );
    const child = startWarren(['check', '--file', path, '--watch', '200ms']);
    const seen = outputSoFar(child);
    const done = collect(child);
    // Two whole rounds written: then Ctrl-C, during the wait or a third round.
    await linesWritten(child, seen, 4);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    const lines = results(run.stdout);
    // Whole rounds only, numbered from 1, each with both checks in the file's order.
    expect(lines.length % 2).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    lines.forEach((line, index) => {
      expect(line['round']).toBe(Math.floor(index / 2) + 1);
      expect(line['status']).toBe(index % 2 === 0 ? 'OK' : 'WARNING');
    });
  });

  it('an unreachable broker does not end the watch: each round says CRITICAL', async () => {
    const child = startWarren(['--url', DEAD, 'check', 'connection', '--watch', '100ms']);
    const seen = outputSoFar(child);
    const done = collect(child);
    await linesWritten(child, seen, 2);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    const lines = results(run.stdout);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line['status']).toBe('CRITICAL');
  });

  it('on a terminal: the table redrawn in place, each row within the width; Ctrl-C ends with 130', async () => {
    const path = file(
      'terminal.json',
      JSON.stringify({ checks: [{ kind: 'connection' }, { kind: 'connection', warn: 0 }] }),
    );
    const term = await startInTmux(['check', '--file', path, '--watch', '150ms'], {
      columns: 50,
      rows: 20,
      before: "printf 'kept line\\n'",
      // The exit as the shell saw it (tmux leaves a dead pane's status blank now and then).
      after: 'echo "warren exited $?"',
    });
    try {
      await term.waitFor(/^round 3 at /);
      const screen = await term.screen();
      expect(screen[0]).toBe('kept line');
      // One table on the screen, whatever the round: the earlier ones were erased.
      expect(screen.filter((row) => row.startsWith('round '))).toHaveLength(1);
      expect(screen.filter((row) => row.startsWith('OK       connection '))).toHaveLength(1);
      expect(screen.filter((row) => row.startsWith('WARNING  connection '))).toHaveLength(1);
      // capture-pane joins wrapped rows: a row as wide as the pane would be a line that wrapped.
      for (const row of screen) expect(row.length, row).toBeLessThan(50);
      await term.press('C-c');
      // The terminal echoes ^C where the cursor is, before the shell's line.
      await term.waitFor(/warren exited \d+$/);
      const end = await term.screen();
      expect(end.filter((row) => /warren exited \d+$/.test(row))).toEqual([
        expect.stringMatching(/^(\^C)?warren exited 130$/),
      ]);
      expect(end[0]).toBe('kept line');
      expect(end.filter((row) => row.startsWith('round '))).toHaveLength(1);
    } finally {
      await term.close();
    }
  });

  it('on a terminal just cleared: no copy of an earlier round left in the scrollback', async () => {
    // The table starts at the top left corner, where an erase-below makes tmux keep the
    // screen in its scrollback (its scroll-on-clear).
    const term = await startInTmux(['check', 'connection', '--watch', '150ms'], {
      columns: 80,
      rows: 20,
      before: 'clear',
    });
    try {
      await term.waitFor(/^round 3 at /);
      // The screen and the scrollback above it.
      const all = await term.screen();
      expect(
        all.filter((row) => row.startsWith('round ')),
        all.join('\n'),
      ).toHaveLength(1);
      expect(all.filter((row) => row.startsWith('OK       connection '))).toHaveLength(1);
    } finally {
      await term.close();
    }
  });

  it('a reader that leaves (`| head -n 1`) ends the watch quietly: exit 0', async () => {
    const result = await runShell(
      `timeout -s KILL 20 node bin/warren.js check connection --watch 100ms | head -n 1; echo "exit=\${PIPESTATUS[0]}" >&2`,
      { timeoutMs: 30_000 },
    );
    expect(result.stderr).toBe('exit=0\n');
    expect(results(result.stdout)).toHaveLength(1);
  });

  it('--watch with --format nagios or prometheus, or of 0s, is a usage error', async () => {
    for (const format of ['nagios', 'prometheus']) {
      const run = await runWarren(['check', 'connection', '--watch', '1s', '--format', format]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('does not go with --watch');
    }
    const zero = await runWarren(['check', 'connection', '--watch', '0s']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('more than 0');
  });
});
