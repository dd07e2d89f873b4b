/** The clock `warren bench` and `warren latency` stamp messages with. */
import { performance } from 'node:perf_hooks';

/**
 * Microseconds since the epoch, to the fraction: the process's high-resolution clock from
 * its wall-clock origin, so comparable between processes on one machine.
 */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
