import type { ChalkInstance } from 'chalk';
import type { Session } from '../broker/session.js';
import type { Io } from '../ui/io.js';
import type { Reporter } from '../ui/reporter.js';

/** What the CLI hands every command: streams, a reporter, colour, and a way to connect. */
export interface CommandContext {
  io: Io;
  reporter: Reporter;
  /** Colour for what goes to stdout (formatters). */
  stdoutChalk: ChalkInstance;
  /** Opens a session named `warren <command>`, trying each URL in order. */
  connect(): Promise<Session>;
}
