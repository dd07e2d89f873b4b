/** `warren tail`: watch exchanges through a queue of warren's own, or read a stream in place. */
import { FORMATS } from '../../choices.js';
import { UsageError } from '../../errors.js';
import { parseSource, parseStreamOffset } from '../../tailSource.js';
import { choice, defineCommand, option, repeatable, toggle, variadic } from '../define.js';
import { integer, parseHeaderFlags, prefixed, timerDuration, unsendableArgument } from '../values.js';
import type { TailOptions } from './run.js';

const flags = {
  stream: option('--stream <queue>', 'read a stream queue in place instead, from --offset'),
  offset: option(
    '--offset <offset>',
    'first, last, next (default), an offset, a time (ISO 8601) or a duration ago (10m)',
  ),
  matchHeader: repeatable(
    '--match-header <key=value>',
    'headers exchanges: a header to match; key:=JSON typed (repeatable)',
  ),
  any: toggle('--any', 'headers exchanges: any one --match-header suffices'),
  all: toggle('--all', 'headers exchanges: every --match-header must match (the default)'),
  match: repeatable(
    '--match <expr>',
    "print and count only messages matching EXPR, e.g. 'body.id=42', 'bodySize<1024' (repeatable: all must match)",
  ),
  count: option('-n, --count <n>', 'stop after N (matching) messages', integer(1)),
  timeout: option(
    '-t, --timeout <duration>',
    'stop when no (matching) message arrives for this long (exit 3 if --count not reached)',
    timerDuration,
  ),
  format: choice(
    '--format <format>',
    'pretty on a terminal, else ndjson; body: the raw body and a newline',
    FORMATS,
  ),
  template: option('--template <template>', "one line per message, e.g. '{routingKey} {body}'"),
  full: toggle('--full', "pretty output: show long bodies whole, not cut to the terminal's height"),
  capture: option(
    '--capture <file>',
    'also write every printed message to FILE as NDJSON envelopes (for replay)',
  ),
  passUrl: toggle('--pass-url', "with a trigger: give it WARREN_URL, password included, for warren's broker"),
};

export const tailCommand = defineCommand({
  name: 'tail',
  description: "watch exchanges without taking messages from anyone's queue",
  // The trigger after `--` is no commander argument, so the usage line names it itself.
  usage: '[options] [source...] [-- TRIGGER COMMAND...]',
  args: { sources: variadic('source', 'EXCHANGE or EXCHANGE:BINDING_KEY (several allowed)') },
  flags,
  trailing: true,
  rules: [
    { not: ['all'], with: 'any', because: 'they contradict each other' },
    { only: ['offset'], with: 'stream' },
  ],
  examples: [
    "warren tail orders                          # every message through the topic exchange 'orders'",
    'warren tail orders:order.created audit --format ndjson | jq .body',
    'warren tail orders:order.created --match body.id=42 --count 1 --timeout 10s -- curl -X POST localhost:8080/orders',
    'warren tail orders --count 1 --timeout 10s --pass-url -- warren publish -e orders -k order.created \'{"id":42}\'',
  ],
  parse({ args: { sources }, flags: f, global, format, trailing }) {
    if ((f.stream === undefined) === (sources.length === 0)) {
      throw new UsageError('give exchanges to tail, or --stream QUEUE, not both (and not neither)');
    }
    if (f.passUrl && trailing.length === 0)
      throw new UsageError('--pass-url goes with a trigger (-- COMMAND…)');
    const offsetText = f.offset ?? 'next';
    const options: TailOptions = {
      sources: sources.map((source) => {
        // The exchange and the binding key go on the wire as given, or not at all.
        const problem = prefixed(`SOURCE '${source}'`, unsendableArgument(source));
        if (problem) throw new UsageError(problem);
        return parseSource(source);
      }),
      matchHeaders: parseHeaderFlags(f.matchHeader, '--match-header'),
      headersMatch: f.any ? 'any' : 'all',
      matches: f.match,
      trigger: trailing,
      passUrl: f.passUrl,
      capture: f.capture,
      stream:
        f.stream === undefined
          ? undefined
          : { queue: f.stream, offset: parseStreamOffset(offsetText), offsetText },
      output: {
        count: f.count,
        timeoutMs: f.timeout,
        format: format(f.format),
        template: f.template,
        full: f.full,
      },
    };
    return { command: 'tail', global: global(), options };
  },
  runners: { tail: () => import('./run.js').then((m) => m.tail) },
});
