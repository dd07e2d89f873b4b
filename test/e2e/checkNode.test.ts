/**
 * `warren check node` end to end: OK on the shared broker (never alarmed here), and a
 * memory alarm on a second node of our own (its watermark set near zero), seen both from
 * the management API and over AMQP alone (a publisher blocked): CRITICAL, exit 7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measured, runCheck } from '../helpers/checkResult.js';
import { type SecondNode, startSecondNode } from '../helpers/secondNode.js';

let node: SecondNode | undefined;

beforeAll(async () => {
  node = await startSecondNode({ management: true });
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 90_000);

function second(): SecondNode {
  if (!node) throw new Error('the second node did not start');
  return node;
}

async function memoryAlarm(): Promise<boolean> {
  return /resource_limit,memory/.test(await second().ctl(['eval', 'rabbit_alarm:get_alarms().']));
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

describe('check node', () => {
  it('is OK on the shared broker, with its memory and disk measured from the API', async () => {
    const { code, stderr, found } = await runCheck('node');
    expect(code, stderr).toBe(0);
    expect(found.status).toBe('OK');
    expect(found.message).toContain('no alarms, publishers not blocked');
    expect(measured(found, 'alarms')?.value).toBe(0);
    expect(measured(found, 'mem_limit')?.value).toBeGreaterThan(0);
    expect(measured(found, 'mem_used')?.value).toBeGreaterThan(0);
    expect(measured(found, 'disk_free')?.value).toBeGreaterThan(0);
  });

  it('warns with --mem-warn when memory use is above that share of the watermark', async () => {
    // Any running node uses more than a millionth of its watermark.
    const { code, stderr, found } = await runCheck('node', ['--mem-warn', '0.000001']);
    expect(code, stderr).toBe(6);
    expect(found.status).toBe('WARNING');
  });

  it('is CRITICAL (exit 7) in a memory alarm on a second node, from the API and over AMQP alone', async () => {
    const at = ['--url', second().url];
    const api = ['--api', second().apiUrl as string];
    const before = await runCheck('node', [...at, ...api]);
    expect(before.code, before.stderr).toBe(0);
    await second().ctl(['set_vm_memory_high_watermark', '0.00001']);
    try {
      await waitFor('the memory alarm', memoryAlarm);
      // At once: the publisher is blocked, whatever the API's statistics say yet.
      const blocked = await runCheck('node', [...at, ...api]);
      expect(blocked.code, blocked.stderr).toBe(7);
      expect(blocked.found.status).toBe('CRITICAL');
      expect(blocked.found.message).toContain('publishers blocked');
      expect(measured(blocked.found, 'alarms')?.value).toBe(1);
      // The API lists the alarm once its node statistics are next emitted (every 5 s).
      let alarmed = blocked;
      await waitFor('the API to list the alarm', async () => {
        alarmed = await runCheck('node', [...at, ...api]);
        return alarmed.found.message.includes('memory alarm on');
      });
      expect(alarmed.code, alarmed.stderr).toBe(7);
      expect(alarmed.found.message).toContain(`memory alarm on ${second().name}`);
      expect(measured(alarmed.found, 'alarms')?.value).toBe(1);
      // mem_used is past its critical threshold, the watermark.
      const used = measured(alarmed.found, 'mem_used');
      expect(used?.value).toBeGreaterThan(used?.crit ?? Number.POSITIVE_INFINITY);
      // Without an API (nothing listens on port 1), the blocked publisher tells it.
      const amqpOnly = await runCheck('node', [...at, '--api', 'http://127.0.0.1:1']);
      expect(amqpOnly.code, amqpOnly.stderr).toBe(7);
      expect(amqpOnly.found.message).toContain('publishers blocked');
      expect(amqpOnly.found.message).toContain('alarms seen over AMQP only');
      expect(measured(amqpOnly.found, 'alarms')?.value).toBe(1);
      expect(measured(amqpOnly.found, 'mem_used')).toBeUndefined();
    } finally {
      await second().ctl(['set_vm_memory_high_watermark', '0.4']);
    }
    await waitFor('the alarm to clear', async () => !(await memoryAlarm()));
    // OK again once the API's statistics have caught up too.
    await waitFor('check node OK again', async () => (await runCheck('node', [...at, ...api])).code === 0);
  }, 180_000);
});
