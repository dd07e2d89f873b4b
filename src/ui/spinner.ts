import { humanLine } from './terminalText.js';

/** A status line on stderr: only on a terminal, never mixed into data, gone when stopped. */
export interface Spinner {
  /** False when there is no terminal to show it on: callers need not compute updates. */
  readonly active: boolean;
  update(text: string): void;
  stop(): void;
}

const NO_SPINNER: Spinner = { active: false, update: () => {}, stop: () => {} };

/**
 * Characters a terminal shows two columns wide: East Asian wide and full-width forms, and
 * emoji. Close enough to wcwidth for a status line: where it errs, it errs wide, and the
 * line is only cut a little early.
 */
export const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f000}-\u{1faff}\u{20000}-\u{3fffd}]|\p{Extended_Pictographic}/u;

/**
 * The text cut to one row of a terminal `columns` wide, after the spinner's frame and a
 * space, with the last column left free. A status line that wraps cannot be redrawn in
 * place once the terminal is resized: the terminal rewraps the rows it took, and clearing
 * the rows counted at the old width would erase output above the line or leave some behind.
 */
export function oneRow(text: string, columns: number): string {
  const room = columns - 3;
  const characters = [...text];
  const widths = characters.map((c) => (WIDE.test(c) ? 2 : 1));
  if (widths.reduce((sum, w) => sum + w, 0) <= room) return text;
  let used = 1; // the ellipsis
  let kept = 0;
  while (kept < characters.length && used + (widths[kept] ?? 1) <= room) {
    used += widths[kept] ?? 1;
    kept += 1;
  }
  return `${characters.slice(0, kept).join('')}…`;
}

/** The streams a spinner is drawn on now. */
const spinning = new WeakSet<object>();

/**
 * Starts an ora spinner on stderr when stderr is a terminal and the summary is wanted.
 * ora is loaded only then, so pipes and CI logs pay nothing for it.
 */
export async function startSpinner(
  stderr: NodeJS.WritableStream & { isTTY?: boolean },
  text: string,
  /** `colour`: warren's decision (NO_COLOR, --no-color…); ora would otherwise make its own. */
  options: { enabled: boolean; colour: boolean },
): Promise<Spinner> {
  // A terminal that reports no width (some CI pseudo-terminals) would make ora redraw forever.
  const columns = (stderr as { columns?: number }).columns ?? 0;
  // One at a time: a second (connecting again while publish shows its progress) would be
  // drawn over the first, and ora would write a warning line of its own past both.
  if (!options.enabled || !stderr.isTTY || columns <= 0 || spinning.has(stderr)) return NO_SPINNER;
  spinning.add(stderr);
  const { default: ora } = await import('ora');
  const width = () => (stderr as { columns?: number }).columns ?? columns;
  let shown = humanLine(text);
  // stdin stays untouched: in raw mode Ctrl-C would no longer reach warren as SIGINT, and
  // keys typed ahead would be swallowed instead of reaching the shell.
  const spinner = ora({
    text: oneRow(shown, columns),
    stream: stderr,
    discardStdin: false,
    color: options.colour ? 'cyan' : false,
  }).start();
  // Node updates a terminal's columns on SIGWINCH, then emits 'resize': the next frame fits.
  const refit = () => {
    spinner.text = oneRow(shown, width());
  };
  stderr.on('resize', refit);
  let stopped = false;
  return {
    active: true,
    update: (next) => {
      if (stopped) return;
      shown = humanLine(next);
      refit();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      stderr.off('resize', refit);
      spinner.stop();
      spinning.delete(stderr);
    },
  };
}
