import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { main } from '../../src/main.js';
import { parseArgs } from '../../src/program.js';
import { type FakeIo, fakeIo } from '../helpers/fakeIo.js';
import { type KnownParse, known } from '../helpers/parsed.js';
import { describeUsageErrors } from '../helpers/usageError.js';

/**
 * describeUsageErrors makes its own fakeIo, whose environment is empty: here every fakeIo
 * gets `shared.env`, an XDG_CONFIG_HOME holding a config file, so that its cases run with
 * a config file present.
 */
const shared = vi.hoisted(() => ({ env: {} as NodeJS.ProcessEnv }));
vi.mock('../helpers/fakeIo.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../helpers/fakeIo.js')>();
  return {
    ...original,
    fakeIo: (options?: Parameters<typeof original.fakeIo>[0]) => {
      const fake = original.fakeIo(options);
      fake.io.env = { ...shared.env };
      return fake;
    },
  };
});

const root = mkdtempSync(join(tmpdir(), 'warren-profile-args-'));
let made = 0;

/** A fresh XDG_CONFIG_HOME holding `config`; returns the environment that points at it. */
function configDir(config: unknown): { env: NodeJS.ProcessEnv; path: string } {
  made += 1;
  const xdg = join(root, `xdg-${made}`);
  mkdirSync(join(xdg, 'warren'), { recursive: true });
  const path = join(xdg, 'warren', 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  chmodSync(path, 0o600);
  return { env: { XDG_CONFIG_HOME: xdg, HOME: join(root, 'home') }, path };
}

const CONFIG = {
  profiles: {
    plain: { url: 'amqp://plain-host' },
    bodies: { url: 'amqp://bodies-host', format: 'body', vhost: 'orders' },
    pretty: { url: 'amqp://pretty-host', format: 'pretty' },
  },
};

let defaultEnv: NodeJS.ProcessEnv;
beforeAll(() => {
  defaultEnv = configDir(CONFIG).env;
  shared.env = defaultEnv;
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function io(options: { tty?: boolean; stdinTty?: boolean; env?: NodeJS.ProcessEnv } = {}): FakeIo {
  const fake = fakeIo(options);
  fake.io.env = { ...(options.env ?? defaultEnv) };
  return fake;
}

async function parse(
  argv: string[],
  options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<KnownParse> {
  const parsed = known(await parseArgs(argv, io(options).io));
  if (!parsed) throw new Error(`nothing parsed from ${argv.join(' ')}`);
  return parsed;
}

/** The output format a parsed command prints messages in. */
function formatOf(parsed: KnownParse): string | undefined {
  switch (parsed.command) {
    case 'consume':
    case 'rpc':
      return parsed.options.format;
    case 'tail':
      return parsed.options.output.format;
    case 'replay':
      return parsed.options.output.format;
    default:
      return undefined;
  }
}

function fullOf(parsed: KnownParse): boolean | undefined {
  switch (parsed.command) {
    case 'consume':
    case 'rpc':
      return parsed.options.full;
    case 'tail':
    case 'replay':
      return parsed.options.output.full;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------

describe('the selected profile travels in the global options', () => {
  it('--profile before the command', async () => {
    const { global } = await parse(['--profile', 'bodies', 'consume', 'q']);
    expect(global.profile).toMatchObject({
      name: 'bodies',
      chosenBy: '--profile',
      settings: { urls: ['amqp://bodies-host'], vhost: 'orders', format: 'body' },
      warnings: [],
    });
    expect(global.urls).toBeUndefined();
  });

  it('--profile after the command', async () => {
    const { global } = await parse(['consume', 'q', '--profile', 'plain']);
    expect(global.profile?.name).toBe('plain');
  });

  it('WARREN_PROFILE', async () => {
    const { global } = await parse(['publish', 'x'], { env: { ...defaultEnv, WARREN_PROFILE: 'pretty' } });
    expect(global.profile).toMatchObject({ name: 'pretty', chosenBy: 'WARREN_PROFILE' });
  });

  it('--profile beats WARREN_PROFILE', async () => {
    const { global } = await parse(['--profile', 'plain', 'publish', 'x'], {
      env: { ...defaultEnv, WARREN_PROFILE: 'pretty' },
    });
    expect(global.profile).toMatchObject({ name: 'plain', chosenBy: '--profile' });
  });

  it('the file\'s "default"', async () => {
    const { env, path } = configDir({ ...CONFIG, default: 'plain' });
    const { global } = await parse(['purge', 'q'], { env });
    expect(global.profile).toMatchObject({ name: 'plain', chosenBy: 'the config file', path });
  });

  it('none when nothing names one', async () => {
    expect((await parse(['consume', 'q'])).global.profile).toBeUndefined();
  });

  it('none, and no error, without a config file', async () => {
    expect((await parse(['consume', 'q'], { env: {} })).global.profile).toBeUndefined();
  });

  it('every command carries it', async () => {
    for (const argv of [
      ['publish', 'x'],
      ['publish', '--rpc', 'x'],
      ['consume', 'q'],
      ['consume', 'q', '--exec', 'cat'],
      ['tail', 'amq.topic'],
      ['replay', 'f'],
      ['declare', 'queue', 'q'],
      ['delete', 'queue', 'q'],
      ['purge', 'q'],
    ]) {
      const parsed = await parse(['--profile', 'plain', ...argv]);
      expect(parsed.global.profile?.name, argv.join(' ')).toBe('plain');
    }
  });
});

describe("the output format: --format, else the profile's, else pretty on a terminal and NDJSON in a pipe", () => {
  const commands: [string, string[]][] = [
    ['consume', ['consume', 'q']],
    ['tail', ['tail', 'amq.topic']],
    ['replay --dry-run', ['replay', 'f', '--dry-run']],
    ['publish --rpc', ['publish', '--rpc', 'x']],
  ];

  it.each(commands)("%s: the profile's format when --format is absent", async (_name, argv) => {
    expect(formatOf(await parse(['--profile', 'bodies', ...argv]))).toBe('body');
    expect(formatOf(await parse(['--profile', 'bodies', ...argv], { tty: true }))).toBe('body');
    expect(formatOf(await parse(['--profile', 'pretty', ...argv]))).toBe('pretty');
  });

  it.each(commands)('%s: --format wins over the profile', async (_name, argv) => {
    expect(formatOf(await parse(['--profile', 'bodies', ...argv, '--format', 'ndjson']))).toBe('ndjson');
    expect(formatOf(await parse(['--profile', 'pretty', ...argv, '--format', 'body'], { tty: true }))).toBe(
      'body',
    );
  });

  it.each(commands)('%s: a profile with no format leaves the terminal rule', async (_name, argv) => {
    expect(formatOf(await parse(['--profile', 'plain', ...argv]))).toBe('ndjson');
    expect(formatOf(await parse(['--profile', 'plain', ...argv], { tty: true }))).toBe('pretty');
  });

  it.each(commands)('%s: no profile leaves the terminal rule', async (_name, argv) => {
    expect(formatOf(await parse(argv))).toBe('ndjson');
    expect(formatOf(await parse(argv, { tty: true }))).toBe('pretty');
  });

  it("ls: the profile's pretty is its table, ndjson its NDJSON; body leaves it to the terminal", async () => {
    const lsFormat = async (argv: string[], tty = false) =>
      ((await parse(argv, { tty })).options as { format?: string }).format;
    expect(await lsFormat(['--profile', 'pretty', 'ls', 'queues'])).toBe('table');
    expect(await lsFormat(['--profile', 'bodies', 'ls', 'queues'], true)).toBeUndefined();
    expect(await lsFormat(['--profile', 'plain', 'ls', 'queues'])).toBe('ndjson');
    expect(await lsFormat(['--profile', 'plain', 'ls', 'queues'], true)).toBe('table');
    expect(await lsFormat(['--profile', 'pretty', 'ls', 'queues', '--format', 'ndjson'], true)).toBe(
      'ndjson',
    );
  });

  it('consume: the format of a "default" profile, with no flag at all', async () => {
    const { env } = configDir({ ...CONFIG, default: 'bodies' });
    expect(formatOf(await parse(['consume', 'q'], { env, tty: true }))).toBe('body');
  });

  it('consume: a --template still wins over the profile format (it is passed on as given)', async () => {
    const parsed = await parse(['--profile', 'bodies', 'consume', 'q', '--template', '{body}']);
    expect(parsed.command === 'consume' && parsed.options.template).toBe('{body}');
  });

  it("a profile's format does not make replay without --dry-run an error", async () => {
    const parsed = await parse(['--profile', 'bodies', 'replay', 'f']);
    expect(parsed.command).toBe('replay');
  });
});

describe('--full reaches the commands that print messages', () => {
  it.each([
    ['consume', ['consume', 'q']],
    ['tail', ['tail', 'amq.topic']],
    ['replay --dry-run', ['replay', 'f', '--dry-run']],
    ['publish --rpc', ['publish', '--rpc', 'x']],
  ])('%s', async (_name, argv) => {
    expect(fullOf(await parse([...argv, '--full']))).toBe(true);
    expect(fullOf(await parse(argv))).toBe(false);
  });

  it('publish --full --rpc is the rpc command with full', async () => {
    const parsed = await parse(['publish', '--full', '--rpc', 'x']);
    expect(parsed.command).toBe('rpc');
    expect(fullOf(parsed)).toBe(true);
  });
});

describe('a profile that is not there', () => {
  it('--profile nope: a UsageError naming it and the file, the hint listing the profiles there', async () => {
    const { path } = configDir(CONFIG);
    const env = { XDG_CONFIG_HOME: join(path, '..', '..') };
    const error = await parseArgs(['--profile', 'nope', 'consume', 'q'], io({ env }).io).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`no profile 'nope' in ${path}`);
    expect((error as UsageError).hint).toContain('plain, bodies, pretty');
  });

  it('--profile with no config file: a UsageError naming where it was looked for', async () => {
    const env = { XDG_CONFIG_HOME: join(root, 'empty') };
    const error = await parseArgs(['--profile', 'prod', 'consume', 'q'], io({ env }).io).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(join(root, 'empty', 'warren', 'config.json'));
  });
});

describeUsageErrors('flags that go only with other flags', [
  {
    name: 'replay f --format ndjson without --dry-run',
    argv: ['replay', 'f', '--format', 'ndjson'],
    mentions: /--format goes with --dry-run/,
  },
  {
    name: 'replay f --template without --dry-run',
    argv: ['replay', 'f', '--template', '{body}'],
    mentions: /--template goes with --dry-run/,
  },
  {
    name: 'replay f --full without --dry-run',
    argv: ['replay', 'f', '--full'],
    mentions: /--full goes with --dry-run/,
  },
  {
    name: 'publish --full x without --rpc',
    argv: ['publish', '--full', 'x'],
    mentions: /--full goes with --rpc/,
  },
  {
    name: 'consume q --exec cat --full',
    argv: ['consume', 'q', '--exec', 'cat', '--full'],
    mentions: /--full does not go with --exec/,
  },
]);

// Not describeUsageErrors: its second line must point at --help, and this error's hint
// lists the profiles the file has instead (as the README says it does).
describe('a profile the config file does not have, through main', () => {
  it.each([
    ['--profile nope consume q', ['--profile', 'nope', 'consume', 'q']],
    ['consume q --profile nope', ['consume', 'q', '--profile', 'nope']],
  ])(
    '%s → exit 2, one error line naming it and the file, a hint listing the profiles',
    async (_name, argv) => {
      const fake = io();
      const code = await main(argv, fake.io);
      await new Promise((resolve) => setImmediate(resolve));
      expect(code).toBe(2);
      expect(fake.stdout()).toBe('');
      const lines = fake.stderr().trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(
        `error: no profile 'nope' in ${join(defaultEnv['XDG_CONFIG_HOME'] ?? '', 'warren', 'config.json')}`,
      );
      expect(lines[1]).toBe('  profiles there: plain, bodies, pretty');
    },
  );
});
