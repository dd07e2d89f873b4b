/** Runs `warren check KIND …` (JSON output) and reads its one result. */
import { expect } from 'vitest';
import { ndjson, type RunOptions, runWarren } from './cli.js';

/** One check's JSON line, as far as the tests read it. */
export interface CheckLine {
  kind: string;
  status: string;
  target: string;
  message: string;
  measures: { name: string; value: number | null; warn: number | null; crit: number | null }[];
}

/** `warren check …words`, its exit code, stderr and its only result line. */
export async function runCheck(
  words: string,
  more: string[] = [],
  options: RunOptions = {},
): Promise<{ code: number | null; stderr: string; found: CheckLine }> {
  const result = await runWarren(['check', ...words.split(' '), ...more], options);
  const lines = ndjson(result.stdout) as unknown as CheckLine[];
  expect(lines, result.stderr).toHaveLength(1);
  return { code: result.code, stderr: result.stderr, found: lines[0] as CheckLine };
}

/** The value of one of a result's measures (undefined: not measured at all). */
export function measured(found: CheckLine, name: string): CheckLine['measures'][number] | undefined {
  return found.measures.find((measure) => measure.name === name);
}
