import { describe, expect, it } from 'vitest';
import { checkAssertions, parseAssertion } from '../../src/bench/assertions.js';
import type { LatencySummary } from '../../src/bench/histogram.js';
import type { BenchSummary } from '../../src/bench/summary.js';
import { UsageError } from '../../src/errors.js';

function latency(scale: number): LatencySummary {
  return {
    count: 100,
    min: 1 * scale,
    p50: 2 * scale,
    p75: 3 * scale,
    p95: 4 * scale,
    p99: 5 * scale,
    p999: 6 * scale,
    max: 7 * scale,
    mean: 2.5 * scale,
  };
}

const summary: BenchSummary = {
  durationS: 10,
  publishS: 10,
  consumeS: 10,
  published: 200_000,
  confirmed: 200_000,
  failed: 0,
  consumed: 150_000,
  rates: { publish: 20_000, confirm: 20_000, consume: 15_000, bytes: 1_500_000 },
  latency: latency(1000),
  confirmLatency: latency(100),
};

function check(text: string) {
  const [result] = checkAssertions([parseAssertion(text)], summary);
  return result;
}

describe('parseAssertion', () => {
  it('reads latency metrics with their units in µs', () => {
    expect(parseAssertion('p99<50ms')).toEqual({ text: 'p99<50ms', metric: 'p99', op: '<', value: 50_000 });
    expect(parseAssertion('p99.9 <= 1.5s').value).toBe(1_500_000);
    expect(parseAssertion('max>800us').value).toBe(800);
    expect(parseAssertion('min>=800µs').op).toBe('>=');
    expect(parseAssertion('confirm.p50=2ms')).toMatchObject({ metric: 'confirm.p50', op: '=', value: 2000 });
  });

  it('reads rates in their three spellings', () => {
    expect(parseAssertion('publish>=20000').value).toBe(20_000);
    expect(parseAssertion('publish>=20000/s').value).toBe(20_000);
    expect(parseAssertion('consume>20k/s').value).toBe(20_000);
    expect(parseAssertion('bytes>1.5M/s').value).toBe(1_500_000);
  });

  it.each([
    ['p99<<5ms', "--assert 'p99<<5ms': 'p99<<5ms'"],
    ['p98<5ms', "unknown metric 'p98'"],
    ['p99<5', "'5' is not a duration"],
    ['p99<5min', "'5min' is not a duration"],
    ['publish>fast', "'fast' is not a rate"],
    ['p99', 'expected METRIC OP VALUE'],
    ['', 'expected METRIC OP VALUE'],
  ])('refuses %j naming the text and the fault', (text, fault) => {
    let error: unknown;
    try {
      parseAssertion(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`--assert '${text}'`);
    if (!fault.startsWith('--assert')) expect((error as Error).message).toContain(fault);
  });
});

describe('checkAssertions', () => {
  it('reads end-to-end latency, confirm latency and rates from the summary', () => {
    expect(check('p50<=2ms')).toEqual({ text: 'p50<=2ms', holds: true, actual: '2ms' });
    expect(check('p50<2ms')).toEqual({ text: 'p50<2ms', holds: false, actual: '2ms' });
    expect(check('p99.9<6001us')).toMatchObject({ holds: true, actual: '6ms' });
    expect(check('confirm.p99.9<600us')).toMatchObject({ holds: false, actual: '600µs' });
    expect(check('confirm.max=700us')).toMatchObject({ holds: true });
    expect(check('mean>2ms')).toMatchObject({ holds: true, actual: '2.5ms' });
    expect(check('publish>=20k/s')).toMatchObject({ holds: true, actual: '20000/s' });
    expect(check('consume>=20k/s')).toMatchObject({ holds: false, actual: '15000/s' });
    expect(check('bytes>1M')).toMatchObject({ holds: true });
    expect(check('max<1s')).toMatchObject({ holds: true, actual: '7ms' });
  });

  it('reports each assertion in the order given', () => {
    const list = ['min>0us', 'p99<1ms', 'confirm>1'].map(parseAssertion);
    expect(checkAssertions(list, summary).map((r) => [r.text, r.holds])).toEqual([
      ['min>0us', true],
      ['p99<1ms', false],
      ['confirm>1', true],
    ]);
  });
});
