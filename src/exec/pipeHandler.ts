import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { DeliveredMessage } from '../broker/session.js';
import { DataError, WarrenError } from '../errors.js';
import { formatNdjson } from '../format/ndjson.js';
import { LineSplitter } from '../input/lineSplitter.js';
import { type LineForwarder, lineForwarder } from './childOutput.js';
import { causeOf } from './emit.js';
import type { AnswerOutcome, HandlerInput, HandlerResult, HandlerRun, MessageHandler } from './handler.js';
import { HANDLER_VARIABLES } from './handlerEnv.js';

export interface PipeHandlerOptions {
  /** The shell command started once per process. */
  command: string;
  queue: string;
  /** How many copies run at once (--concurrency). */
  processes: number;
  /** --exec-timeout: how long one message may wait for its answer. */
  timeoutMs: number | undefined;
  /** Whether answers may carry events (--emit or --emit-format was given). */
  emits: boolean;
  /** warren's own environment, as handlers may see it (src/exec/childEnv.ts). */
  inherited: NodeJS.ProcessEnv;
  /** Where the handlers' stderr goes, a line at a time. */
  log: NodeJS.WritableStream;
  warn(line: string): void;
}

/**
 * The longest answer line read: events ride in answers, and a body can be large, but a
 * handler that never ends a line must not make warren hold its output without limit.
 */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** Restarts wait this long at first, doubling up to the cap while the handler keeps failing. */
const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 10_000;
/** A process that answered and lived this long was well: its next restart is quick again. */
const STEADY_MS = 10_000;
/** Lives in a row that end without a single answer before the run gives up on the handler. */
const MAX_FRUITLESS = 5;
/** How long a handler told to stop (SIGTERM) may take before it is killed. */
const KILL_AFTER_MS = 2000;
/** How much of a bad answer line a warning quotes. */
const QUOTE_CHARS = 200;
/** Suspects remembered at most (the oldest are forgotten first): see Suspects. */
const MAX_SUSPECTS = 10_000;

const OUTCOMES: readonly AnswerOutcome[] = ['ack', 'requeue', 'reject', 'retry'];
const ANSWER_FIELDS = new Set(['seq', 'outcome', 'emit', 'reason']);

const INTERRUPTED: HandlerResult = { kind: 'exit', exit: { kind: 'interrupted' }, stdout: undefined };
const TIMED_OUT: HandlerResult = { kind: 'exit', exit: { kind: 'timedOut' }, stdout: undefined };

/** A handler's answer line, read. */
export interface Answer {
  seq: number;
  outcome: AnswerOutcome;
  emit: unknown[];
  reason: string | undefined;
}

/** One message given to the handler, until its answer (or its end) comes. */
class Given {
  private resolveDone!: (result: HandlerResult) => void;
  readonly done = new Promise<HandlerResult>((resolve) => {
    this.resolveDone = resolve;
  });
  /** The process it was written to, while it waits for the answer there. */
  holder: PipeProcess | undefined;
  finished = false;
  /** Held by a process that died: it is given to a process alone, to learn if it is the cause. */
  suspect = false;

  constructor(
    readonly seq: number,
    readonly line: string,
    readonly message: DeliveredMessage,
  ) {}

  finish(result: HandlerResult): void {
    if (this.finished) return;
    this.finished = true;
    this.holder = undefined;
    this.resolveDone(result);
  }
}

