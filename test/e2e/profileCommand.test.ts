/**
 * `warren profile list|add|remove`: the config file written for the user, readable by its
 * owner only, and read back by every other command.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { runWarren } from '../helpers/cli.js';
import { hasStackTrace, runShell } from '../helpers/spawn.js';

let broker: TestBroker;
const root = mkdtempSync(join(tmpdir(), 'warren-profile-command-'));
let made = 0;

beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh, empty XDG_CONFIG_HOME, and the environment that points warren at it. */
function freshHome() {
  made += 1;
  const xdg = join(root, `xdg-${made}`);
  mkdirSync(xdg);
  return {
    xdg,
    path: join(xdg, 'warren', 'config.json'),
    env: { XDG_CONFIG_HOME: xdg, WARREN_URL: undefined, AMQP_URL: undefined, WARREN_PROFILE: undefined },
  };
}

const config = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('warren profile', () => {
  it('add creates the config file 0600 in a 0700 folder (whatever the umask), and it works', async () => {
    const home = freshHome();
    const script = `umask 000; node bin/warren.js profile add local --url '${BROKER_URL}' --default`;
    const added = await runShell(script, { env: home.env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toMatch(/profile 'local' saved in .*config\.json \(the default\)/);
    expect(statSync(home.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.xdg, 'warren')).mode & 0o777).toBe(0o700);
    expect(config(home.path)).toEqual({ profiles: { local: { url: BROKER_URL } }, default: 'local' });

    // The default profile is used with no URL given anywhere.
    const queue = await broker.queue('profile-cmd');
    const published = await runWarren(['publish', '-k', queue, 'via the saved profile'], { env: home.env });
    expect(published.code, published.stderr).toBe(0);
    const [message] = await broker.drain(queue);
    expect(message?.content.toString()).toBe('via the saved profile');
  });

  it('rewriting a file others could read leaves it 0600, and keeps the other profiles and the default', async () => {
    const home = freshHome();
    mkdirSync(join(home.xdg, 'warren'));
    writeFileSync(home.path, JSON.stringify({ default: 'a', profiles: { a: { url: 'amqp://a:pw-a@h/' } } }));
    chmodSync(home.path, 0o644);
    const added = await runWarren(['profile', 'add', 'b', '--url', 'amqp://b@h/', '--vhost', 'orders'], {
      env: home.env,
    });
    expect(added.code, added.stderr).toBe(0);
    expect(statSync(home.path).mode & 0o777).toBe(0o600);
    expect(config(home.path)).toEqual({
      default: 'a',
      profiles: { a: { url: 'amqp://a:pw-a@h/' }, b: { url: 'amqp://b@h/', vhost: 'orders' } },
    });
  });

  it('saves the TLS files and the password file as absolute paths, and --insecure, --format', async () => {
    const home = freshHome();
    const added = await runShell(
      `cd '${root}' && node '${process.cwd()}/bin/warren.js' profile add tls --url amqps://u@h:5671 --url amqps://u@h2:5671 ` +
        "--ca ca.pem --cert '~/client.pem' --key /k.pem --password-file pw.txt --insecure --format ndjson",
      { env: home.env },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(config(home.path)).toEqual({
      profiles: {
        tls: {
          urls: ['amqps://u@h:5671', 'amqps://u@h2:5671'],
          ca: join(root, 'ca.pem'),
          cert: '~/client.pem',
          key: '/k.pem',
          passwordFile: join(root, 'pw.txt'),
          insecure: true,
          format: 'ndjson',
        },
      },
    });
  });

  it('list shows each profile with its URLs, passwords masked, the default starred; --json too', async () => {
    const home = freshHome();
    for (const args of [
      ['profile', 'add', 'prod', '--url', 'amqps://app:Sup3r-s3cret@rabbit:5671/'],
      ['profile', 'add', 'local', '--url', BROKER_URL, '--default'],
    ]) {
      const run = await runWarren(args, { env: home.env });
      expect(run.code, run.stderr).toBe(0);
    }
    const listed = await runWarren(['profile', 'list'], { env: home.env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.toString()).toBe(
      `  prod   amqps://app:***@rabbit:5671/\n* local  ${BROKER_URL.replace(':guest@', ':***@')}\n`,
    );
    expect(listed.stderr).toMatch(/from .*config\.json \(\* the default\)/);
    const json = await runWarren(['profile', 'list', '--json'], { env: home.env });
    const shown = JSON.parse(json.stdout.toString()) as { name: string; default: boolean; urls: string[] }[];
    expect(shown.map((p) => [p.name, p.default, p.urls])).toEqual([
      ['prod', false, ['amqps://app:***@rabbit:5671/']],
      ['local', true, [BROKER_URL.replace(':guest@', ':***@')]],
    ]);
    expect(`${listed.stdout}${listed.stderr}${json.stdout}`).not.toContain('Sup3r-s3cret');
  });

  it('list without a config file says so (exit 0, nothing on stdout)', async () => {
    const home = freshHome();
    const listed = await runWarren(['profile', 'list'], { env: home.env });
    expect(listed.code).toBe(0);
    expect(listed.stdout.toString()).toBe('');
    expect(listed.stderr).toMatch(
      /no profiles in .*config\.json: add one with 'warren profile add NAME --url URL'/,
    );
  });

  it('remove takes a profile out, and the default with it', async () => {
    const home = freshHome();
    await runWarren(['profile', 'add', 'a', '--url', 'amqp://h/', '--default'], { env: home.env });
    await runWarren(['profile', 'add', 'b', '--url', 'amqp://h2/'], { env: home.env });
    const removed = await runWarren(['profile', 'remove', 'a'], { env: home.env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stderr).toMatch(/profile 'a' removed from/);
    expect(config(home.path)).toEqual({ profiles: { b: { url: 'amqp://h2/' } } });
    expect(statSync(home.path).mode & 0o777).toBe(0o600);
  });

  describe('refusals: exit 2, one error, the file unchanged', () => {
    const refusals: { name: string; setUp?: string; args: string[]; stderr: RegExp }[] = [
      {
        name: 'adding a name that exists, without --force',
        setUp: JSON.stringify({ profiles: { a: { url: 'amqp://h/' } } }),
        args: ['profile', 'add', 'a', '--url', 'amqp://other/'],
        stderr: /profile 'a' is already in .*config\.json/,
      },
      {
        name: 'a malformed config file (not rewritten)',
        setUp: '{ "profiles": { "a": ',
        args: ['profile', 'add', 'b', '--url', 'amqp://h/'],
        stderr: /config\.json: not valid JSON at line 1/,
      },
      {
        name: 'a profile that says nothing',
        args: ['profile', 'add', 'empty'],
        stderr: /profile 'empty' would say nothing: give --url/,
      },
      {
        name: 'a URL that is not one',
        args: ['profile', 'add', 'x', '--url', 'http://h/'],
        stderr: /--url: 'http:\/\/h\/' must start with amqp:\/\/ or amqps:\/\//,
      },
      {
        name: 'removing a profile that is not there',
        setUp: JSON.stringify({ profiles: { a: { url: 'amqp://h/' } } }),
        args: ['profile', 'remove', 'nope'],
        stderr: /no profile 'nope' in .*config\.json/,
      },
      { name: 'no action', args: ['profile'], stderr: /say what to do: list, add NAME or remove NAME/ },
      {
        name: 'a mistyped action',
        args: ['profile', 'ad', 'x'],
        stderr: /profile: 'ad' is not one of list, add, remove/,
      },
    ];
    it.each(refusals)('$name', async ({ setUp, args, stderr }) => {
      const home = freshHome();
      if (setUp !== undefined) {
        mkdirSync(join(home.xdg, 'warren'));
        writeFileSync(home.path, setUp);
      }
      const run = await runWarren(args, { env: home.env });
      expect(run.code, run.stderr).toBe(2);
      expect(hasStackTrace(run.stderr)).toBe(false);
      expect(run.stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(1);
      expect(run.stderr).toMatch(stderr);
      if (setUp === undefined) expect(() => statSync(home.path)).toThrow();
      else expect(readFileSync(home.path, 'utf8')).toBe(setUp);
    });
  });
});
