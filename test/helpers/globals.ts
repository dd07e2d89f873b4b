import type { GlobalOptions } from '../../src/cli.js';

/** The global options of a command line that sets none, with some overridden. */
export function global(overrides: Partial<GlobalOptions> = {}): GlobalOptions {
  return {
    urls: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    passwordFile: undefined,
    insecure: false,
    quiet: false,
    verbose: false,
    color: undefined,
    waitForBrokerMs: undefined,
    profile: undefined,
    ...overrides,
  };
}
