/**
 * Exchanges, queues and bindings as the broker session declares them: names, flags and an
 * arguments table. Where they come from (flags, a topology file) is topology/spec.ts.
 */

export interface ExchangeSpec {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface QueueSpec {
  name: string;
  /** classic, quorum or stream; sent as x-queue-type when given, else the broker's default. */
  type: string | undefined;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: Record<string, unknown>;
}

export interface BindingSpec {
  source: string;
  destination: { queue: string } | { exchange: string };
  key: string;
  arguments: Record<string, unknown>;
}

/** Describes an entity for a person: `queue 'orders'`, `binding orders → queue 'q' (key 'k')`. */
export function describeBinding(binding: BindingSpec): string {
  const target =
    'queue' in binding.destination
      ? `queue '${binding.destination.queue}'`
      : `exchange '${binding.destination.exchange}'`;
  return `binding '${binding.source}' → ${target}${binding.key ? ` (key '${binding.key}')` : ''}`;
}
