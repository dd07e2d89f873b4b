/**
 * Settles the deliveries of a transactional consumption in batches of one commit each.
 * RabbitMQ takes no other command on a channel while a commit is under way, so what is
 * settled meanwhile is held and sent, with the next commit, once it is done. A settlement
 * counts only once its commit is confirmed: until then the broker may not have applied it,
 * and a lost connection gives the message back.
 */
export class Commits {
  /** Held while a commit is under way: sent with the next one. */
  private waiting: Settlement[] = [];
  /** Sent, in the commit under way. */
  private sent: Settlement[] = [];
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly commit: () => Promise<void>) {}

  /**
   * `send` puts a message's acks, rejects or publishes on the channel (now, or after the
   * commit under way); `done` runs once they are committed.
   */
  add(send: () => void, done: () => void): void {
    this.waiting.push({ send, done });
    if (this.failure === undefined) this.running ??= this.run();
  }

  /** Settlements not (yet) confirmed by a commit: held, or sent in the commit under way. */
  get unconfirmed(): number {
    return this.waiting.length + this.sent.length;
  }

  /** Resolves once every settlement so far is committed, or the commits failed (a lost connection). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        this.sent = this.waiting;
        this.waiting = [];
        for (const settlement of this.sent) settlement.send();
        await this.commit();
        const confirmed = this.sent;
        this.sent = [];
        for (const settlement of confirmed) settlement.done();
      }
    } catch (error) {
      // Lost with the connection: what is held or sent stays unconfirmed.
      this.failure = error;
    } finally {
      this.running = undefined;
    }
  }
}

interface Settlement {
  send: () => void;
  done: () => void;
}
