export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Calls `onStop` at the first SIGINT or SIGTERM so the command can shut down cleanly.
 * A second signal means the person does not want to wait: `onQuit` runs, then the default
 * action.
 * Returns a function that removes the handlers.
 */
export function watchStopSignals(
  onStop: (signal: StopSignal) => void,
  /** Runs at the second signal, just before warren goes: what must not outlive it. */
  onQuit?: () => void,
): () => void {
  let stopping = false;
  const handler = (signal: StopSignal) => {
    if (stopping) {
      onQuit?.();
      dispose();
      process.kill(process.pid, signal);
      return;
    }
    stopping = true;
    onStop(signal);
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const dispose = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  return dispose;
}
