import { type GlobalOptions, plainGlobalOptions } from '../../src/globalOptions.js';

/** The global options of a command line that sets none, with some overridden. */
export function global(overrides: Partial<GlobalOptions> = {}): GlobalOptions {
  return plainGlobalOptions(overrides);
}
