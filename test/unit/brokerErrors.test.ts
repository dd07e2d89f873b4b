import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokerError, brokerErrorOf, type ConnectFailure } from '../../src/broker/brokerError.js';
import { brokerExplainer, warrenErrorOf } from '../../src/brokerErrors.js';
import { BrokerRefusedError, UnreachableError, WarrenError } from '../../src/errors.js';

/** An error as amqplib throws it for a channel the broker closed. */
function amqplibError(code: number, text: string): Error {
  return Object.assign(new Error(`Operation failed: QueueDeclare; ${code} (X) with message "${text}"`), {
    code,
  });
}

describe('broker errors: broker/ says what happened, brokerErrors.ts says it to a person', () => {
  it('a 404 for a queue: exit 5, the broker words after the operation, a hint to declare it', () => {
    const cause = amqplibError(404, "NOT_FOUND - no queue 'orders.x' in vhost '/'");
    const error = warrenErrorOf(brokerErrorOf(cause, "consume from 'orders.x'"));
    expect(error).toBeInstanceOf(BrokerRefusedError);
    expect(error.exitCode).toBe(5);
    expect(error.message).toBe("consume from 'orders.x': NOT_FOUND - no queue 'orders.x' in vhost '/'");
    expect(error.hint).toBe(
      'check the name (and the vhost in --url), or declare it: warren declare queue orders.x',
    );
    expect(error.cause).toBe(cause);
    expect((error as BrokerRefusedError).brokerText).toBe("NOT_FOUND - no queue 'orders.x' in vhost '/'");
  });

  it('an exchange whose name a shell would not take as it is: NAME in the hint', () => {
    const error = warrenErrorOf(new BrokerError('not-found', { entity: { kind: 'exchange', name: 'a b' } }));
    expect(error.message).toBe("exchange 'a b' does not exist");
    expect(error.hint).toBe(
      'check the name (and the vhost in --url), or declare it: warren declare exchange NAME --type TYPE',
    );
  });

  it('403, 405 and 406 are refusals (exit 5) with no hint; another failure is exit 1', () => {
    for (const code of [403, 405, 406]) {
      const error = warrenErrorOf(brokerErrorOf(amqplibError(code, 'X - y'), "queue 'q'"));
      expect([error.exitCode, error.message, error.hint]).toEqual([5, "queue 'q': X - y", undefined]);
    }
    const other = warrenErrorOf(
      brokerErrorOf(new Error('Channel ended, no reply will be forthcoming'), 'read'),
    );
    expect(other).not.toBeInstanceOf(BrokerRefusedError);
    expect([other.exitCode, other.message]).toEqual([1, 'read: Channel ended, no reply will be forthcoming']);
  });

  it('a lost connection is exit 69 naming the URL; a closed channel exit 1', () => {
    const lost = warrenErrorOf(new BrokerError('connection-lost', { url: 'amqp://h/', brokerText: 'gone' }));
    expect(lost).toBeInstanceOf(UnreachableError);
    expect(lost.message).toBe('lost the connection to amqp://h/: gone');
    const closed = warrenErrorOf(new BrokerError('channel-closed', { operation: 'publish' }));
    expect(closed).toBeInstanceOf(WarrenError);
    expect([closed.exitCode, closed.message]).toEqual([1, 'publish: the channel was closed']);
  });

  it('a stream asked for its messages says how to read it instead', () => {
    const error = warrenErrorOf(new BrokerError('is-stream', { entity: { kind: 'queue', name: 's' } }));
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(/^'s' is a stream queue: /);
    expect(error.hint).toMatch(/warren tail --stream s --offset first/);
  });

  it('unreachable: every URL named; the hint of the first failure that has one, or --url when waiting may help', () => {
    const failures: ConnectFailure[] = [
      { url: 'amqp://a/', reason: 'refused', detail: 'connect ECONNREFUSED' },
      { url: 'amqp://b/v', reason: 'vhost-refused', detail: 'x', vhost: '' },
    ];
    const error = warrenErrorOf(
      new BrokerError('unreachable', { connect: { failures, attempts: 3, retryable: false } }),
    );
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.exitCode).toBe(69);
    expect(error.message).toBe(
      "cannot connect to amqp://a/: connection refused (is RabbitMQ running there?); amqp://b/v: vhost '/' does not exist or this user may not use it (tried 2 URLs) after 3 attempts",
    );
    expect(error.hint).toBe('check the user, password and vhost in --url (or WARREN_URL, or the profile)');
    const waiting = warrenErrorOf(
      new BrokerError('unreachable', {
        connect: { failures: [failures[0] as ConnectFailure], attempts: 1, retryable: true },
      }),
    );
    expect(waiting.hint).toBe('check --url (or WARREN_URL, or the profile) and that the broker is up');
    expect(brokerExplainer.connectFailure(failures[0] as ConnectFailure)).toBe(
      'amqp://a/: connection refused (is RabbitMQ running there?)',
    );
  });
});

describe('src/broker/ imports nothing above it', () => {
  const folder = join(import.meta.dirname, '../../src/broker');
  it('only broker/ files, node: modules and amqplib', () => {
    const files = readdirSync(folder).filter((file) => file.endsWith('.ts'));
    const imports = files.flatMap((file) =>
      [
        ...readFileSync(join(folder, file), 'utf8').matchAll(
          /^(?:import|export)\b[^;]*?from '([^']+)';|\bimport\('([^']+)'\)/gm,
        ),
      ].map((match) => `${file}: ${match[1] ?? match[2]}`),
    );
    expect(imports.length).toBeGreaterThan(20);
    expect(
      imports.filter((line) => !/: (\.\/[\w-]+\.js|node:[\w/]+|amqplib(-codec|-defs)?)$/.test(line)),
    ).toEqual([]);
  });
});