/** One life of one of the handler's processes: started, fed, read, ended. */
class PipeProcess {
  /** Messages written to it and not answered, by seq. */
  readonly pending = new Map<number, Given>();
  /** Messages given up on (interrupted) while it had them: their late answers are not garbage. */
  readonly abandoned = new Set<number>();
  readonly startedAt = performance.now();
  answered = 0;
  /** Killed, or ended: nothing more is written to it, and what it writes is not read. */
  dead = false;
  /** Why warren killed it, for the warning once it has ended. */
  killedBecause: string | undefined;
  /** Its unanswered messages when it died, which went back to the queue. */
  dropped = 0;
  /** Killed for a message's timeout: that is the message's failure, not the handler's. */
  timedOut = false;
  /**
   * The suspect it was given alone (nothing else is written to it until that is answered),
   * and whether it is kept free for the next one (nothing new is written to it, so that it
   * comes to hold nothing).
   */
  isolating: Given | undefined;
  reserved = false;
  /** It died holding a suspect alone: the message's failure, not the handler's. */
  blamed = false;
  /** Lines to write, sent together once the current burst is over. */
  private outgoing: string[] = [];
  private readonly stderr: LineForwarder;
  private readonly splitter = new LineSplitter(MAX_ANSWER_BYTES);

  /** The --exec-timeout clock, running for the oldest unanswered message (`timedSeq`). */
  private timer: NodeJS.Timeout | undefined;
  private timedSeq: number | undefined;

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly name: string,
    prefix: string,
    log: NodeJS.WritableStream,
    private readonly hooks: ProcessHooks,
  ) {
    this.stderr = lineForwarder(log, prefix);
    // A handler that stops reading (it died) fails the write; its end says the rest.
    child.stdin.on('error', () => {});
    child.stderr.on('data', (chunk: Buffer) => this.stderr.write(chunk));
    child.stdout.on('data', (chunk: Buffer) => this.read(chunk));
    // Whatever the handler started is no use once it is gone, and a grandchild holding
    // stdout open would keep its end from being seen.
    child.on('exit', () => this.signal('SIGKILL'));
  }

  /** Messages it holds: answers awaited, and ones given up on that it still works on. */
  get load(): number {
    return this.pending.size + this.abandoned.size;
  }

  write(given: Given): void {
    this.pending.set(given.seq, given);
    given.holder = this;
    this.watch();
    // Lines given in one turn of the event loop (a burst of deliveries) go in one write:
    // a write per line would cost a system call each.
    this.outgoing.push(given.line);
    if (this.outgoing.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const text = this.outgoing.join('');
    this.outgoing = [];
    if (!this.dead) this.child.stdin.write(text);
  }

  /** The message is no longer waited for (interrupted); an answer for it is still welcome. */
  abandon(given: Given): void {
    if (this.settle(given.seq)) this.abandoned.add(given.seq);
  }

  /** The message is no longer unanswered here (answered, given up on, timed out). */
  settle(seq: number): boolean {
    const had = this.pending.delete(seq);
    if (had) this.watch();
    return had;
  }

  /**
   * Keeps the --exec-timeout clock on the oldest unanswered message, from when it became
   * the oldest: a handler taking its lines one at a time is timed on each, however many
   * wait behind it, and one that works on several at once must not leave one behind.
   */
  private watch(): void {
    const { timeoutMs } = this.hooks;
    if (timeoutMs === undefined) return;
    const oldest = this.pending.values().next().value;
    if (oldest?.seq === this.timedSeq) return;
    clearTimeout(this.timer);
    this.timedSeq = oldest?.seq;
    if (oldest) this.timer = setTimeout(() => this.hooks.onStuck(this, oldest), timeoutMs);
  }

  /**
   * Kills it for `why`; its unanswered messages go back to the queue (uncounted), but for
   * a suspect it held alone, which fails.
   */
  kill(why: string, blame: boolean): void {
    if (this.dead) return;
    this.killedBecause = why;
    // What it wrote while it held a suspect alone is that message's doing (`blame`).
    this.die(blame ? why : undefined);
    this.signal('SIGKILL');
  }

  /**
   * It is gone (or going): every message it held resolves as interrupted, except a suspect
   * it held alone when `how` it ended is known (it died by itself): that one failed.
   */
  die(how?: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    const held = [...this.pending.values()];
    this.pending.clear();
    this.abandoned.clear();
    const alone = held.length === 1 && held[0] === this.isolating ? this.isolating : undefined;
    if (alone && how !== undefined) {
      this.blamed = true;
      alone.finish({ kind: 'exit', exit: { kind: 'diedOn', how }, stdout: undefined });
      return;
    }
    this.dropped = held.length;
    this.hooks.onDropped(held);
    for (const given of held) given.finish(INTERRUPTED);
  }

  ended(): void {
    this.stderr.end();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {}
  }

  private read(chunk: Buffer): void {
    if (this.dead) return;
    try {
      for (const line of this.splitter.push(chunk)) {
        if (this.dead) return;
        this.hooks.onAnswer(this, line.bytes.toString('utf8'));
      }
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      this.hooks.onGarbage(this, `an answer line over ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`);
    }
  }
}

