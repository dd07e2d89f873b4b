import { describe, expect, it } from 'vitest';
import { Histogram } from '../../src/bench/histogram.js';

function filled(values: Iterable<number>): Histogram {
  const h = new Histogram();
  for (const v of values) h.record(v);
  return h;
}

function* range(from: number, to: number, step = 1): Generator<number> {
  for (let v = from; v <= to; v += step) yield v;
}

/** Whether `actual` equals `expected` to three significant digits. */
function toThreeDigits(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= expected * 0.0005 + 1e-9;
}

describe('Histogram against known distributions', () => {
  it('uniform 1..10000: percentiles are the nearest-rank values to three significant digits', () => {
    const h = filled(range(1, 10_000));
    const s = h.summary();
    expect(s).toMatchObject({ count: 10_000, min: 1, max: 10_000 });
    expect(s.mean).toBeCloseTo(5000.5, 6);
    for (const [got, want] of [
      [s.p50, 5000],
      [s.p75, 7500],
      [s.p95, 9500],
      [s.p99, 9900],
      [s.p999, 9990],
      [h.percentile(1), 100],
      [h.percentile(0), 1],
    ] as const) {
      expect(toThreeDigits(got, want), `${got} vs ${want}`).toBe(true);
    }
    expect(h.percentile(100)).toBe(10_000);
  });

  it('uniform 1..1000: values under 1000 µs are kept to the microsecond, so percentiles are exact', () => {
    const s = filled(range(1, 1000)).summary();
    expect([s.p50, s.p75, s.p95, s.p99, s.p999]).toEqual([500, 750, 950, 990, 999]);
  });

  it('uniform over a wide range (1 µs to 1 s in steps of 37 µs) stays within 0.05%', () => {
    const values = [...range(1, 1_000_000, 37)];
    const h = filled(values);
    for (const p of [10, 50, 75, 95, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1] as number;
      expect(toThreeDigits(h.percentile(p), exact), `p${p}: ${h.percentile(p)} vs ${exact}`).toBe(true);
    }
  });

  it('a constant gives that value at every percentile', () => {
    const s = filled(Array.from({ length: 1000 }, () => 12_345)).summary();
    expect(s).toEqual({
      count: 1000,
      min: 12_345,
      p50: 12_345,
      p75: 12_345,
      p95: 12_345,
      p99: 12_345,
      p999: 12_345,
      max: 12_345,
      mean: 12_345,
    });
  });

  it('bimodal (99% at 1 ms, 1% at 100 ms): p99 is still 1 ms, p99.9 is 100 ms', () => {
    const h = filled([
      ...Array.from({ length: 9900 }, () => 1000),
      ...Array.from({ length: 100 }, () => 100_000),
    ]);
    const s = h.summary();
    expect([s.p50, s.p95, s.p99]).toEqual([1000, 1000, 1000]);
    expect([s.p999, s.max]).toEqual([100_000, 100_000]);
    expect(h.percentile(99.01)).toBe(100_000);
    expect(s.mean).toBeCloseTo(1990, 6);
  });

  it('merging two histograms is the same as recording both sets of values', () => {
    const a = [...range(1, 5000, 3)];
    const b = [...range(2000, 90_000, 11), 1_234_567];
    const merged = filled(a);
    merged.merge(filled(b));
    const both = filled([...a, ...b]);
    expect(merged.summary()).toEqual(both.summary());
    for (const p of [0, 1, 33, 50, 90, 99.99, 100]) expect(merged.percentile(p)).toBe(both.percentile(p));
  });

  it('merging into or from an empty histogram changes nothing', () => {
    const h = filled([5, 50, 500]);
    const before = h.summary();
    h.merge(new Histogram());
    expect(h.summary()).toEqual(before);
    const empty = new Histogram();
    empty.merge(filled([5, 50, 500]));
    expect(empty.summary()).toEqual(before);
  });

  it('an empty histogram reports zeros, not infinities or NaN', () => {
    expect(new Histogram().summary()).toEqual({
      count: 0,
      min: 0,
      p50: 0,
      p75: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
      mean: 0,
    });
  });

  it('values over 1e9 µs (over 16 minutes) are kept to three significant digits', () => {
    const h = filled([1_234_567_890, 9_876_543_210, 3e12]);
    expect(h.min).toBe(1_234_567_890);
    expect(h.max).toBe(3e12);
    expect(h.percentile(1)).toBe(1_234_567_890); // the bucket (1.23e9) is clamped up to the minimum
    expect(h.percentile(50)).toBe(9_880_000_000);
    expect(h.percentile(100)).toBe(3e12);
  });

  it('negative values (clocks apart) count as 0', () => {
    const h = filled([-5, -1_000_000, 10]);
    expect(h.summary()).toMatchObject({ count: 3, min: 0, p50: 0, max: 10 });
    expect(h.mean).toBeCloseTo(10 / 3, 9);
  });

  it('values that are not numbers (NaN, infinite) count as 0 rather than poisoning the summary', () => {
    const h = filled([Number.NaN, 7, Number.POSITIVE_INFINITY]);
    const s = h.summary();
    expect(Object.values(s).every(Number.isFinite)).toBe(true);
    expect(s.count).toBe(3);
  });

  it('values between buckets round to three significant digits, never leaving min..max', () => {
    const h = filled([1004, 1006]);
    expect(h.percentile(50)).toBe(1004); // the bucket 1000 is clamped up to the minimum
    expect(h.percentile(100)).toBe(1006);
    const rounding = filled([999.6]);
    expect(rounding.percentile(50)).toBe(999.6);
  });
});
