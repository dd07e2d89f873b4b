/** A status line on stderr: only on a terminal, never mixed into data, gone when stopped. */
export interface Spinner {
  /** False when there is no terminal to show it on: callers need not compute updates. */
  readonly active: boolean;
  update(text: string): void;
  stop(): void;
}

const NO_SPINNER: Spinner = { active: false, update: () => {}, stop: () => {} };

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
  if (!options.enabled || !stderr.isTTY || columns <= 0) return NO_SPINNER;
  const { default: ora } = await import('ora');
  // stdin stays untouched: in raw mode Ctrl-C would no longer reach warren as SIGINT.
  const spinner = ora({
    text,
    stream: stderr,
    discardStdin: false,
    color: options.colour ? 'cyan' : false,
  }).start();
  let stopped = false;
  return {
    active: true,
    update: (next) => {
      if (!stopped) spinner.text = next;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      spinner.stop();
    },
  };
}
