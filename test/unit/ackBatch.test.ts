/** A transactional consumption's acks, held until the commit and sent as few frames as they can be. */
import { describe, expect, it } from 'vitest';
import { AckBatch } from '../../src/broker/consumption.js';

function batch(delivered: number[]) {
  const acks = new AckBatch();
  for (const tag of delivered) acks.delivered(tag);
  const sent: [number, boolean][] = [];
  return { acks, sent, flush: () => acks.flush((tag, allUpTo) => sent.push([tag, allUpTo])) };
}

describe('AckBatch', () => {
  it('acks of the oldest deliveries go as one multiple ack', () => {
    const { acks, sent, flush } = batch([1, 2, 3, 4, 5]);
    for (const tag of [2, 1, 3]) acks.ack(tag);
    flush();
    expect(sent).toEqual([[3, true]]);
  });

  it('one ack at the front goes alone, without multiple', () => {
    const { acks, sent, flush } = batch([1, 2]);
    acks.ack(1);
    flush();
    expect(sent).toEqual([[1, false]]);
  });

  it('acks behind an unsettled delivery go one by one, and are skipped once it is settled', () => {
    const { acks, sent, flush } = batch([1, 2, 3, 4, 5]);
    acks.ack(3);
    acks.ack(5);
    flush();
    expect(sent).toEqual([
      [3, false],
      [5, false],
    ]);
    sent.length = 0;
    acks.ack(1);
    acks.ack(2);
    flush();
    // The front runs 1, 2 (held), 3 (acked before), and stops at 4, unsettled.
    expect(sent).toEqual([[2, true]]);
    sent.length = 0;
    acks.ack(4);
    flush();
    expect(sent).toEqual([[4, false]]);
  });

  it('a multiple ack never covers a delivery that is neither acked nor settled', () => {
    const { acks, sent, flush } = batch([1, 2, 3, 4]);
    acks.ack(1);
    acks.ack(3);
    acks.ack(4);
    flush();
    expect(sent).toEqual([
      [1, false],
      [3, false],
      [4, false],
    ]);
  });

  it('a rejected delivery is passed over: the multiple ack reaches past it', () => {
    const { acks, sent, flush } = batch([1, 2, 3]);
    acks.settled(2);
    acks.ack(1);
    acks.ack(3);
    flush();
    expect(sent).toEqual([[3, true]]);
  });

  it('nothing held, nothing sent', () => {
    const { sent, flush } = batch([1, 2]);
    flush();
    expect(sent).toEqual([]);
  });

  it('settled deliveries behind one held for long do not pile up', () => {
    const tags = Array.from({ length: 5000 }, (_, i) => i + 1);
    const { acks, sent, flush } = batch(tags);
    for (const tag of tags.slice(1)) acks.ack(tag);
    flush();
    expect(sent).toHaveLength(4999);
    expect((acks as unknown as { outstanding: number[] }).outstanding).toEqual([1]);
  });
});
