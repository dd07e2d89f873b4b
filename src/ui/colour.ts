import type { ChalkInstance } from 'chalk';

/** The colours warren's output uses; formatters and the reporter get one, never chalk itself. */
export interface Paint {
  readonly enabled: boolean;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const same = (text: string) => text;

/** No colour at all: what a pipe, a file, `--no-color` or NO_COLOR get. */
export const PLAIN: Paint = {
  enabled: false,
  red: same,
  yellow: same,
  green: same,
  blue: same,
  magenta: same,
  cyan: same,
  dim: same,
  bold: same,
};

export function paintFromChalk(chalk: ChalkInstance): Paint {
  if (chalk.level === 0) return PLAIN;
  return {
    enabled: true,
    red: chalk.red,
    yellow: chalk.yellow,
    green: chalk.green,
    blue: chalk.blue,
    magenta: chalk.magenta,
    cyan: chalk.cyan,
    dim: chalk.dim,
    bold: chalk.bold,
  };
}

/**
 * Colour is decided once, after parsing. chalk is loaded only when there is colour to
 * paint: a piped `warren publish` does not pay for it.
 */
export async function paintFor(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined,
): Promise<Paint> {
  const level = colourLevel(stream, env, flag);
  if (level === 0) return PLAIN;
  const { Chalk } = await import('chalk');
  return paintFromChalk(new Chalk({ level }));
}

/**
 * `--no-color` and NO_COLOR switch colour off, FORCE_COLOR switches it on (at its level),
 * otherwise only a terminal gets colour.
 */
export function colourLevel(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined,
): 0 | 1 | 2 | 3 {
  if (flag === false) return 0;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return 0;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    const level = Number(force);
    return level >= 1 && level <= 3 ? (level as 1 | 2 | 3) : 1;
  }
  if (!stream.isTTY || env['TERM'] === 'dumb') return 0;
  return env['COLORTERM'] === 'truecolor' ? 3 : 2;
}
