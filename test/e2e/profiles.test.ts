import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { ndjson, type RunOptions, runWarren } from '../helpers/cli.js';

/** A port nothing listens on. */
const CLOSED_URL = 'amqp://guest:cl0sedPw@127.0.0.1:1/';
const CLOSED_MASKED = 'amqp://guest:***@127.0.0.1:1/';

let broker: TestBroker;
const root = mkdtempSync(join(tmpdir(), 'warren-profiles-e2e-'));
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
  rmSync(root, { recursive: true, force: true });
});

let made = 0;

interface ConfigDir {
  xdg: string;
  path: string;
  /** What runWarren needs: this XDG_CONFIG_HOME, and no URL or profile from the environment. */
  env: Record<string, string | undefined>;
}

/** A fresh XDG_CONFIG_HOME holding a config file (JSON, or text as it is) at `mode`. */
function configDir(config: unknown, mode = 0o600): ConfigDir {
  made += 1;
  const xdg = join(root, `xdg-${made}`);
  mkdirSync(join(xdg, 'warren'), { recursive: true });
  const path = join(xdg, 'warren', 'config.json');
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  chmodSync(path, mode);
  return {
    xdg,
    path,
    // testEnv sets WARREN_URL to the test broker: undefined removes it (and the others).
    env: { XDG_CONFIG_HOME: xdg, WARREN_URL: undefined, AMQP_URL: undefined, WARREN_PROFILE: undefined },
  };
}

function warren(dir: ConfigDir, args: string[], options: RunOptions = {}) {
  return runWarren(args, { ...options, env: { ...dir.env, ...options.env } });
}

const PROFILES = {
  bad: { url: CLOSED_URL },
  good: { url: BROKER_URL },
};

// ---------------------------------------------------------------------------------------

