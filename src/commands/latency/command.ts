/** `warren latency`: a steady low-rate probe's end-to-end latency, maybe across two nodes. */
import { parseAssertion } from '../../bench/assertions.js';
import { parseBrokerUrl, splitUrls } from '../../brokerUrl.js';
import { type SelectedProfile, selectProfile } from '../../config.js';
import { UsageError } from '../../errors.js';
import { defineCommand, option, repeatable, toggle, withDefault } from '../define.js';
import { integer, rate, runDuration } from '../values.js';
import type { LatencyOptions } from './run.js';

export const latencyCommand = defineCommand({
  name: 'latency',
  description: 'measure end-to-end latency with a steady low-rate probe (one producer, one consumer)',
  flags: {
    rate: withDefault(option('--rate <rate>', 'probes per second: 10, 10/s, 30/m', rate), 10),
    duration: option('--duration <duration>', 'send probes for this long (default 10s)', runDuration),
    count: option('--count <n>', 'send this many probes, then stop (instead of --duration)', integer(1)),
    toUrl: option(
      '--to-url <url>',
      'consume on this broker (another node of the same cluster); publish on --url',
    ),
    toProfile: option(
      '--to-profile <name>',
      "consume on this profile's broker (another node of the same cluster); publish on --url or --profile",
    ),
    assert: repeatable(
      '--assert <assertion>',
      "exit 9 unless it holds, e.g. 'p99<50ms', 'max<1s' (repeatable; see docs/commands/latency.md)",
    ),
    json: toggle('--json', 'print the summary as JSON on stdout'),
  },
  rules: [{ not: ['toProfile'], with: 'toUrl', because: 'each names the broker to consume on' }],
  examples: [
    'warren latency',
    "warren latency --duration 1m --assert 'p99<20ms'",
    'warren latency --url amqp://node-a --to-url amqp://node-b --count 100 --json',
    'warren latency --profile node-a --to-profile node-b --duration 1m',
  ],
  parse: ({ flags, global, io }) => {
    if (flags.count !== undefined && flags.duration !== undefined)
      throw new UsageError('--count and --duration both say when to stop: give one of them');
    // A bad --to-url is told before anything is declared on the first broker.
    if (flags.toUrl !== undefined) {
      const urls = splitUrls([flags.toUrl]);
      if (urls.length === 0) throw new UsageError('--to-url: no broker URL given');
      for (const url of urls) parseBrokerUrl(url, '--to-url');
    }
    // Found as --profile finds one: an unknown name is the same usage error.
    const toProfile =
      flags.toProfile === undefined ? undefined : (selectProfile(flags.toProfile, io.env) as SelectedProfile);
    return {
      command: 'latency',
      global: global(),
      options: {
        rate: flags.rate,
        count: flags.count,
        durationMs: flags.count === undefined ? (flags.duration ?? 10_000) : undefined,
        toUrl: flags.toUrl,
        toProfile,
        assertions: flags.assert.map(parseAssertion),
        json: flags.json,
      } satisfies LatencyOptions,
    };
  },
  runners: { latency: () => import('./run.js').then((m) => m.latency) },
});
