/**
 * Commits: RabbitMQ refuses any command on a channel while a commit is under way, so what
 * is settled meanwhile must wait for the next commit; a settlement counts only once its
 * commit is confirmed.
 */
import { describe, expect, it } from 'vitest';
import { Commits } from '../../src/exec/commits.js';

/** A channel that records what was sent, and commits that the test confirms or fails. */
function fakeChannel() {
  const sent: string[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const commits = new Commits(() => {
    sent.push('commit');
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { sent, pending, commits, tick };
}

describe('Commits', () => {
  it('sends at once when no commit is under way; holds what comes during one for the next', async () => {
    const { sent, pending, commits, tick } = fakeChannel();
    const done: string[] = [];
    commits.add(
      () => sent.push('ack 1'),
      () => done.push('1'),
    );
    commits.add(
      () => sent.push('ack 2'),
      () => done.push('2'),
    );
    commits.add(
      () => sent.push('ack 3'),
      () => done.push('3'),
    );
    expect(sent).toEqual(['ack 1', 'commit']);
    expect(commits.unconfirmed).toBe(3);
    pending.shift()?.resolve();
    await tick();
    expect(done).toEqual(['1']);
    expect(sent).toEqual(['ack 1', 'commit', 'ack 2', 'ack 3', 'commit']);
    pending.shift()?.resolve();
    await commits.flush();
    expect(done).toEqual(['1', '2', '3']);
    expect(commits.unconfirmed).toBe(0);
  });

  it('a failed commit (a lost connection) counts nothing of it, sends nothing more, and flush ends', async () => {
    const { sent, pending, commits, tick } = fakeChannel();
    const done: string[] = [];
    commits.add(
      () => sent.push('ack 1'),
      () => done.push('1'),
    );
    commits.add(
      () => sent.push('ack 2'),
      () => done.push('2'),
    );
    pending.shift()?.reject(new Error('lost'));
    await tick();
    commits.add(
      () => sent.push('ack 3'),
      () => done.push('3'),
    );
    await commits.flush();
    expect(done).toEqual([]);
    expect(sent).toEqual(['ack 1', 'commit']);
    expect(commits.unconfirmed).toBe(3);
  });
});
