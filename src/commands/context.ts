import type { Command } from 'commander';
import type { ManagementApi } from '../api/client.js';
import type { Session } from '../broker/session.js';
import type { SelectedProfile } from '../config.js';
import type { Paint } from '../ui/colour.js';
import type { Io } from '../ui/io.js';
import type { Reporter } from '../ui/reporter.js';
import type { Spinner } from '../ui/spinner.js';

/** A command's own second broker: URLs (`--to-url`), or a profile (`--to-profile`). */
export type SecondBroker = { urls: string[]; source: string } | { profile: SelectedProfile; source: string };

/** What the CLI hands every command: streams, a reporter, colour, and a way to connect. */
export interface CommandContext {
  io: Io;
  reporter: Reporter;
  /** Colour for what goes to stdout (formatters). */
  stdoutPaint: Paint;
  /** The input is typed at a terminal (stdin is one and the command reads it): no status line. */
  typing: boolean;
  /** A status line on stderr (a no-op unless stderr is a terminal, not --quiet, not typing). */
  spinner(text: string): Promise<Spinner>;
  /**
   * The management API (src/api/): --api, WARREN_API_URL, the profile's api, or the first
   * broker URL's host on port 15672, with the broker's credentials. Nothing is sent yet.
   */
  api(): Promise<ManagementApi>;
  /** The broker as warren names it to people: the first URL, its password masked. */
  brokerLabel(): string;
  /**
   * Opens a session named `warren <command>`, trying each URL in order: the global ones, or
   * `to`'s (a command's own second broker, named by `to.source` in errors): URLs, with the
   * same TLS files (latency's --to-url), or a profile, with its own settings alone
   * (latency's --to-profile). `role` tells a command's connections apart in the broker's
   * list: `warren bench (producers 1)`. What the connection has to say (warnings, --verbose
   * detail) goes to `options.reporter` if given, else the command's reporter; a slow one
   * draws a "connecting…" spinner on a terminal unless `options.spinner` is false. Both for
   * a command that draws its own status there (serve), which a line written past it, or a
   * spinner, would push out of place.
   */
  connect(
    to?: SecondBroker,
    role?: string,
    options?: { reporter?: Reporter; spinner?: boolean },
  ): Promise<Session>;
  /**
   * The environment for a command warren runs (handler, trigger): without warren's password,
   * or with `passUrl` (--pass-url) holding the URLs warren connects with (src/exec/childEnv.ts).
   */
  childEnv(passUrl: boolean): NodeJS.ProcessEnv;
  /** warren's command tree, for a command that describes warren itself (completion). */
  commandTree(): Command;
}