/** What a process tells its handler of. */
interface ProcessHooks {
  timeoutMs: number | undefined;
  onAnswer(process: PipeProcess, text: string): void;
  onGarbage(process: PipeProcess, why: string): void;
  /** Its oldest unanswered message waited --exec-timeout. */
  onStuck(process: PipeProcess, given: Given): void;
  /** It died (or was killed) holding these: they go back to the queue, suspects. */
  onDropped(held: Given[]): void;
}

/** One of the --concurrency places a process runs in, across its restarts. */
interface Slot {
  index: number;
  process: PipeProcess | undefined;
  restart: NodeJS.Timeout | undefined;
  /** Ends in a row, for the restart delay. */
  failures: number;
  /** Lives in a row that ended without answering anything. */
  fruitless: number;
}

/**
 * `--pipe CMD`: the handler runs for the whole run (--concurrency copies), each reading one
 * NDJSON envelope per message on stdin, with a `seq`, and answering one line per message on
 * stdout, in any order: `{"seq":…,"outcome":"ack"|"requeue"|"reject"|"retry","emit":[…]}`
 * (docs/handlers.md, "Long-running handlers"). Each message goes to the copy that holds
 * the fewest. A copy that dies, or answers what is not an answer, is killed; the messages
 * it held go back to the queue uncounted, and it is restarted after a delay that grows
 * while it keeps failing. One that keeps ending without answering anything fails the run.
 */