describe('--profile picks the broker', () => {
  it('a profile whose URL is a closed port: exit 69 naming that URL, password masked', async () => {
    const dir = configDir({ profiles: PROFILES });
    const queue = await broker.queue('profile-bad');
    const result = await warren(dir, ['--profile', 'bad', 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(CLOSED_MASKED);
    expect(result.stderr).not.toContain('cl0sedPw');
    expect(result.stdout.length).toBe(0);
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('a profile pointing at the broker: publish, then consume the message', async () => {
    const dir = configDir({ profiles: PROFILES });
    const queue = await broker.queue('profile-good');
    const published = await warren(dir, ['--profile', 'good', 'publish', '-k', queue, '{"id":7}']);
    expect(published.code).toBe(0);
    expect(published.stderr).toMatch(/published 1, confirmed 1/);
    const consumed = await warren(dir, ['consume', queue, '--count', '1', '--profile', 'good']);
    expect(consumed.code).toBe(0);
    expect(ndjson(consumed.stdout)).toMatchObject([{ routingKey: queue, body: '{"id":7}' }]);
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('WARREN_PROFILE picks it as --profile does', async () => {
    const dir = configDir({ profiles: PROFILES });
    const result = await warren(dir, ['publish', '-k', 'nowhere', 'x'], { env: { WARREN_PROFILE: 'bad' } });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(CLOSED_MASKED);
  });

  it("the profile's vhost goes on its URL", async () => {
    const dir = configDir({
      profiles: { vh: { url: BROKER_URL.replace(/\/$/, ''), vhost: 'warren-test-no-such-vhost' } },
    });
    const result = await warren(dir, ['--profile', 'vh', 'publish', '-k', 'nowhere', 'x']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/127\.0\.0\.1:5672\/warren-test-no-such-vhost/);
  });
});

describe('flag > environment > profile', () => {
  it('WARREN_URL wins over --profile bad, and a warning says so', async () => {
    const dir = configDir({ profiles: PROFILES });
    const queue = await broker.queue('profile-env-wins');
    const result = await warren(dir, ['--profile', 'bad', 'publish', '-k', queue, 'x'], {
      env: { WARREN_URL: BROKER_URL },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: WARREN_URL is set and wins over the url of profile 'bad'/);
    expect(result.stderr).not.toContain('127.0.0.1:1/');
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('AMQP_URL wins over --profile bad too, and says so', async () => {
    const dir = configDir({ profiles: PROFILES });
    const queue = await broker.queue('profile-amqp-url-wins');
    const result = await warren(dir, ['--profile', 'bad', 'publish', '-k', queue, 'x'], {
      env: { AMQP_URL: BROKER_URL },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/AMQP_URL is set and wins over the url of profile 'bad'/);
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('--url wins over --profile bad, with no warning', async () => {
    const dir = configDir({ profiles: PROFILES });
    const queue = await broker.queue('profile-flag-wins');
    const result = await warren(dir, ['--profile', 'bad', '--url', BROKER_URL, 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
    expect(await broker.messageCount(queue)).toBe(1);
  });
});

describe('a "default" profile', () => {
  it('is used without any flag (a closed port: exit 69 naming it)', async () => {
    const dir = configDir({ default: 'bad', profiles: PROFILES });
    const result = await warren(dir, ['publish', '-k', 'nowhere', 'x']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(CLOSED_MASKED);
  });

  it('is used without any flag (the broker: works), and --verbose says where it came from', async () => {
    const dir = configDir({ default: 'good', profiles: PROFILES });
    const queue = await broker.queue('profile-default');
    const result = await warren(dir, ['-v', 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`profile 'good' from ${dir.path} (chosen by the config file)`);
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('--profile overrides it', async () => {
    const dir = configDir({ default: 'bad', profiles: PROFILES });
    const queue = await broker.queue('profile-default-overridden');
    const result = await warren(dir, ['--profile', 'good', 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(0);
    expect(await broker.messageCount(queue)).toBe(1);
  });
});

describe('a profile "format"', () => {
  it('"body": consume in a pipe prints the raw bodies', async () => {
    const dir = configDir({ profiles: { raw: { url: BROKER_URL, format: 'body' } } });
    const queue = await broker.queue('profile-format-body');
    await broker.publish('', queue, 'hello');
    await broker.publish('', queue, '{"id":1}');
    const result = await warren(dir, ['--profile', 'raw', 'consume', queue, '--count', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('hello\n{"id":1}\n');
  });

  it('--format wins over it', async () => {
    const dir = configDir({ profiles: { raw: { url: BROKER_URL, format: 'body' } } });
    const queue = await broker.queue('profile-format-flag');
    await broker.publish('', queue, 'hello');
    const result = await warren(dir, [
      '--profile',
      'raw',
      'consume',
      queue,
      '--count',
      '1',
      '--format',
      'ndjson',
    ]);
    expect(result.code).toBe(0);
    expect(ndjson(result.stdout)).toMatchObject([{ body: 'hello' }]);
  });
});

describe('a malformed config file', () => {
  const LINE_4 = [
    '{',
    '  "profiles": {',
    `    "good": { "url": "${BROKER_URL}" }`,
    '    "bad": {}',
    '  }',
    '}',
  ].join('\n');

  it.each([
    ['publish', ['publish', '-k', 'q', 'x']],
    ['consume', ['consume', 'q']],
    ['tail', ['tail', 'amq.topic']],
    ['purge', ['purge', 'q']],
    ['declare', ['declare', 'queue', 'q']],
    ['replay', ['replay', '--from-queue', 'q']],
  ])('%s: exit 2, one error line naming the file and the line and column', async (_name, args) => {
    const dir = configDir(LINE_4);
    const result = await warren(dir, args, { timeoutMs: 15_000 });
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBe(0);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: config file /);
    expect(lines[0]).toContain(dir.path);
    expect(lines[0]).toContain('line 4, column 5');
    expect(lines.length).toBeLessThanOrEqual(2);
  });

  // The two below fail: JSON.parse gives no position for `Unexpected token` (see the report).
  it('an unquoted URL: one error line with the line and column', async () => {
    const dir = configDir(
      ['{', '  "profiles": {', '    "prod": { "url": amqp://h/ }', '  }', '}'].join('\n'),
    );
    const result = await warren(dir, ['publish', '-k', 'q', 'x']);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toContain(dir.path);
    expect(lines[0]).toContain('line 3, column 22');
    expect(lines.length).toBeLessThanOrEqual(2);
  });

  it('bad JSON next to a URL does not print its password', async () => {
    const dir = configDir('{"profiles": {"prod": {"urls": ["amqp://u:Pw7@h", amqp://v]}}}');
    const result = await warren(dir, ['publish', '-k', 'q', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(dir.path);
    expect(result.stderr).not.toContain('Pw7');
  });

  it('a setting that is not known: exit 2 naming it', async () => {
    const dir = configDir({ profiles: { good: { url: BROKER_URL, formt: 'body' } } });
    const result = await warren(dir, ['consume', 'q']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('profiles.good.formt: unknown setting');
  });
});

describe('a config file that is not a file', () => {
  /** An XDG_CONFIG_HOME whose config.json is made by `make` (a FIFO, a symlink…). */
  function configAs(make: (path: string) => void): ConfigDir {
    const dir = configDir({});
    rmSync(dir.path);
    make(dir.path);
    return dir;
  }

  it.each([
    ['a FIFO (nothing ever writes to it)', (path: string) => execFileSync('mkfifo', [path])],
    ['a symlink to /dev/zero', (path: string) => symlinkSync('/dev/zero', path)],
    ['a folder', (path: string) => mkdirSync(path)],
  ])('%s: exit 2 at once, naming it, for every command', async (_name, make) => {
    const dir = configAs(make);
    for (const args of [
      ['purge', 'q'],
      ['profile', 'list'],
    ]) {
      const result = await warren(dir, args, { timeoutMs: 15_000 });
      expect(result.code, result.stderr).toBe(2);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^error: config file/);
      expect(lines[0]).toContain(dir.path);
      expect(lines.length).toBeLessThanOrEqual(2);
    }
  });

  it('over 1 MiB: exit 2 naming it, as for a password file', async () => {
    const dir = configDir(`{"profiles": {}}${' '.repeat(1024 * 1024)}`);
    const result = await warren(dir, ['purge', 'q']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^error: config file.*over 1 MiB/);
  });

  it('a symlink to a config file is read as the file', async () => {
    const real = configDir({ profiles: { good: { url: BROKER_URL } }, default: 'good' });
    const dir = configAs((path) => symlinkSync(real.path, path));
    const result = await warren(dir, ['declare', 'queue', '', '--exclusive']);
    expect(result.code, result.stderr).toBe(0);
  });
});

describe('a config file holding a password', () => {
  it('at mode 0644 warns, naming chmod 600', async () => {
    const dir = configDir({ profiles: PROFILES }, 0o644);
    const queue = await broker.queue('profile-perm-644');
    const result = await warren(dir, ['--profile', 'good', 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`warning: ${dir.path} holds a password and others can read it`);
    expect(result.stderr).toContain(`chmod 600 ${dir.path}`);
  });

  it('at mode 0600 does not', async () => {
    const dir = configDir({ profiles: PROFILES }, 0o600);
    const queue = await broker.queue('profile-perm-600');
    const result = await warren(dir, ['--profile', 'good', 'publish', '-k', queue, 'x']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/password|chmod/);
  });
});

describe('warren --help', () => {
  it('prints the config file path under XDG_CONFIG_HOME', async () => {
    const dir = configDir({ profiles: PROFILES });
    const result = await warren(dir, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain(`Profiles: ${dir.path}`);
  });

  it('prints the path under HOME/.config without XDG_CONFIG_HOME', async () => {
    const home = join(root, 'home');
    const result = await runWarren(['--help'], { env: { XDG_CONFIG_HOME: undefined, HOME: home } });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain(`Profiles: ${join(home, '.config', 'warren', 'config.json')}`);
  });
});
