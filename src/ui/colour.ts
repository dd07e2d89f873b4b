import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour is decided once, after parsing: `--no-color` and NO_COLOR switch it off,
 * FORCE_COLOR switches it on (at its level), otherwise only a terminal gets colour.
 */
export function colourFor(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined,
): ChalkInstance {
  return new Chalk({ level: colourLevel(stream, env, flag) });
}

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
