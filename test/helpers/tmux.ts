/**
 * warren in a tmux pane: keys typed through a real terminal, the window resized as a person
 * drags it, and the screen read back as tmux shows it. Each pane has a tmux server of its own
 * (its own socket), so tests run in parallel and leave nothing behind.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { uniqueName } from './broker.js';
import { testEnv, WARREN_BIN } from './cli.js';
import { REPO_ROOT } from './spawn.js';

const run = promisify(execFile);

export interface TmuxPane {
  /**
   * The rows as tmux shows them, from the first (scrolled off or not), trailing blanks trimmed.
   * A row the terminal wrapped is joined to the one before: a row longer than the width is a
   * line that did not fit.
   */
  screen(): Promise<string[]>;
  /** Polls the screen until it shows `text`; fails with the screen after `ms`. */
  waitFor(text: string | RegExp, ms?: number): Promise<string[]>;
  /** Types text at the keyboard, as it is (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name: `Enter`, `C-d`, `C-c`. */
  press(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  /** Whether the terminal shows its cursor (a spinner hides it). */
  cursorShown(): Promise<boolean>;
  /** warren's exit code (or that of `after`), once it has exited (the pane stays to be read). */
  exitCode(ms?: number): Promise<number>;
  /** Stops the pane's tmux server. */
  close(): Promise<void>;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export async function startInTmux(
  args: string[],
  options: {
    columns?: number;
    rows?: number;
    env?: Record<string, string | undefined>;
    /** Shell text run in the pane before warren, e.g. to put lines on the screen above it. */
    before?: string;
    /** Shell text run after warren, in the same shell: what it reads is what warren left. */
    after?: string;
  } = {},
): Promise<TmuxPane> {
  const socket = uniqueName('tmux');
  const tmux = async (...words: string[]) => (await run('tmux', ['-L', socket, ...words])).stdout;
  const warren = `${quote(process.execPath)} ${quote(WARREN_BIN)} ${args.map(quote).join(' ')}`;
  const command = `${options.before ? `${options.before}; ` : ''}${options.after ? `${warren}; ${options.after}` : `exec ${warren}`}`;
  // The server takes this environment; the pane's command inherits it.
  const env = testEnv({ NO_COLOR: undefined, CI: undefined, ...options.env });
  await run(
    'tmux',
    [
      '-L',
      socket,
      '-f',
      '/dev/null',
      'start-server',
      // A dead pane stays, so its last screen and exit code can be read.
      ';',
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'new-session',
      '-d',
      '-x',
      String(options.columns ?? 80),
      '-y',
      String(options.rows ?? 24),
      '-c',
      REPO_ROOT,
      command,
    ],
    { env },
  );
  // To see what a failing test's pane was sent: WARREN_TMUX_LOG=/tmp/pane appends the bytes
  // written to each pane, escapes and all, to /tmp/pane-SOCKET (from here on: a line the
  // pane's command writes at once may be missed).
  const log = process.env['WARREN_TMUX_LOG'];
  if (log) await tmux('pipe-pane', '-o', `cat >> ${quote(`${log}-${socket}`)}`);
  const screen = async () =>
    (await tmux('capture-pane', '-p', '-J', '-S', '-')).split('\n').map((line) => line.trimEnd());
  const display = async (format: string) => (await tmux('display-message', '-p', format)).trim();
  const poll = async <T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = await check();
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        throw new Error(`no ${what} within ${ms} ms; the screen:\n${(await screen()).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    screen,
    waitFor: (text, ms = 10_000) =>
      poll(String(text), ms, async () => {
        const lines = await screen();
        const shown = lines.some((line) =>
          typeof text === 'string' ? line.includes(text) : text.test(line),
        );
        return shown ? lines : undefined;
      }),
    type: async (text) => {
      await tmux('send-keys', '-l', text);
    },
    press: async (...keys) => {
      await tmux('send-keys', ...keys);
    },
    resize: async (columns, rows) => {
      await tmux('resize-window', '-x', String(columns), '-y', String(rows));
    },
    cursorShown: async () => (await display('#{cursor_flag}')) === '1',
    exitCode: (ms = 15_000) =>
      poll('exit', ms, async () =>
        (await display('#{pane_dead}')) === '1' ? Number(await display('#{pane_dead_status}')) : undefined,
      ),
    close: async () => {
      const path = await display('#{socket_path}').catch(() => undefined);
      await tmux('kill-server').catch(() => {});
      // The server leaves its socket file behind.
      if (path) rmSync(path, { force: true });
    },
  };
}