export class PipeHandler implements MessageHandler {
  private readonly slots: Slot[];
  /** Messages waiting for a live process (all are restarting, or kept for suspects). */
  private waiting: Given[] = [];
  /**
   * Messages a process held when it died (or was killed), by causeOf: the one that killed
   * it is among them, and the others come back with it, in the same order, so each is
   * tried alone when it comes back. One that a process then dies holding alone fails as its
   * handler had (--on-failure, --max-retries) and stays a suspect; one answered is cleared.
   */
  private readonly suspects = new Set<string>();
  /** Their body sizes: a message of another size (and no message id) is no suspect, unhashed. */
  private readonly suspectSizes = new Set<number>();
  /** Suspects waiting for a process that holds nothing. */
  private waitingSuspects: Given[] = [];
  /**
   * It answered a message in this run: it can work, so a process that dies holding a suspect
   * alone died of that message. Until then, it may be the handler that cannot work at all
   * (a command not found, garbage only): its deaths are its own, and end the run.
   */
  private works = false;
  private seq = 0;
  private closing = false;
  private failure: WarrenError | undefined;
  /** Ends the run (given by open): the handler cannot go on. */
  private failed: (error: WarrenError) => void = () => {};
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: PipeHandlerOptions) {
    this.slots = Array.from({ length: options.processes }, (_, i) => ({
      index: i + 1,
      process: undefined,
      restart: undefined,
      failures: 0,
      fruitless: 0,
    }));
    // The message is on stdin; only the queue is the same for every one.
    const env: NodeJS.ProcessEnv = { ...options.inherited };
    for (const name of HANDLER_VARIABLES) delete env[name];
    env['WARREN_QUEUE'] = options.queue;
    this.env = env;
  }

  async open(failed: (error: WarrenError) => void): Promise<void> {
    this.failed = failed;
    for (const slot of this.slots) this.start(slot);
  }

  handle({ message, retries }: HandlerInput): HandlerRun {
    this.seq += 1;
    // seq first, so that a person reading the lines sees it; then the envelope as
    // `consume --format ndjson` writes it (an object: its opening brace is replaced).
    const line = `{"seq":${this.seq},"retries":${retries},${formatNdjson(message).slice(1)}`;
    const given = new Given(this.seq, line, message);
    given.suspect = this.suspects.size > 0 && this.isSuspect(message);
    if (this.closing || this.failure) given.finish(INTERRUPTED);
    else this.give(given);
    const drop = () => {
      const holder = given.holder;
      holder?.abandon(given);
      if (holder?.isolating === given) holder.isolating = undefined;
      this.waiting = this.waiting.filter((other) => other !== given);
      this.waitingSuspects = this.waitingSuspects.filter((other) => other !== given);
      given.finish(INTERRUPTED);
      this.pump();
    };
    return { done: given.done, interrupt: drop, kill: drop };
  }

  /**
   * Closes the handlers' stdin and waits for them to end. One still working on messages
   * that were given up on (the grace was over) is told to stop at once; the others get
   * `graceMs` to finish, then SIGTERM, then SIGKILL.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.dropWaiting();
    const ends: Promise<void>[] = [];
    for (const slot of this.slots) {
      clearTimeout(slot.restart);
      const process = slot.process;
      if (!process) continue;
      ends.push(this.endOf(process));
      const busy = process.load > 0;
      process.die();
      process.child.stdin.end();
      if (busy) this.stop(process, 0);
      else this.stop(process, graceMs);
    }
    await Promise.all(ends);
  }

  kill(): void {
    this.closing = true;
    this.killAll();
  }

  /** Every process killed, none restarted, every message resolved as interrupted. */
  private killAll(): void {
    this.dropWaiting();
    for (const slot of this.slots) {
      clearTimeout(slot.restart);
      slot.process?.die();
      slot.process?.signal('SIGKILL');
    }
  }

  /** SIGTERM after `afterMs` unless it has ended, then SIGKILL if it lingers. */
  private stop(process: PipeProcess, afterMs: number): void {
    const term = setTimeout(() => {
      process.signal('SIGTERM');
      const kill = setTimeout(() => process.signal('SIGKILL'), KILL_AFTER_MS);
      process.child.once('close', () => clearTimeout(kill));
    }, afterMs);
    process.child.once('close', () => clearTimeout(term));
  }

  private endOf(process: PipeProcess): Promise<void> {
    const { child } = process;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('close', () => resolve()));
  }

  private dropWaiting(): void {
    const waiting = [...this.waiting, ...this.waitingSuspects];
    this.waiting = [];
    this.waitingSuspects = [];
    for (const given of waiting) given.finish(INTERRUPTED);
  }

  /**
   * Writes the message to the live process holding the fewest, or keeps it until one is;
   * a suspect waits for a process that holds nothing (pump).
   */
  private give(given: Given): void {
    if (given.suspect) {
      this.waitingSuspects.push(given);
      this.pump();
      return;
    }
    // Once per message: a plain loop, not live()'s generator.
    let best: PipeProcess | undefined;
    for (const { process } of this.slots) {
      if (!process || process.dead || process.isolating || process.reserved) continue;
      if (best === undefined || process.load < best.load) best = process;
    }
    if (!best) {
      this.waiting.push(given);
      return;
    }
    best.write(given);
  }

  private *live(): Generator<PipeProcess> {
    for (const slot of this.slots) if (slot.process && !slot.process.dead) yield slot.process;
  }

  /**
   * Gives each waiting suspect to a process that holds nothing, alone; while some still
   * wait, one process takes nothing new, so that it comes to hold nothing. Then the other
   * messages waiting go to the processes free for them.
   */
  private pump(): void {
    if (this.closing || this.failure) return;
    for (const process of this.live()) {
      if (process.isolating) continue;
      const next = process.load === 0 ? this.waitingSuspects.shift() : undefined;
      process.reserved = false;
      if (next) {
        process.isolating = next;
        process.write(next);
      }
    }
    if (this.waitingSuspects.length > 0) {
      let keep: PipeProcess | undefined;
      for (const process of this.live()) {
        if (process.isolating || process.reserved) {
          keep = undefined;
          break;
        }
        if (keep === undefined || process.load < keep.load) keep = process;
      }
      if (keep) keep.reserved = true;
    }
    if (this.waiting.length > 0) for (const given of this.takeWaiting()) this.give(given);
  }

  private isSuspect(message: DeliveredMessage): boolean {
    const named = message.properties.messageId !== undefined;
    return (named || this.suspectSizes.has(message.body.length)) && this.suspects.has(causeOf(message));
  }

  private clear(message: DeliveredMessage): void {
    this.suspects.delete(causeOf(message));
    if (this.suspects.size === 0) this.suspectSizes.clear();
  }

  /** A process died (or was killed) holding these: each is tried alone when it comes back. */
  private dropped(held: Given[]): void {
    for (const given of held) {
      const key = causeOf(given.message);
      this.suspects.delete(key);
      this.suspects.add(key);
      this.suspectSizes.add(given.message.body.length);
    }
    // The oldest are forgotten first (a Set keeps the order of insertion).
    for (const key of this.suspects) {
      if (this.suspects.size <= MAX_SUSPECTS) break;
      this.suspects.delete(key);
    }
  }

  /**
   * The oldest message a process holds waited --exec-timeout for its answer: it failed as
   * timed out. The handler is stuck, so it is killed and restarted; the others it held go
   * back to the queue, uncounted.
   */
  private timedOut(process: PipeProcess, given: Given): void {
    if (process.dead || !process.settle(given.seq)) return;
    given.finish(TIMED_OUT);
    process.timedOut = true;
    process.kill(`did not answer seq ${given.seq} within --exec-timeout`, false);
  }

  private start(slot: Slot): void {
    slot.restart = undefined;
    if (this.closing || this.failure) return;
    const { options } = this;
    const many = options.processes > 1;
    let child: ChildProcessWithoutNullStreams;
    try {
      // A process group of its own, as handlerProcess.ts does: a kill reaches whatever it
      // started, and a Ctrl-C at the terminal reaches warren only, which decides.
      child = spawn('/bin/sh', ['-c', options.command], {
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      this.fail(
        new WarrenError(`--pipe: the handler cannot be started: ${(error as Error).message}`, 1, {
          cause: error,
        }),
      );
      return;
    }
    const name = `${many ? `handler ${slot.index}` : 'the handler'} (pid ${child.pid ?? '?'})`;
    const process = new PipeProcess(child, name, many ? `[handler ${slot.index}] ` : '', options.log, {
      timeoutMs: options.timeoutMs,
      onAnswer: (from, text) => this.answered(from, text),
      onGarbage: (from, why) => this.garbage(from, why, undefined),
      onStuck: (from, given) => this.timedOut(from, given),
      onDropped: (held) => this.dropped(held),
    });
    slot.process = process;
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      process.ended();
      const why = spawnError ? `could not start (${spawnError.message})` : exitText(code, signal);
      this.ended(slot, process, why);
    });
    this.pump();
  }

  private takeWaiting(): Given[] {
    const waiting = this.waiting;
    this.waiting = [];
    return waiting;
  }

  /** A process ended: said why, unless warren is closing, and restarted after a delay. */
  private ended(slot: Slot, process: PipeProcess, exit: string): void {
    const expected = this.closing || this.failure !== undefined;
    // Ended by itself (not killed by warren) while it held a suspect alone: that one failed.
    const suspect = process.isolating;
    process.die(expected || !this.works ? undefined : exit);
    if (slot.process === process) slot.process = undefined;
    if (expected) return;
    const lived = performance.now() - process.startedAt;
    if (process.answered > 0 || process.timedOut || process.blamed) slot.fruitless = 0;
    else slot.fruitless += 1;
    if (process.answered > 0 && lived >= STEADY_MS) slot.failures = 0;
    slot.failures += 1;
    const what = process.killedBecause ? `${process.killedBecause}: killed` : exit;
    const held = process.blamed
      ? ` while it held seq ${suspect?.seq} alone, which fails for it`
      : process.dropped === 0
        ? ''
        : `; its ${process.dropped} unanswered message${process.dropped === 1 ? '' : 's'} go back to the queue, each to be tried alone`;
    if (slot.fruitless >= MAX_FRUITLESS) {
      this.fail(
        new WarrenError(
          `--pipe: ${process.name.replace(/ \(pid.*/, '')} ended ${slot.fruitless} times in a row without answering a message (last: ${what})`,
          1,
          {
            hint: 'run the command by hand and read its errors above: it must read one envelope line per message on stdin and answer each with a line on stdout (docs/handlers.md)',
          },
        ),
      );
      return;
    }
    const delay = Math.min(FIRST_RESTART_MS * 2 ** (slot.failures - 1), MAX_RESTART_MS);
    this.options.warn(`--pipe: ${process.name} ${what}${held}; restarting it in ${delay} ms`);
    slot.restart = setTimeout(() => this.start(slot), delay);
  }

  /** An answer line from a process: a message's outcome, or garbage. */
  private answered(process: PipeProcess, text: string): void {
    const answer = readAnswer(text);
    if (typeof answer === 'string') {
      this.garbage(process, answer, text);
      return;
    }
    const given = process.pending.get(answer.seq);
    if (!given) {
      // An answer for a message given up on is late, not wrong.
      if (process.abandoned.delete(answer.seq)) return;
      this.garbage(process, `it answered seq ${answer.seq}, which it does not hold`, text);
      return;
    }
    if (answer.emit.length > 0 && !this.options.emits) {
      this.fail(
        new WarrenError(
          `--pipe: ${process.name} answered seq ${answer.seq} with events, but this run was not given --emit`,
          2,
          {
            hint: "add --emit EXCHANGE[:KEY] (the events' default target) or --emit-format ndjson (each names its own)",
          },
        ),
      );
      return;
    }
    process.settle(answer.seq);
    process.answered += 1;
    this.works = true;
    given.finish({
      kind: 'answer',
      outcome: answer.outcome,
      emit: answer.emit,
      ...(answer.reason === undefined ? {} : { reason: answer.reason }),
    });
    // Answered alone: it is not what killed the process.
    if (process.isolating === given) {
      process.isolating = undefined;
      this.clear(given.message);
    }
    if (given.suspect || this.waitingSuspects.length > 0 || this.waiting.length > 0) this.pump();
  }

  private garbage(process: PipeProcess, why: string, text: string | undefined): void {
    const quoted = text === undefined ? '' : `: ${JSON.stringify(cut(text))}`;
    process.kill(`wrote what is not an answer (${why})${quoted}`, this.works);
  }

  /** The run cannot go on with this handler: everything stops, and the run fails. */
  private fail(error: WarrenError): void {
    if (this.failure) return;
    this.failure = error;
    this.killAll();
    this.failed(error);
  }
}

/** An answer line read, or why it is not one (exported for its tests). */
export function readAnswer(text: string): Answer | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !ANSWER_FIELDS.has(key));
  if (unknown !== undefined) return `unknown field ${JSON.stringify(unknown)}`;
  const { seq, outcome, emit, reason } = record;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
    return '"seq" must be the whole number of the line it answers';
  if (typeof outcome !== 'string' || !OUTCOMES.includes(outcome as AnswerOutcome))
    return `"outcome" must be one of ${OUTCOMES.join(', ')}`;
  if (emit !== undefined && !Array.isArray(emit)) return '"emit" must be an array of envelopes';
  if (reason !== undefined && typeof reason !== 'string') return '"reason" must be a string';
  return { seq, outcome: outcome as AnswerOutcome, emit: emit ?? [], reason };
}

function cut(text: string): string {
  return text.length <= QUOTE_CHARS ? text : `${text.slice(0, QUOTE_CHARS)}…`;
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`;
}
