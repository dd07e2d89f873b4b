import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRIES,
  ReconnectPolicy,
  reconnectDelayMs,
  reconnecting,
} from '../../src/broker/reconnect.js';

describe('the reconnect policy', () => {
  it('waits 0.5 s, 1 s, 2 s, then 4 s before each attempt', () => {
    expect([1, 2, 3, 4, 5, 9].map(reconnectDelayMs)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('gives up after `retries` attempts in a row, and starts again once a run made progress', () => {
    const policy = new ReconnectPolicy(2);
    expect([policy.next(), policy.next(), policy.next()]).toEqual([1, 2, undefined]);
    policy.progressed();
    expect(policy.next()).toBe(1);
    expect(policy.warning('the connection was lost', 1)).toBe(
      'the connection was lost; reconnecting (1 of 2)',
    );
  });

  it('the loop runs once per connection, warns before each attempt, and returns the last run', async () => {
    // Lost, lost, then progress and lost, then lost twice more: with 2 retries the count
    // starts again after the progress, so the fifth connection is the last.
    const runs = [false, false, true, false, false, false].map((progressed) => ({
      progressed,
      lost: new Error('lost'),
    }));
    const warnings: string[] = [];
    const waits: number[] = [];
    let connections = 0;
    const last = await reconnecting(
      2,
      async (reconnects) => {
        expect(reconnects).toBe(connections);
        connections += 1;
        return runs[reconnects] as (typeof runs)[number];
      },
      {
        warn: (warning) => warnings.push(warning),
        pause: async (ms) => {
          waits.push(ms);
        },
      },
    );
    expect(connections).toBe(5);
    expect(last).toBe(runs[4]);
    expect(warnings).toEqual([
      'lost; reconnecting (1 of 2)',
      'lost; reconnecting (2 of 2)',
      'lost; reconnecting (1 of 2)',
      'lost; reconnecting (2 of 2)',
    ]);
    expect(waits).toEqual([500, 1000, 500, 1000]);
  });

  it('a run that was not lost ends the loop at once; 0 retries never reconnect', async () => {
    const ended = { progressed: false, lost: undefined };
    expect(await reconnecting(DEFAULT_RETRIES, async () => ended, { warn: () => {} })).toBe(ended);
    const lost = { progressed: false, lost: new Error('lost') };
    let connections = 0;
    await reconnecting(
      0,
      async () => {
        connections += 1;
        return lost;
      },
      { warn: () => {} },
    );
    expect(connections).toBe(1);
  });
});
