import { describe, expect, it } from 'vitest';
import { Pacer, type PacerOptions } from '../../src/replay/pacer.js';

/** A clock the test moves by hand (ms), and a pacer reading it. */
function pacer(options: Partial<PacerOptions> = {}, start = 10_000) {
  const clock = { now: start };
  const p = new Pacer({ timing: 'none', speed: 1, rate: undefined, ...options }, () => clock.now);
  return {
    pacer: p,
    clock,
    /** Asks for the delay, then lets that much time pass, as the replay loop does. */
    sendAt(recordedAt: number | undefined): number {
      const delay = p.delayFor(recordedAt);
      clock.now += delay;
      return delay;
    },
  };
}

/** Recorded times (ms since the epoch) of a capture, around a fixed base. */
const T0 = Date.parse('2026-11-27T09:00:00Z');

describe('Pacer: no timing, no rate', () => {
  it('is not active and never delays', () => {
    const { pacer: p, clock } = pacer();
    expect(p.active).toBe(false);
    expect(p.delayFor(T0)).toBe(0);
    expect(p.delayFor(T0 + 60_000)).toBe(0);
    expect(p.delayFor(undefined)).toBe(0);
    clock.now += 5;
    expect(p.delayFor(T0 + 3_600_000)).toBe(0);
    expect(p.delayFor(T0 - 1000)).toBe(0);
  });

  it('ignores --speed without --timing original', () => {
    const { pacer: p } = pacer({ speed: 0.001 });
    expect(p.active).toBe(false);
    expect(p.delayFor(T0)).toBe(0);
    expect(p.delayFor(T0 + 10_000)).toBe(0);
  });
});

describe('Pacer: --timing original', () => {
  it('is active', () => {
    expect(pacer({ timing: 'original' }).pacer.active).toBe(true);
  });

  it('the first message goes at once, the others after their recorded gaps from the first', () => {
    const { sendAt } = pacer({ timing: 'original' });
    expect(sendAt(T0)).toBe(0);
    expect(sendAt(T0 + 100)).toBe(100);
    expect(sendAt(T0 + 350)).toBe(250);
    expect(sendAt(T0 + 350)).toBe(0);
    expect(sendAt(T0 + 2350)).toBe(2000);
  });

  it('measures from the first message: the delays are not cumulative when the clock stands still', () => {
    const { pacer: p } = pacer({ timing: 'original' });
    expect(p.delayFor(T0)).toBe(0);
    // Nobody waited: each message is still due at start + its offset, not after the previous delay.
    expect(p.delayFor(T0 + 100)).toBe(100);
    expect(p.delayFor(T0 + 300)).toBe(300);
    expect(p.delayFor(T0 + 1000)).toBe(1000);
  });

  it('a late caller is not delayed further, and the next message is still due at its absolute time', () => {
    const { pacer: p, clock } = pacer({ timing: 'original' });
    const start = clock.now;
    expect(p.delayFor(T0)).toBe(0);
    // The broker was slow: the clock is already past the second message's time.
    clock.now = start + 150;
    expect(p.delayFor(T0 + 100)).toBe(0);
    // The third is due at start + 300, not 150 + (300 - 100).
    expect(p.delayFor(T0 + 300)).toBe(150);
    // Far behind: everything already due goes at once.
    clock.now = start + 5000;
    expect(p.delayFor(T0 + 1000)).toBe(0);
    expect(p.delayFor(T0 + 4999)).toBe(0);
    expect(p.delayFor(T0 + 5000)).toBe(0);
    expect(p.delayFor(T0 + 5250)).toBe(250);
  });

  it('--speed 2 halves the gaps', () => {
    const { sendAt } = pacer({ timing: 'original', speed: 2 });
    expect(sendAt(T0)).toBe(0);
    expect(sendAt(T0 + 1000)).toBe(500);
    expect(sendAt(T0 + 3000)).toBe(1000);
  });

  it('--speed 0.5 doubles the gaps', () => {
    const { sendAt } = pacer({ timing: 'original', speed: 0.5 });
    expect(sendAt(T0)).toBe(0);
    expect(sendAt(T0 + 1000)).toBe(2000);
    expect(sendAt(T0 + 1500)).toBe(1000);
  });

  it('a recorded time earlier than the first goes at once', () => {
    const { pacer: p, clock } = pacer({ timing: 'original' });
    expect(p.delayFor(T0)).toBe(0);
    expect(p.delayFor(T0 - 1000)).toBe(0);
    expect(p.delayFor(T0 - 60_000)).toBe(0);
    // …and does not move the reference: later messages keep their gaps from the first.
    expect(p.delayFor(T0 + 200)).toBe(200);
    clock.now += 200;
    expect(p.delayFor(T0 - 1)).toBe(0);
  });

  it('a message without a recorded time goes at once', () => {
    const { pacer: p } = pacer({ timing: 'original' });
    expect(p.delayFor(T0)).toBe(0);
    expect(p.delayFor(undefined)).toBe(0);
    expect(p.delayFor(T0 + 400)).toBe(400);
  });

  it('when the first message has no recorded time, the first one that does is the reference', () => {
    const { pacer: p, clock } = pacer({ timing: 'original' });
    const start = clock.now;
    expect(p.delayFor(undefined)).toBe(0);
    clock.now = start + 50;
    expect(p.delayFor(T0)).toBe(0);
    expect(p.delayFor(T0 + 500)).toBe(450);
  });
});

