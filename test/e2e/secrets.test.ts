/**
 * warren never shows a password: not in an error, not with --verbose, not in the process
 * list, whichever way the password was given (--url, WARREN_URL, AMQP_URL,
 * --password-file, WARREN_PASSWORD, a profile's passwordFile). A broker user of our own
 * with a distinctive password (with characters that URL-encoding changes) makes every
 * leak greppable, raw or encoded.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker } from '../helpers/broker.js';
import { collect, ndjson, type RunResult, runWarren, startWarren, WARREN_BIN } from '../helpers/cli.js';
import { hasStackTrace, runShell } from '../helpers/spawn.js';

const exec = promisify(execFile);

const USER = `warren-secret-${randomBytes(4).toString('hex')}`;
const HEX = randomBytes(12).toString('hex');
const PASSWORD = `Pw-${HEX}/a@b c%d+e&f=g`;
const WRONG_HEX = randomBytes(12).toString('hex');
const WRONG = `Wrong-${WRONG_HEX}/x@y z%w`;

/** The password as the URL setter writes it (a different encoding from encodeURIComponent's). */
function userinfoForm(secret: string): string {
  const url = new URL('amqp://u@h/');
  url.password = secret;
  return url.password;
}

/** Every way a password could show: raw, URL-encoded (two ways), and its random core. */
const LEAKS = [PASSWORD, WRONG].flatMap((secret) => [
  secret,
  encodeURIComponent(secret),
  userinfoForm(secret),
]);
const CORES = [HEX, WRONG_HEX];

function expectNoSecret(text: string, where: string): void {
  for (const leak of [...LEAKS, ...CORES]) {
    expect(text.includes(leak), `${where} shows the password (as '${leak}'):\n${text}`).toBe(false);
  }
}

function expectNoSecretIn(result: RunResult, where: string): void {
  expectNoSecret(result.stdout.toString('utf8'), `stdout of ${where}`);
  expectNoSecret(result.stderr, `stderr of ${where}`);
}

let broker: TestBroker;
let dir: string;
/** An empty config home: no profile of the machine's user gets in. */
let noConfig: string;
const queues = { nonEmpty: '', empty: '', rpc: '', sink: '' };

beforeAll(async () => {
  await exec('rabbitmqctl', ['add_user', USER, PASSWORD]);
  await exec('rabbitmqctl', ['set_permissions', '-p', '/', USER, '.*', '.*', '.*']);
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-secrets-'));
  noConfig = join(dir, 'no-config');
  mkdirSync(noConfig);
  queues.nonEmpty = await broker.queue('secret-nonempty');
  await broker.publish('', queues.nonEmpty, 'keep me');
  queues.empty = await broker.queue('secret-empty');
  queues.rpc = await broker.queue('secret-rpc');
  queues.sink = await broker.queue('secret-sink');
}, 60_000);

