/** The options every command takes: where the broker is, how to reach it, what to print. */
import type { SelectedProfile } from './config.js';

export interface GlobalOptions {
  urls: string[] | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  /** --api: the management API's URL (else WARREN_API_URL, the profile's, or made from the broker URL). */
  api: string | undefined;
  /** --password-file: where the password is, instead of in the URL. */
  passwordFile: string | undefined;
  insecure: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean | undefined;
  /** --wait-for-broker, in milliseconds. */
  waitForBrokerMs: number | undefined;
  /** The config file's profile in use (--profile, WARREN_PROFILE, or the file's default). */
  profile: SelectedProfile | undefined;
}

/** Global options that say nothing, with some given: the profile commands (and tests) start here. */
export function plainGlobalOptions(overrides: Partial<GlobalOptions> = {}): GlobalOptions {
  return {
    urls: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    api: undefined,
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
