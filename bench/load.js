/**
 * The `load` scenario of `npm run bench` (`--only load`): `warren bench`, one producer and
 * one consumer, against bench/baseline-bench.js (raw amqplib doing the same: a confirm
 * window of 256, prefetch 1000, the deliveries of one event-loop turn in one multiple ack,
 * 100-byte transient messages), each publishing --count messages through a queue of its own. The rates compared are the ones
 * each reports (publish: to the last confirm; consume: to the last delivery), not the
 * process's wall time, since both measure a broker.
 *
 * Issue 19 also asks for warren bench's rates against the publish and consume baselines of
 * the same `npm run bench` run (publishing alone, consuming a full queue alone): main adds
 * those rows from this scenario's figures when those scenarios ran.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const WINDOW = '256';
const PREFETCH = '1000';

/** Reported rates of one run: its JSON's publish and consume, in msg/s. */
function ratesOf(side, file, problem, count) {
  const text = readFileSync(file, 'utf8').trim();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    problem(`${side} load: its output is not JSON`, text.slice(0, 200));
    return { publish: 0, consume: 0 };
  }
  if (side === 'warren') {
    if (parsed.published !== count || parsed.consumed !== count) {
      problem('warren bench: wrong counts', `published ${parsed.published}, consumed ${parsed.consumed}`);
    }
    return { publish: parsed.rates.publish, consume: parsed.rates.consume };
  }
  return { publish: parsed.publish, consume: parsed.consume };
}

/** A throughput row from reported rates: `ms` is what the rate comes to for `count`. */
function rateSide(rate, runs, count) {
  const ms = rate > 0 ? (count * 1000) / rate : Number.POSITIVE_INFINITY;
  const best = runs.reduce(
    (a, b) => (b.cpuMs !== undefined && (a === undefined || b.cpuMs < a) ? b.cpuMs : a),
    undefined,
  );
  const rss = runs.reduce(
    (a, b) => (b.rssKb !== undefined && (a === undefined || b.rssKb > a) ? b.rssKb : a),
    undefined,
  );
  return { ms, rate, rssKb: rss, cpuMs: best, brokerBusy: undefined };
}

export async function loadScenario({
  warren,
  baseline,
  brokerUrl,
  tmp,
  count,
  target,
  alternate,
  runChild,
  problem,
}) {
  const files = { warren: join(tmp, 'load.warren.json'), baseline: join(tmp, 'load.baseline.json') };
  const sides = [
    {
      name: 'baseline',
      scenario: 'load 1p1c',
      argv: [
        baseline,
        '--url',
        brokerUrl,
        '--count',
        String(count),
        '--window',
        WINDOW,
        '--prefetch',
        PREFETCH,
      ],
    },
    {
      name: 'warren',
      scenario: 'load 1p1c',
      argv: [
        warren,
        'bench',
        '--url',
        brokerUrl,
        '--count',
        String(count),
        '--confirm-window',
        WINDOW,
        '--prefetch',
        PREFETCH,
        '--json',
        '--quiet',
      ],
    },
  ];
  const results = await alternate(sides, async (side) => {
    const run = await runChild(`${side.name} load`, side.argv, { stdout: files[side.name], tmp });
    return { ...run, rates: ratesOf(side.name, files[side.name], problem, count) };
  });
  const best = (runs, key) => Math.max(...runs.map((run) => run.rates[key]));
  const row = (key) => {
    const warrenRate = best(results.warren, key);
    const baselineRate = best(results.baseline, key);
    return {
      scenario: `bench 1p1c ${key} rate (reported)`,
      kind: 'throughput',
      warren: rateSide(warrenRate, results.warren, count),
      baseline: rateSide(baselineRate, results.baseline, count),
      baselineName: 'amqplib 1p1c',
      ratio: warrenRate / baselineRate,
      target,
    };
  };
  const rows = [row('publish'), row('consume')];
  return { rows, warren: { publish: rows[0].warren, consume: rows[1].warren } };
}

/**
 * warren bench's reported rate against a baseline of the same run that did the work alone
 * (publishing alone, or consuming a full queue alone): the literal goal.
 */
export function againstAlone(name, warrenSide, aloneRow, target) {
  return {
    scenario: `bench 1p1c ${name} rate vs ${aloneRow.scenario} baseline`,
    kind: 'throughput',
    warren: warrenSide,
    baseline: aloneRow.baseline,
    baselineName: `amqplib ${name} alone`,
    ratio: warrenSide.rate / aloneRow.baseline.rate,
    target,
  };
}