afterAll(async () => {
  await broker?.cleanup();
  await exec('rabbitmqctl', ['delete_user', USER]).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// How a run gets its URL and password.

interface Target {
  scheme?: 'amqp' | 'amqps';
  /** host:port, one per cluster node. */
  hosts?: string[];
  /** The URL path: '/' for the default vhost. */
  path?: string;
}

function urls(target: Target, password: string | undefined): string {
  const userinfo = password === undefined ? USER : `${USER}:${encodeURIComponent(password)}`;
  return (target.hosts ?? ['127.0.0.1:5672'])
    .map((host) => `${target.scheme ?? 'amqp'}://${userinfo}@${host}${target.path ?? '/'}`)
    .join(',');
}

let files = 0;
function fileHolding(text: string): string {
  files += 1;
  const path = join(dir, `file-${files}.txt`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** A config home whose default profile `p` has these settings (the file at 0600). */
function profileHome(profile: Record<string, unknown>, extraFiles: Record<string, string> = {}): string {
  files += 1;
  const home = join(dir, `config-${files}`);
  mkdirSync(join(home, 'warren'), { recursive: true });
  const path = join(home, 'warren', 'config.json');
  writeFileSync(path, JSON.stringify({ profiles: { p: profile }, default: 'p' }));
  chmodSync(path, 0o600);
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(home, 'warren', name), text);
  return home;
}

const CHANNELS = [
  '--url',
  'WARREN_URL',
  'AMQP_URL',
  '--password-file',
  'WARREN_PASSWORD',
  'profile',
] as const;
type Channel = (typeof CHANNELS)[number];

interface Credentials {
  args: string[];
  env: Record<string, string | undefined>;
}

const BASE_ENV = { WARREN_URL: undefined, AMQP_URL: undefined, WARREN_PASSWORD: undefined };

function credentials(channel: Channel, target: Target, password: string): Credentials {
  const env = { ...BASE_ENV, XDG_CONFIG_HOME: noConfig };
  switch (channel) {
    case '--url':
      return { args: ['--url', urls(target, password)], env };
    case 'WARREN_URL':
      return { args: [], env: { ...env, WARREN_URL: urls(target, password) } };
    case 'AMQP_URL':
      return { args: [], env: { ...env, AMQP_URL: urls(target, password) } };
    case '--password-file':
      return {
        args: ['--url', urls(target, undefined), '--password-file', fileHolding(`${password}\n`)],
        env,
      };
    case 'WARREN_PASSWORD':
      return { args: ['--url', urls(target, undefined)], env: { ...env, WARREN_PASSWORD: password } };
    case 'profile': {
      const home = profileHome(
        { urls: urls(target, undefined).split(','), passwordFile: 'pw.txt' },
        { 'pw.txt': `${password}\n` },
      );
      return { args: [], env: { ...env, XDG_CONFIG_HOME: home } };
    }
  }
}

// ---------------------------------------------------------------------------------------
// The error paths.

interface Scenario {
  name: string;
  target?: Target;
  /** The password given; the right one unless said. */
  password?: string;
  /** Global flags beside the credentials. */
  global?: string[];
  command: () => string[];
  stdin?: string;
  code: number;
  /** Consume a queue of its own, then SIGINT once the consumer is there. */
  interrupt?: boolean;
  /** The error names the broker URL: it must be there, with `***` for the password. */
  namesUrl?: boolean;
}

const DEAD = '127.0.0.1:1';
const publishTo = (exchange: string, key: string) => ['publish', '-e', exchange, '-k', key, 'hello'];
const missing = (what: string) => `warren-test.no-such-${what}.${process.pid}.${HEX.slice(0, 6)}`;

const SCENARIOS: Scenario[] = [
  {
    name: 'a wrong password',
    password: WRONG,
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  {
    name: 'an unknown vhost',
    target: { path: `/no-such-vhost-${process.pid}` },
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  {
    name: 'a host that does not resolve',
    target: { hosts: ['no-such-host.invalid:5672'] },
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  {
    name: 'a closed port',
    target: { hosts: [DEAD] },
    command: () => ['consume', 'q'],
    code: 69,
    namesUrl: true,
  },
  {
    name: 'a URL list of two dead nodes',
    target: { hosts: [DEAD, '127.0.0.1:2'] },
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  {
    name: 'amqps:// to the plain port, --insecure',
    target: { scheme: 'amqps' },
    global: ['--insecure'],
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  {
    name: '--wait-for-broker to a dead port',
    target: { hosts: [DEAD] },
    global: ['--wait-for-broker', '1s'],
    command: () => publishTo('amq.direct', 'x'),
    code: 69,
    namesUrl: true,
  },
  { name: 'a non-existent exchange', command: () => publishTo(missing('exchange'), 'x'), code: 5 },
  { name: 'a non-existent queue', command: () => ['consume', missing('queue'), '--timeout', '2s'], code: 5 },
  { name: 'tail of a non-existent exchange', command: () => ['tail', missing('exchange')], code: 5 },
  { name: 'purge of a non-existent queue', command: () => ['purge', missing('queue')], code: 5 },
  // The user has no management tag: the management API refuses its login (401).
  { name: 'export, the API refusing the login', command: () => ['export'], code: 5 },
  {
    name: 'replay --from-queue of a missing queue',
    command: () => ['replay', '--from-queue', missing('queue')],
    code: 5,
  },
  {
    name: 'declare queue with an inequivalent argument',
    // The queue exists non-durable; declare asks for durable (the default).
    command: () => ['declare', 'queue', queues.nonEmpty],
    code: 5,
  },
  {
    name: 'delete queue --if-empty on a non-empty queue',
    command: () => ['delete', 'queue', queues.nonEmpty, '--if-empty'],
    code: 5,
  },
  {
    name: 'access refused (a reserved amq.* name)',
    command: () => ['declare', 'exchange', `amq.warren-test-${HEX.slice(0, 6)}`, '--type', 'topic'],
    code: 5,
  },
  { name: 'an unknown flag after the URL', command: () => ['consume', queues.empty, '--bogus'], code: 2 },
  { name: 'a bad value after the URL', command: () => ['consume', queues.empty, '--count', 'many'], code: 2 },
  {
    name: 'a URL with a port out of range',
    target: { hosts: ['127.0.0.1:99999'] },
    command: () => publishTo('amq.direct', 'x'),
    code: 2,
  },
  {
    name: 'a missing --ca file',
    global: ['--ca', join(tmpdir(), 'no-such-ca.pem')],
    command: () => publishTo('amq.direct', 'x'),
    code: 2,
  },
  {
    name: 'a malformed NDJSON line',
    command: () => ['publish', '--input', 'ndjson', '-e', '', '-k', queues.sink],
    stdin: '{"body":"fine"}\n{"body": not json\n',
    code: 65,
  },
  {
    name: 'a returned message',
    command: () => publishTo('amq.direct', `nowhere-${HEX.slice(0, 6)}`),
    code: 4,
  },
  {
    name: 'consume --timeout before --count',
    command: () => ['consume', queues.empty, '--count', '1', '--timeout', '300ms'],
    code: 3,
  },
  {
    name: 'publish --rpc timing out',
    command: () => ['publish', '--rpc', '-e', '', '-k', queues.rpc, '--timeout', '300ms', 'ping'],
    code: 3,
  },
  { name: 'SIGINT mid-consume', command: () => ['consume'], interrupt: true, code: 130 },
];

async function runScenario(scenario: Scenario, channel: Channel, verbose: boolean): Promise<void> {
  const where = `'${scenario.name}' via ${channel}${verbose ? ' --verbose' : ''}`;
  const { args, env } = credentials(channel, scenario.target ?? {}, scenario.password ?? PASSWORD);
  const argv = [
    ...(verbose ? ['--verbose'] : []),
    ...args,
    ...(scenario.global ?? []),
    ...scenario.command(),
  ];
  let result: RunResult;
  if (scenario.interrupt) {
    const queue = await broker.queue('secret-sigint');
    await broker.publish('', queue, 'one');
    const child = startWarren([...argv, queue], { env });
    const done = collect(child);
    await eventually(async () => (await broker.channel.checkQueue(queue)).consumerCount === 1, 15_000);
    child.kill('SIGINT');
    result = await done;
  } else {
    result = await runWarren(argv, { env, stdin: scenario.stdin });
  }
  expectNoSecretIn(result, where);
  expect(result.code, `${where}: exit code; stderr:\n${result.stderr}`).toBe(scenario.code);
  if (!verbose)
    expect(hasStackTrace(result.stderr), `${where}: a stack trace:\n${result.stderr}`).toBe(false);
  if (scenario.code !== 130) {
    const errors = result.stderr.split('\n').filter((line) => /^error/.test(line));
    expect(errors, `${where}: one error line:\n${result.stderr}`).toHaveLength(1);
  }
  if (scenario.namesUrl) {
    expect(result.stderr, `${where}: the URL, masked`).toContain(`${USER}:***@`);
  }
}

describe('no error path shows the password, with or without --verbose, however it was given', () => {
  it('covers at least 15 error paths', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(SCENARIOS)('$name', async (scenario) => {
    const runs = CHANNELS.flatMap((channel) =>
      [false, true].map((verbose) => runScenario(scenario, channel, verbose)),
    );
    const outcomes = await Promise.allSettled(runs);
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------

describe('the process list', () => {
  it.each([
    ['URL-encoded', encodeURIComponent(PASSWORD)],
    // `amqp://u:open sesame@h/`: one argument, so the space is part of the password.
    ['with a raw space', encodeURIComponent(PASSWORD).replace(/%20/g, ' ')],
  ])('shows the --url with its password masked, in /proc/PID/cmdline and in ps (%s)', async (_, password) => {
    const queue = await broker.queue('secret-title');
    const url = `amqp://${USER}:${password}@127.0.0.1:5672/`;
    const child = startWarren(['--url', url, 'consume', queue, '--timeout', '3s'], {
      env: { ...BASE_ENV, XDG_CONFIG_HOME: noConfig },
    });
    const done = collect(child);
    // Connected and consuming: the title was set long before.
    await eventually(async () => (await broker.channel.checkQueue(queue)).consumerCount === 1, 15_000);
    const pid = child.pid as number;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim();
    const { stdout: ps } = await exec('ps', ['-o', 'args=', '-p', String(pid)]);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expectNoSecret(cmdline, '/proc/PID/cmdline');
    expectNoSecret(ps, 'ps -o args=');
    expect(cmdline).toContain(`amqp://${USER}:***@127.0.0.1:5672/`);
    expect(ps).toContain(`amqp://${USER}:***@127.0.0.1:5672/`);
    expect(cmdline).toContain(`consume ${queue}`);
  });
});

// ---------------------------------------------------------------------------------------

describe('--password-file, WARREN_PASSWORD and the profile passwordFile', () => {
  /** Publishes one message to the sink queue; the run's output must not show a password. */
  async function publishWith(args: string[], env: Record<string, string | undefined> = {}) {
    const result = await runWarren([...args, 'publish', '-e', '', '-k', queues.sink, 'via-options'], {
      env: { ...BASE_ENV, XDG_CONFIG_HOME: noConfig, ...env },
    });
    expectNoSecretIn(result, `warren ${args.join(' ')}`);
    expect(hasStackTrace(result.stderr)).toBe(false);
    return result;
  }

  const bare = `amqp://${USER}@127.0.0.1:5672/`;
  const withPassword = (password: string) => `amqp://${USER}:${encodeURIComponent(password)}@127.0.0.1:5672/`;
  let right: string;
  let wrong: string;
  beforeAll(() => {
    right = fileHolding(`${PASSWORD}\n`);
    wrong = fileHolding(`${WRONG}\n`);
  });

  async function expectSuccess(args: string[], env: Record<string, string | undefined> = {}) {
    const before = await broker.messageCount(queues.sink);
    const result = await publishWith(args, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/confirmed 1/);
    expect(await broker.messageCount(queues.sink)).toBe(before + 1);
  }

  async function expectLoginRefused(args: string[], env: Record<string, string | undefined> = {}) {
    const result = await publishWith(args, env);
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toContain(`${USER}:***@`);
  }

  async function expectUsageError(args: string[], env: Record<string, string | undefined>, mentions: string) {
    const result = await publishWith(args, env);
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(mentions);
    expect(lines.length, result.stderr).toBeLessThanOrEqual(2);
    if (lines[1] !== undefined) expect(lines[1]).toMatch(/--help/);
  }

  it('--help mentions --password-file and WARREN_PASSWORD', async () => {
    const result = await runWarren(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('--password-file');
    expect(result.stdout.toString()).toContain('WARREN_PASSWORD');
  });

  it('--password-file: for a URL without a password, or in place of a wrong one', async () => {
    await expectSuccess(['--url', bare, '--password-file', right]);
    await expectSuccess(['--url', withPassword(WRONG), '--password-file', right]);
    await expectLoginRefused(['--url', withPassword(PASSWORD), '--password-file', wrong]);
  });

  it('--password-file: a CRLF line end, or none at all, is not part of the password', async () => {
    await expectSuccess(['--url', bare, '--password-file', fileHolding(`${PASSWORD}\r\n`)]);
    await expectSuccess(['--url', bare, '--password-file', fileHolding(PASSWORD)]);
  });

  it('--password-file: the user is guest when the URL names none', async () => {
    await expectSuccess(['--url', 'amqp://127.0.0.1:5672/', '--password-file', fileHolding('guest\n')]);
    const refused = await publishWith(['--url', 'amqp://127.0.0.1:5672/', '--password-file', wrong]);
    expect(refused.code, refused.stderr).toBe(69);
    expect(refused.stderr).toContain('guest:***@');
  });

  it('WARREN_PASSWORD: for a URL without a password, or in place of a wrong one; empty is unset', async () => {
    await expectSuccess(['--url', bare], { WARREN_PASSWORD: PASSWORD });
    await expectSuccess(['--url', withPassword(WRONG)], { WARREN_PASSWORD: PASSWORD });
    await expectLoginRefused(['--url', withPassword(PASSWORD)], { WARREN_PASSWORD: WRONG });
    await expectSuccess(['--url', withPassword(PASSWORD)], { WARREN_PASSWORD: '' });
  });

  it("a profile's passwordFile, relative to the config file's folder", async () => {
    const files = { 'pw.txt': `${PASSWORD}\n`, 'wrong.txt': `${WRONG}\n` };
    await expectSuccess([], { XDG_CONFIG_HOME: profileHome({ url: bare, passwordFile: 'pw.txt' }, files) });
    await expectSuccess([], {
      XDG_CONFIG_HOME: profileHome({ url: withPassword(WRONG), passwordFile: 'pw.txt' }, files),
    });
    await expectLoginRefused([], {
      XDG_CONFIG_HOME: profileHome({ url: withPassword(PASSWORD), passwordFile: 'wrong.txt' }, files),
    });
  });

  it('precedence: --password-file > WARREN_PASSWORD > profile passwordFile > the URL', async () => {
    const files = { 'pw.txt': `${PASSWORD}\n`, 'wrong.txt': `${WRONG}\n` };
    const profileRight = profileHome({ url: bare, passwordFile: 'pw.txt' }, files);
    const profileWrong = profileHome({ url: bare, passwordFile: 'wrong.txt' }, files);
    // --password-file over WARREN_PASSWORD
    await expectSuccess(['--url', bare, '--password-file', right], { WARREN_PASSWORD: WRONG });
    await expectLoginRefused(['--url', bare, '--password-file', wrong], { WARREN_PASSWORD: PASSWORD });
    // --password-file over the profile's passwordFile
    await expectSuccess(['--password-file', right], { XDG_CONFIG_HOME: profileWrong });
    await expectLoginRefused(['--password-file', wrong], { XDG_CONFIG_HOME: profileRight });
    // WARREN_PASSWORD over the profile's passwordFile
    await expectSuccess([], { XDG_CONFIG_HOME: profileWrong, WARREN_PASSWORD: PASSWORD });
    await expectLoginRefused([], { XDG_CONFIG_HOME: profileRight, WARREN_PASSWORD: WRONG });
    // the profile's passwordFile over the URL's own password (--url with a profile)
    await expectSuccess(['--url', withPassword(WRONG)], { XDG_CONFIG_HOME: profileRight });
    await expectLoginRefused(['--url', withPassword(PASSWORD)], { XDG_CONFIG_HOME: profileWrong });
  });

  it("WARREN_PASSWORD follows the password file's rule: one line (a last line end is not part of it)", async () => {
    await expectSuccess(['--url', bare], { WARREN_PASSWORD: `${PASSWORD}\n` });
    await expectUsageError(['--url', bare], { WARREN_PASSWORD: `${PASSWORD}\n${WRONG}` }, 'WARREN_PASSWORD');
    await expectUsageError(['--url', bare], { WARREN_PASSWORD: `${PASSWORD}\r\nx` }, 'WARREN_PASSWORD');
  });

  it('a password file that is a FIFO nothing writes to: exit 2 naming it, not a wait for ever', async () => {
    const fifo = join(dir, 'password-fifo');
    await exec('mkfifo', [fifo]);
    await expectUsageError(
      ['--url', bare, '--password-file', fifo],
      {},
      `'${fifo}' is a FIFO that nothing writes to`,
    );
  });

  it('a password file that is a pipe written a moment later (<(pass show x)) is read', async () => {
    const source = fileHolding(`${PASSWORD}\n`);
    const before = await broker.messageCount(queues.sink);
    const result = await runShell(
      `node bin/warren.js --url '${bare}' --password-file <(sleep 1; cat '${source}') publish -e '' -k '${queues.sink}' piped`,
      { env: { ...BASE_ENV, XDG_CONFIG_HOME: noConfig } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await broker.messageCount(queues.sink)).toBe(before + 1);
  });

  it('a missing, empty, multi-line or unreadable password file: exit 2, one line naming it', async () => {
    const absent = join(dir, 'no-such-password.txt');
    await expectUsageError(['--url', bare, '--password-file', absent], {}, absent);
    for (const text of ['', '\n', `${PASSWORD}\n${WRONG}\n`, `${PASSWORD}\n\n`]) {
      const path = fileHolding(text);
      await expectUsageError(['--url', bare, '--password-file', path], {}, path);
    }
    await expectUsageError(['--url', bare, '--password-file', dir], {}, dir);
  });

  it("the same for a profile's passwordFile, named as the config resolved it", async () => {
    const home = profileHome({ url: bare, passwordFile: 'absent.txt' });
    await expectUsageError([], { XDG_CONFIG_HOME: home }, join(home, 'warren', 'absent.txt'));
    const twoLines = profileHome(
      { url: bare, passwordFile: 'pw.txt' },
      { 'pw.txt': `${PASSWORD}\n${WRONG}` },
    );
    await expectUsageError([], { XDG_CONFIG_HOME: twoLines }, join(twoLines, 'warren', 'pw.txt'));
    const empty = profileHome({ url: bare, passwordFile: 'pw.txt' }, { 'pw.txt': '' });
    await expectUsageError([], { XDG_CONFIG_HOME: empty }, join(empty, 'warren', 'pw.txt'));
  });

  it('a bad password file with --verbose still shows no password', async () => {
    const path = fileHolding(`${PASSWORD}\n${WRONG}\n`);
    const result = await publishWith(['--verbose', '--url', withPassword(PASSWORD), '--password-file', path]);
    expect(result.code, result.stderr).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------

describe('handlers and triggers', () => {
  const bare = `amqp://${USER}@127.0.0.1:5672/`;
  const full = () => `amqp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:5672/`;
  /** The password on every channel a child could inherit it from. */
  const everywhere = () => ({
    ...BASE_ENV,
    XDG_CONFIG_HOME: noConfig,
    WARREN_URL: full(),
    AMQP_URL: full(),
    WARREN_PASSWORD: PASSWORD,
  });
  /** A child that saves its environment, then prints the password (read from a file) on both streams. */
  const leaky = (envFile: string, passwordFile: string) =>
    `env > '${envFile}'; cat '${passwordFile}'; cat '${passwordFile}' >&2; echo "url ${full()}" >&2`;

  /** The run went well, and neither the child's environment nor what it printed shows the password. */
  function expectChildKeptNoSecret(result: RunResult, envFile: string, where: string): void {
    expect(result.code, result.stderr).toBe(0);
    expectNoSecretIn(result, where);
    // Printed, masked: the child's lines were passed on, not dropped.
    expect(result.stderr).toContain(`url amqp://${USER}:***@127.0.0.1:5672/`);
    const env = readFileSync(envFile, 'utf8');
    expectNoSecret(env, `the environment of ${where}`);
    expect(env).not.toMatch(/^WARREN_PASSWORD=/m);
    expect(env).toContain(`WARREN_URL=${bare}\n`);
    expect(env).toContain(`AMQP_URL=${bare}\n`);
  }

  it('a handler gets neither WARREN_PASSWORD nor a URL with the password, and what it prints is redacted', async () => {
    const queue = await broker.queue('secret-handler');
    await broker.publish('', queue, 'one');
    const envFile = join(dir, 'handler-env.txt');
    const result = await runWarren(
      ['consume', queue, '--exec', leaky(envFile, fileHolding(`${PASSWORD}\n`)), '--count', '1'],
      { env: everywhere() },
    );
    expectChildKeptNoSecret(result, envFile, 'consume --exec');
  });

  it('a trigger gets neither either, and what it prints is redacted', async () => {
    const exchange = await broker.exchange('secret-trigger', 'topic');
    const envFile = join(dir, 'trigger-env.txt');
    const trigger = leaky(envFile, fileHolding(`${PASSWORD}\n`));
    const result = await runWarren(['tail', exchange, '--timeout', '1s', '--', 'sh', '-c', trigger], {
      env: everywhere(),
    });
    expectChildKeptNoSecret(result, envFile, 'tail -- trigger');
  });

  it('--pass-url gives a handler the broker warren uses: a warren it runs can publish there', async () => {
    const queue = await broker.queue('secret-pass-url');
    const sink = await broker.queue('secret-pass-url-sink');
    await broker.publish('', queue, 'one');
    await broker.publish('', queue, 'two');
    const handler = `'${process.execPath}' '${WARREN_BIN}' -q publish -e '' -k '${sink}' forwarded`;
    // The password as CI gives it: WARREN_PASSWORD beside a URL without one.
    const env = { ...BASE_ENV, XDG_CONFIG_HOME: noConfig, WARREN_URL: bare, WARREN_PASSWORD: PASSWORD };
    const without = await runWarren(
      ['consume', queue, '--exec', handler, '--count', '1', '--on-failure', 'reject'],
      { env },
    );
    expect(without.code, without.stderr).toBe(0);
    expect(without.stderr).toMatch(/1 rejected/);
    expect(await broker.messageCount(sink)).toBe(0);
    const passed = await runWarren(['consume', queue, '--exec', handler, '--count', '1', '--pass-url'], {
      env,
    });
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toMatch(/1 acked/);
    expect(await broker.messageCount(sink)).toBe(1);
    expectNoSecretIn(passed, 'consume --exec --pass-url');
  });

  it('--pass-url gives a trigger the broker too (the password from a file)', async () => {
    const exchange = await broker.exchange('secret-pass-url-trigger', 'topic');
    const args = ['--url', bare, '--password-file', fileHolding(`${PASSWORD}\n`)];
    const trigger = [process.execPath, WARREN_BIN, '-q', 'publish', '-e', exchange, '-k', 'k', 'event'];
    const result = await runWarren(
      [...args, 'tail', `${exchange}:k`, '--count', '1', '--timeout', '10s', '--pass-url', '--', ...trigger],
      { env: { ...BASE_ENV, XDG_CONFIG_HOME: noConfig } },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((m) => m['body'])).toEqual(['event']);
    expectNoSecretIn(result, 'tail --pass-url');
  });
});
