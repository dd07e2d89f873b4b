import type { CommandContext } from '../commands/context.js';

/** What the status line shows: how many arrived; cleared before pretty output fills the screen. */
export interface ConsumeProgress {
  taken: number;
  received(): void;
  stop(): void;
}

export async function consumeProgress(
  label: string,
  context: CommandContext,
  noun = 'message',
): Promise<ConsumeProgress> {
  const spinner = await context.spinner(`waiting for ${noun}s on ${label}…`);
  // Records going to the same terminal would run into the status line: it gives way to them.
  const sharesTerminal = context.io.stdout.isTTY === true;
  const progress: ConsumeProgress = {
    taken: 0,
    received: () => {
      progress.taken += 1;
      if (sharesTerminal) progress.stop();
    },
    stop: () => {
      clearInterval(ticker);
      spinner.stop();
    },
  };
  const ticker = spinner.active
    ? setInterval(() => {
        if (progress.taken > 0)
          spinner.update(`waiting for ${noun}s on ${label} (${progress.taken} received)`);
      }, 100)
    : undefined;
  return progress;
}
