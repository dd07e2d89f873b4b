/**
 * Files warren creates hold messages, which are often private: `tail --capture FILE` makes a
 * new FILE readable by its owner only (0600) whatever the umask, and leaves the mode of a
 * file that already exists alone. (The config-file permission warning is tested in
 * profiles.test.ts.)
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { runShell } from '../helpers/spawn.js';

let broker: TestBroker;
let dir: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-perm-'));
});

afterAll(async () => {
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * Under `umask 000`, tails a fresh exchange into `capture` until one message arrives, the
 * trigger publishing it once the tail is bound. `control` is created by the same shell: its
 * mode shows the umask really was 000 (0666).
 */
async function captureUnderUmask000(capture: string, control: string) {
  const exchange = await broker.exchange('perm-capture', 'fanout');
  const result = await runShell(
    [
      'umask 000',
      `: > '${control}'`,
      `exec node bin/warren.js tail '${exchange}' --count 1 --timeout 10s --format body --capture '${capture}' --pass-url` +
        ` -- node bin/warren.js publish -q --exchange '${exchange}' --routing-key '' captured-event`,
    ].join('\n'),
    { timeoutMs: 30_000 },
  );
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout.toString()).toBe('captured-event\n');
  expect(mode(control), 'the umask in effect for warren was 000').toBe(0o666);
  // (Whether an existing file is replaced or appended to is not this test's concern.)
  const last = readFileSync(capture, 'utf8').trimEnd().split('\n').at(-1) as string;
  expect((JSON.parse(last) as { body: string }).body).toBe('captured-event');
}

describe('tail --capture FILE', () => {
  it('creates FILE readable and writable by its owner only (0600), even under umask 000', async () => {
    const capture = join(dir, 'new-capture.ndjson');
    await captureUnderUmask000(capture, join(dir, 'control-1'));
    expect(mode(capture).toString(8)).toBe((0o600).toString(8));
  });

  it.each(['644', '640', '660'])('keeps the mode of a FILE that exists (0%s)', async (octal) => {
    const capture = join(dir, `existing-${octal}.ndjson`);
    writeFileSync(capture, 'old contents\n');
    chmodSync(capture, Number.parseInt(octal, 8));
    await captureUnderUmask000(capture, join(dir, `control-${octal}`));
    expect(mode(capture).toString(8)).toBe(octal);
  });
});
