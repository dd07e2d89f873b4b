import { describe, expect, it } from 'vitest';
import { formatMicroseconds } from '../../src/bench/assertions.js';
import { nowMicros } from '../../src/bench/clock.js';
import { PROBE_MARK, probeBody, sentTimeOf } from '../../src/bench/latency.js';

describe('the latency probe body', () => {
  it('carries its send time to the fraction of a microsecond', () => {
    const sent = nowMicros();
    expect(sentTimeOf(probeBody(sent))).toBe(sent);
  });

  it('is µs since the epoch, on the same clock as Date.now', () => {
    const before = Date.now() * 1000;
    const now = nowMicros();
    const after = Date.now() * 1000;
    // performance.timeOrigin is a millisecond-precise wall time: a millisecond either side.
    expect(now).toBeGreaterThanOrEqual(before - 1000);
    expect(now).toBeLessThanOrEqual(after + 1000);
  });

  it('starts with its mark, then the send time: 16 bytes', () => {
    const body = probeBody(1_700_000_000_000_000);
    expect(body.length).toBe(16);
    expect(body.subarray(0, 8).toString('latin1')).toBe('warren-l');
    expect(body.subarray(0, 8).equals(PROBE_MARK)).toBe(true);
  });

  it('refuses what is no probe: another length, no mark, or not a finite time', () => {
    expect(sentTimeOf(Buffer.from('hello'))).toBeUndefined();
    expect(sentTimeOf(Buffer.alloc(16))).toBeUndefined();
    // The right length and a real time, without the mark (an 8-byte time alone was a probe once).
    const unmarked = Buffer.alloc(16);
    unmarked.write('warren-x', 'latin1');
    unmarked.writeDoubleBE(nowMicros(), 8);
    expect(sentTimeOf(unmarked)).toBeUndefined();
    const bare = Buffer.alloc(8);
    bare.writeDoubleBE(nowMicros());
    expect(sentTimeOf(bare)).toBeUndefined();
    // A probe with more after it is no probe either.
    expect(sentTimeOf(Buffer.concat([probeBody(nowMicros()), Buffer.from('x')]))).toBeUndefined();
    expect(sentTimeOf(probeBody(Number.NaN))).toBeUndefined();
    expect(sentTimeOf(probeBody(Number.POSITIVE_INFINITY))).toBeUndefined();
  });
});

describe('formatMicroseconds', () => {
  it.each([
    [0, '0µs'],
    [839.5, '839.5µs'],
    [1000, '1ms'],
    [1150, '1.15ms'],
    [3362, '3.362ms'],
    [999.99, '1ms'],
    [999_999, '1s'],
    [1_500_000, '1.5s'],
    [60_000_000, '60s'],
  ])('%d µs reads %s', (us, text) => {
    expect(formatMicroseconds(us)).toBe(text);
  });
});
