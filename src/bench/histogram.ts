/**
 * A latency histogram in microseconds, HDR-style: each value is kept to three significant
 * digits (a relative error of at most 0.05%), so memory stays bounded (a few thousand buckets
 * from 1 µs to hours) however many values are recorded, and percentiles are exact to that
 * precision.
 */
export class Histogram {
  private readonly buckets = new Map<number, number>();
  private sorted: [number, number][] | undefined;
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private sum = 0;

  /**
   * Records one value (µs). Negative values (clocks apart) count as 0, and so do NaN and
   * infinities, which would otherwise make every later figure NaN.
   */
  record(microseconds: number): void {
    const value = Number.isFinite(microseconds) ? Math.max(0, microseconds) : 0;
    const key = bucketOf(value);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.sorted = undefined;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Adds another histogram's values to this one's. */
  merge(other: Histogram): void {
    for (const [key, n] of other.buckets) this.buckets.set(key, (this.buckets.get(key) ?? 0) + n);
    this.sorted = undefined;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /**
   * The value at or below which `p` percent of the values lie (the nearest-rank method),
   * to three significant digits; 0 when nothing was recorded. p100 is the maximum.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    // p * count first, and a hair below the next whole rank, so that binary fractions do not
    // push the rank up one (99.9 / 100 * 1000 is 999.0000000000001, whose ceiling is 1000).
    const rank = Math.max(1, Math.ceil((p * this.count) / 100 - 1e-9));
    this.sorted ??= [...this.buckets].sort((a, b) => a[0] - b[0]);
    let seen = 0;
    for (const [value, n] of this.sorted) {
      seen += n;
      if (seen >= rank) return Math.min(Math.max(value, this.min), this.max);
    }
    return this.max;
  }

  /** The summary warren prints: min, p50, p75, p95, p99, p99.9, max and the mean, in µs. */
  summary(): LatencySummary {
    return {
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      p50: this.percentile(50),
      p75: this.percentile(75),
      p95: this.percentile(95),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max,
      mean: this.mean,
    };
  }
}

/** The figures a summary shows people, in order, each with the name warren gives it. */
export const SHOWN_FIGURES: readonly (readonly [string, Exclude<keyof LatencySummary, 'count' | 'mean'>])[] =
  [
    ['min', 'min'],
    ['p50', 'p50'],
    ['p75', 'p75'],
    ['p95', 'p95'],
    ['p99', 'p99'],
    ['p99.9', 'p999'],
    ['max', 'max'],
  ];

export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p75: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** A value kept to three significant digits (values under 1000 µs to the microsecond). */
function bucketOf(value: number): number {
  const whole = Math.round(value);
  if (whole < 1000) return whole;
  const scale = 10 ** (Math.floor(Math.log10(whole)) - 2);
  return Math.round(whole / scale) * scale;
}
