import { describe, expect, it } from 'vitest';
import { ConfirmTracker, type PendingPublish } from '../../src/broker/confirmTracker.js';
import { refusedMessage } from '../../src/publish/flow.js';

/** A tracked message: its input line, where it went, and its body. */
function pending(line: number, exchange: string, routingKey: string, body: Buffer): PendingPublish {
  return { line, message: { exchange, routingKey, body, properties: {}, headers: undefined } };
}

/** Publishes one message per spec: [line, routingKey, body]; returns the tracker. */
function tracked(...messages: [number, string, string][]): ConfirmTracker {
  const tracker = new ConfirmTracker();
  for (const [line, routingKey, body] of messages) {
    tracker.add(pending(line, 'ex', routingKey, Buffer.from(body)));
  }
  return tracker;
}

function counts(tracker: ConfirmTracker) {
  const { published, confirmed, returned, nacked, inFlight, inFlightBytes } = tracker;
  return { published, confirmed, returned, nacked, inFlight, inFlightBytes };
}

describe('ConfirmTracker', () => {
  it('numbers publishes from 1, like the broker delivery tags', () => {
    const tracker = new ConfirmTracker();
    expect(tracker.add(pending(10, '', 'q', Buffer.from('a')))).toBe(1);
    expect(tracker.add(pending(11, '', 'q', Buffer.from('b')))).toBe(2);
  });

  it('counts in-flight messages and bytes until they are confirmed', () => {
    const tracker = tracked([1, 'k', 'abc'], [2, 'k', 'de']);
    expect(counts(tracker)).toEqual({
      published: 2,
      confirmed: 0,
      returned: 0,
      nacked: 0,
      inFlight: 2,
      inFlightBytes: 5,
    });
    tracker.ack(1, false);
    expect(counts(tracker)).toMatchObject({ confirmed: 1, inFlight: 1, inFlightBytes: 2 });
  });

  it('a single ack settles only its own tag, even out of order', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b'], [3, 'k', 'c']);
    tracker.ack(2, false);
    expect(counts(tracker)).toMatchObject({ confirmed: 1, inFlight: 2, inFlightBytes: 2 });
    tracker.ack(1, false);
    tracker.ack(3, false);
    expect(counts(tracker)).toMatchObject({ confirmed: 3, inFlight: 0, inFlightBytes: 0 });
    expect(tracker.failures).toEqual([]);
  });

  it('a multiple ack settles every tag up to and including its own', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b'], [3, 'k', 'c'], [4, 'k', 'd']);
    tracker.ack(3, true);
    expect(counts(tracker)).toMatchObject({ confirmed: 3, inFlight: 1, inFlightBytes: 1 });
    tracker.ack(4, true);
    expect(counts(tracker)).toMatchObject({ confirmed: 4, inFlight: 0 });
  });

  it('a multiple ack after a single one does not count the settled tag twice', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b'], [3, 'k', 'c']);
    tracker.ack(2, false);
    tracker.ack(3, true);
    expect(counts(tracker)).toMatchObject({ confirmed: 3, inFlight: 0, inFlightBytes: 0 });
  });

  it('ignores a repeated ack and an ack for a tag never published', () => {
    const tracker = tracked([1, 'k', 'a']);
    tracker.ack(1, false);
    tracker.ack(1, false);
    tracker.ack(7, false);
    expect(counts(tracker)).toMatchObject({ published: 1, confirmed: 1, inFlight: 0 });
  });

  it('nacks are counted and remembered by line', () => {
    const tracker = tracked([10, 'k', 'a'], [11, 'k', 'b'], [12, 'k', 'c']);
    tracker.nack(1, false);
    tracker.nack(3, true);
    expect(counts(tracker)).toMatchObject({ nacked: 3, confirmed: 0, inFlight: 0, inFlightBytes: 0 });
    expect(tracker.failures).toEqual([
      { line: 10, status: 'nacked' },
      { line: 11, status: 'nacked' },
      { line: 12, status: 'nacked' },
    ]);
  });

  it('a returned message counts as returned, not confirmed, when its ack comes', () => {
    const tracker = tracked([1, 'ok', 'a'], [2, 'nowhere', 'b']);
    tracker.returnedMessage('ex', 'nowhere', Buffer.from('b'), '312 NO_ROUTE');
    tracker.ack(2, true);
    expect(counts(tracker)).toMatchObject({ confirmed: 1, returned: 1, nacked: 0, inFlight: 0 });
    expect(tracker.failures).toEqual([{ line: 2, status: 'returned', reason: '312 NO_ROUTE' }]);
  });

  it('matches a return to the right line among identical routing keys by its body', () => {
    const tracker = tracked([1, 'k', 'first'], [2, 'k', 'second'], [3, 'k', 'third']);
    tracker.returnedMessage('ex', 'k', Buffer.from('second'), '312 NO_ROUTE');
    tracker.ack(3, true);
    expect(tracker.failures).toEqual([{ line: 2, status: 'returned', reason: '312 NO_ROUTE' }]);
    expect(counts(tracker)).toMatchObject({ confirmed: 2, returned: 1 });
  });

  it('matches returns of identical messages in publish order, one return per message', () => {
    const tracker = tracked([1, 'k', 'same'], [2, 'k', 'same'], [3, 'k', 'same']);
    tracker.returnedMessage('ex', 'k', Buffer.from('same'), 'r1');
    tracker.ack(1, false);
    tracker.returnedMessage('ex', 'k', Buffer.from('same'), 'r2');
    tracker.ack(3, true);
    expect(tracker.failures).toEqual([
      { line: 1, status: 'returned', reason: 'r1' },
      { line: 2, status: 'returned', reason: 'r2' },
    ]);
    expect(counts(tracker)).toMatchObject({ confirmed: 1, returned: 2, inFlight: 0 });
  });

  it('does not match a return to a message of another exchange', () => {
    const tracker = new ConfirmTracker();
    tracker.add(pending(1, 'a', 'k', Buffer.from('x')));
    tracker.add(pending(2, 'b', 'k', Buffer.from('x')));
    tracker.returnedMessage('b', 'k', Buffer.from('x'), 'NO_ROUTE');
    tracker.ack(2, true);
    expect(tracker.failures).toEqual([{ line: 2, status: 'returned', reason: 'NO_ROUTE' }]);
  });

  it('matches a return whose routing key went on the wire altered (a lone surrogate as U+FFFD)', () => {
    // Was no match at all: the message counted as confirmed, exit 0, though it was dropped.
    const tracker = tracked([1, 'a', 'x'], [2, 'no-such-queue\ud800', 'b'], [3, 'c', 'y']);
    tracker.returnedMessage('ex', 'no-such-queue\ufffd', Buffer.from('b'), '312 NO_ROUTE');
    tracker.ack(3, true);
    expect(tracker.failures).toEqual([{ line: 2, status: 'returned', reason: '312 NO_ROUTE' }]);
    expect(counts(tracker)).toMatchObject({ confirmed: 2, returned: 1, inFlight: 0 });
  });

  it('a return comes before the ack of its message: it is never placed on one settled before it', () => {
    const tracker = tracked([1, 'k', 'same'], [2, 'k', 'same'], [3, 'k', 'same']);
    tracker.ack(2, false); // 1 is still waiting for its queue; the return must be for 3
    tracker.returnedMessage('ex', 'k', Buffer.from('same'), '312 NO_ROUTE');
    tracker.ack(1, false);
    tracker.ack(3, false);
    expect(tracker.failures).toEqual([{ line: 3, status: 'returned', reason: '312 NO_ROUTE' }]);
  });

  it('a return that matches nothing exactly is the only message it can be, when there is one', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b']);
    tracker.ack(1, false);
    tracker.returnedMessage('ex', 'other', Buffer.from('zzz'), '312 NO_ROUTE');
    tracker.ack(2, false);
    expect(tracker.failures).toEqual([{ line: 2, status: 'returned', reason: '312 NO_ROUTE' }]);
    expect(tracker.undelivered).toBe(1);
  });

  it('a return that could be any of several messages counts each as returned, none as confirmed', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b'], [3, 'k', 'c']);
    tracker.returnedMessage('ex', 'other', Buffer.from('zzz'), '312 NO_ROUTE');
    tracker.ack(3, true);
    expect(counts(tracker)).toMatchObject({ confirmed: 0, returned: 3, inFlight: 0 });
    expect(tracker.returnsInDoubt).toBe(1);
    expect(tracker.failures.map((f) => f.line)).toEqual([1, 2, 3]);
  });

  it('a return when nothing is in flight is counted as undelivered, not dropped', () => {
    const tracker = tracked([1, 'k', 'a']);
    tracker.ack(1, false);
    tracker.returnedMessage('ex', 'k', Buffer.from('a'), '312 NO_ROUTE');
    expect(counts(tracker)).toMatchObject({ confirmed: 1, returned: 0 });
    expect(tracker.unmatchedReturns).toBe(1);
    expect(tracker.undelivered).toBe(1);
  });

  it('keeps lines straight with acks, nacks and returns interleaved', () => {
    const tracker = tracked([1, 'a', 'x'], [2, 'b', 'x'], [3, 'a', 'x'], [4, 'b', 'x'], [5, 'a', 'x']);
    tracker.returnedMessage('ex', 'b', Buffer.from('x'), 'NO_ROUTE');
    tracker.ack(2, true); // 1 confirmed, 2 returned
    tracker.nack(3, false);
    tracker.returnedMessage('ex', 'b', Buffer.from('x'), 'NO_ROUTE');
    tracker.ack(4, false);
    expect(counts(tracker)).toMatchObject({
      confirmed: 1,
      returned: 2,
      nacked: 1,
      inFlight: 1,
      inFlightBytes: 1,
    });
    tracker.ack(5, true);
    expect(tracker.failures).toEqual([
      { line: 2, status: 'returned', reason: 'NO_ROUTE' },
      { line: 3, status: 'nacked' },
      { line: 4, status: 'returned', reason: 'NO_ROUTE' },
    ]);
    expect(counts(tracker)).toMatchObject({ confirmed: 2, returned: 2, nacked: 1, inFlight: 0 });
  });

  it('stays correct past the point where settled slots are dropped', () => {
    const tracker = new ConfirmTracker();
    const n = 10_000;
    for (let i = 1; i <= n; i += 1) {
      tracker.add(pending(i, '', i === 9000 ? 'lost' : 'k', Buffer.from('b')));
      if (i % 2 === 0 && i < 8000) tracker.ack(i, true);
    }
    tracker.returnedMessage('', 'lost', Buffer.from('b'), 'NO_ROUTE');
    tracker.nack(9500, false);
    tracker.ack(n, true);
    expect(counts(tracker)).toMatchObject({
      published: n,
      confirmed: n - 2,
      returned: 1,
      nacked: 1,
      inFlight: 0,
    });
    // Failures are remembered in the order they settle: the nack came before the ack of 9000.
    expect(tracker.failures).toEqual([
      { line: 9500, status: 'nacked' },
      { line: 9000, status: 'returned', reason: 'NO_ROUTE' },
    ]);
  });

  it('calls onSettle after every ack and nack', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b']);
    let calls = 0;
    tracker.onSettle = () => {
      calls += 1;
    };
    tracker.ack(1, false);
    tracker.nack(2, false);
    expect(calls).toBe(2);
  });

  it('abandonInFlight turns what is unsettled into unconfirmed failures', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'bb'], [3, 'k', 'ccc']);
    tracker.ack(1, false);
    expect(tracker.abandonInFlight('connection lost')).toBe(2);
    expect(tracker.failures).toEqual([
      { line: 2, status: 'unconfirmed', reason: 'connection lost' },
      { line: 3, status: 'unconfirmed', reason: 'connection lost' },
    ]);
    expect(tracker.inFlightBytes).toBe(0);
    // The abandoned messages stay unconfirmed: never counted as delivered.
    expect(counts(tracker)).toMatchObject({
      published: 3,
      confirmed: 1,
      returned: 0,
      nacked: 0,
      inFlight: 2,
    });
  });

  it('after abandonInFlight a late ack for an abandoned tag counts nothing', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b']);
    tracker.abandonInFlight('channel closed');
    tracker.ack(2, true);
    tracker.nack(1, false);
    expect(counts(tracker)).toMatchObject({ confirmed: 0, nacked: 0 });
    expect(tracker.abandonInFlight('again')).toBe(0);
  });

  it('abandonInFlight with a refusal: the refused message, those sent after it discarded, those before unconfirmed', () => {
    const tracker = tracked([1, 'k', 'a'], [2, 'k', 'b'], [3, 'k', 'big!'], [4, 'k', 'c'], [5, 'k', 'dd']);
    tracker.ack(1, false);
    const seen: [number, string][] = [];
    tracker.onSettled = (entry, _seq, status) => seen.push([entry.line, status]);
    tracker.abandonInFlight('refused', (message) => message.body.length === 4);
    expect(tracker.refused?.line).toBe(3);
    expect(tracker.discarded).toBe(2);
    expect(seen).toEqual([
      [2, 'unconfirmed'],
      [3, 'refused'],
      [4, 'discarded'],
      [5, 'discarded'],
    ]);
  });

  it("refusedMessage tells the refused message by the broker's words", () => {
    const message = (exchange: string, size: number) => ({
      exchange,
      routingKey: 'k',
      body: Buffer.alloc(size),
      properties: {},
      headers: undefined,
    });
    const bySize = refusedMessage(
      'PRECONDITION_FAILED - message size 146800640 is larger than configured max size 134217728',
    );
    expect(bySize?.(message('', 146800640))).toBe(true);
    expect(bySize?.(message('', 10))).toBe(false);
    const byExchange = refusedMessage("NOT_FOUND - no exchange 'it''s' in vhost '/'");
    expect(byExchange?.(message("it''s", 1))).toBe(true);
    expect(byExchange?.(message('other', 1))).toBe(false);
    expect(
      refusedMessage("ACCESS_REFUSED - write access to exchange 'x' in vhost '/' refused for user 'u'")?.(
        message('x', 1),
      ),
    ).toBe(true);
    expect(refusedMessage('PRECONDITION_FAILED - invalid expiration')).toBeUndefined();
  });

  it('remembers at most 1000 failures but counts all of them', () => {
    const tracker = new ConfirmTracker();
    for (let i = 1; i <= 1500; i += 1) tracker.add(pending(i, '', 'k', Buffer.alloc(0)));
    tracker.nack(1500, true);
    expect(tracker.nacked).toBe(1500);
    expect(tracker.failures).toHaveLength(1000);
    expect(tracker.failures[999]).toEqual({ line: 1000, status: 'nacked' });
  });
});
