import type { DeliveredMessage } from '../broker/session.js';
import type { WarrenError } from '../errors.js';
import { TopicTrie } from '../inventory/routingMatch.js';
import type { HandlerInput, HandlerRun, MessageHandler } from './handler.js';

/**
 * Which messages a route takes: a topic pattern on the routing key (`order.*`: one word,
 * `#`: zero or more words, as a topic exchange matches), the `type` property, or both
 * (then both must match).
 */
export interface RouteMatch {
  key?: string;
  type?: string;
}

export interface Route {
  match: RouteMatch;
  handler: MessageHandler;
}

/**
 * Several handlers behind one queue, one per kind of message (`warren serve`'s `routes`):
 * each message goes to the first route that matches it, else to the default, else it fails
 * as a handler that could not start does, so the queue's failure policy applies to it.
 */
export class RoutedHandler implements MessageHandler {
  /** Each route's test, its key pattern read once. */
  private readonly tests: ((message: DeliveredMessage) => boolean)[];

  constructor(
    private readonly routes: readonly Route[],
    private readonly fallback: MessageHandler | undefined,
  ) {
    this.tests = routes.map((route) => routeTest(route.match));
  }

  /** The handler a message goes to, or undefined when no route takes it. */
  pick(message: DeliveredMessage): MessageHandler | undefined {
    const at = this.tests.findIndex((takes) => takes(message));
    return at === -1 ? this.fallback : this.routes[at]?.handler;
  }

  private all(): MessageHandler[] {
    const handlers = this.routes.map((route) => route.handler);
    if (this.fallback) handlers.push(this.fallback);
    return handlers;
  }

  async open(failed: (error: WarrenError) => void): Promise<void> {
    await Promise.all(this.all().map((handler) => handler.open(failed)));
  }

  handle(input: HandlerInput): HandlerRun {
    const handler = this.pick(input.message);
    if (handler) return handler.handle(input);
    const { routingKey } = input.message;
    const type = input.message.properties.type;
    const error = `no route for key '${routingKey}'${type === undefined ? ' (no type)' : ` type '${type}'`}, and no default`;
    return {
      done: Promise.resolve({ kind: 'exit', exit: { kind: 'notStarted', error }, stdout: undefined }),
      interrupt: () => {},
      kill: () => {},
    };
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all(this.all().map((handler) => handler.close(graceMs)));
  }

  kill(): void {
    for (const handler of this.all()) handler.kill();
  }
}

/** Whether a route takes a message: every condition it names holds. */
export function routeTest(match: RouteMatch): (message: DeliveredMessage) => boolean {
  const keyMatches = match.key === undefined ? () => true : topicTest(match.key);
  return (message) =>
    (match.type === undefined || message.properties.type === match.type) && keyMatches(message.routingKey);
}

/** A topic pattern as a test of routing keys, matched as the broker's topic exchange does. */
export function topicTest(pattern: string): (routingKey: string) => boolean {
  const trie = new TopicTrie<true>();
  trie.add(pattern, true);
  return (routingKey) => trie.match(routingKey).length > 0;
}
