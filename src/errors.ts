/** Exit codes of the product contract (SPEC "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  timeout: 3,
  notDelivered: 4,
  refused: 5,
  badData: 65,
  unreachable: 69,
  sigint: 130,
  sigterm: 143,
} as const;

/** An error that knows the exit code it ends warren with. */
export class WarrenError extends Error {
  readonly exitCode: number;
  /** A follow-up line for the person (what to try); printed after the message. */
  readonly hint: string | undefined;

  constructor(message: string, exitCode: number, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** Where a usage error points unless it says better; the CLI names the command's help. */
export const DEFAULT_USAGE_HINT = "see 'warren --help'";

export class UsageError extends WarrenError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, ExitCode.usage, { hint: DEFAULT_USAGE_HINT, ...options });
  }
}

export class TimeoutError extends WarrenError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, ExitCode.timeout, options);
  }
}

export class NotDeliveredError extends WarrenError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, ExitCode.notDelivered, options);
  }
}

/** The broker said no: 403, 404, 406 and their kin. */
export class BrokerRefusedError extends WarrenError {
  /** The broker's own words (`PRECONDITION_FAILED - inequivalent arg …`), when it gave some. */
  readonly brokerText: string | undefined;

  constructor(message: string, options: { cause?: unknown; hint?: string; brokerText?: string } = {}) {
    super(message, ExitCode.refused, options);
    this.brokerText = options.brokerText;
  }
}

/** Malformed input data; the message names the line. */
export class DataError extends WarrenError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, ExitCode.badData, options);
  }
}

export class UnreachableError extends WarrenError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, ExitCode.unreachable, options);
  }
}

/** Stopped by a signal after a clean shutdown; carries 130 or 143 and prints nothing. */
export class InterruptedError extends WarrenError {
  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super(`stopped by ${signal}`, signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm);
  }
}
