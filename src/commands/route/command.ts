/** `warren route EXCHANGE ROUTING_KEY`: which queues a message would reach, from the bindings. */
import { choice, defineCommand, option, repeatable, required } from '../define.js';
import { brokerName, headerFlags, shortString } from '../values.js';
import type { RouteOptions } from './run.js';

/** What route prints: a line per queue for people, NDJSON records for programs. */
export const ROUTE_FORMATS = ['pretty', 'ndjson'] as const;
export type RouteFormat = (typeof ROUTE_FORMATS)[number];

const flags = {
  header: repeatable(
    '-H, --header <key=value>',
    'a header of the message; key:=JSON for a typed value (repeatable)',
  ),
  vhost: option('--vhost <vhost>', "the vhost (default: the broker URL's)", brokerName('--vhost')),
  format: choice(
    '--format <format>',
    'pretty on a terminal (one line per queue, with the way), else ndjson',
    ROUTE_FORMATS,
  ),
};

export const routeCommand = defineCommand({
  name: 'route',
  description:
    'show which queues a message with this routing key and headers would reach, without publishing',
  args: {
    exchange: required(
      'exchange',
      "the exchange published to ('' is the default exchange)",
      brokerName('the exchange name'),
    ),
    routingKey: required('routing-key', 'the routing key', shortString('the routing key')),
  },
  flags,
  examples: [
    'warren route orders order.created                 # exit 4: no queue would get it',
    'warren route events "" -H x-tenant=acme -H attempt:=2 --format ndjson | jq -r .queue',
    "warren route '' orders.created                    # the default exchange: that queue, if it exists",
  ],
  parse({ args: { exchange, routingKey }, flags: f, global, format }) {
    const chosen = format(f.format);
    const options: RouteOptions = {
      exchange,
      routingKey,
      headers: headerFlags(f.header).typed,
      vhost: f.vhost,
      // A profile's format for messages (body) means nothing here: records go out as NDJSON.
      format: chosen === 'pretty' ? 'pretty' : 'ndjson',
    };
    return { command: 'route', global: global(), options };
  },
  runners: { route: () => import('./run.js').then((m) => m.route) },
});