describe('Pacer: --rate', () => {
  it('is active', () => {
    expect(pacer({ rate: 10 }).pacer.active).toBe(true);
  });

  it('10/s spaces messages 100 ms apart', () => {
    const { sendAt } = pacer({ rate: 10 });
    expect(sendAt(undefined)).toBe(0);
    expect(sendAt(undefined)).toBe(100);
    expect(sendAt(undefined)).toBe(100);
    expect(sendAt(T0)).toBe(100);
  });

  it('spaces messages from their due times when the clock stands still', () => {
    const { pacer: p } = pacer({ rate: 10 });
    expect(p.delayFor(undefined)).toBe(0);
    expect(p.delayFor(undefined)).toBe(100);
    expect(p.delayFor(undefined)).toBe(200);
    expect(p.delayFor(undefined)).toBe(300);
  });

  it('catches lateness up instead of adding it on: a late message does not push back the next', () => {
    const { pacer: p, clock } = pacer({ rate: 10 });
    const start = clock.now;
    expect(p.delayFor(undefined)).toBe(0); // due at start
    clock.now = start + 250;
    expect(p.delayFor(undefined)).toBe(0); // due at start + 100, already late
    // Due at start + 200 (100 after the previous due time), not at 250 + 100.
    expect(p.delayFor(undefined)).toBe(0);
    expect(p.delayFor(undefined)).toBe(50); // due at start + 300
    expect(p.delayFor(undefined)).toBe(150); // due at start + 400
  });

  it('30/m (0.5/s) spaces messages two seconds apart', () => {
    const { sendAt } = pacer({ rate: 0.5 });
    expect(sendAt(undefined)).toBe(0);
    expect(sendAt(undefined)).toBe(2000);
    expect(sendAt(undefined)).toBe(2000);
  });
});

describe('Pacer: --timing original with --rate', () => {
  it('waits for the later of the recorded time and the rate', () => {
    const { sendAt } = pacer({ timing: 'original', rate: 10 });
    expect(sendAt(T0)).toBe(0); // start
    expect(sendAt(T0 + 50)).toBe(100); // recorded: +50, rate: +100
    expect(sendAt(T0 + 1000)).toBe(900); // recorded: +1000, rate: +200
    expect(sendAt(T0 + 1010)).toBe(100); // recorded: +1010, rate: +1100
    expect(sendAt(T0 + 1150)).toBe(100); // recorded: +1150, rate: +1200 (clock at +1100)
  });

  it('a burst recorded at one instant goes out at the rate', () => {
    const { sendAt } = pacer({ timing: 'original', rate: 4 });
    expect(sendAt(T0)).toBe(0);
    expect(sendAt(T0)).toBe(250);
    expect(sendAt(T0)).toBe(250);
    expect(sendAt(T0 + 5000)).toBe(4500);
  });

  it('--speed scales the recorded gaps but not the rate', () => {
    const { sendAt } = pacer({ timing: 'original', speed: 2, rate: 10 });
    expect(sendAt(T0)).toBe(0);
    expect(sendAt(T0 + 100)).toBe(100); // recorded: +50, rate: +100
    expect(sendAt(T0 + 1000)).toBe(400); // recorded: +500, rate: +200
  });
});
