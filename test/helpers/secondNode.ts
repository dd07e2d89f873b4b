/**
 * A second RabbitMQ node of the tests' own, for what must not be done to the shared broker:
 * a TLS listener with client certificates, a memory alarm, anything that breaks a broker.
 *
 * Everything the node has is in one temporary directory: its data (RABBITMQ_MNESIA_BASE),
 * logs (RABBITMQ_LOG_BASE), rabbitmq.conf (RABBITMQ_CONFIG_FILE), an enabled-plugins file
 * (empty, so no management or prometheus listener, unless `management` is asked for), an empty rabbitmq-env.conf in place of
 * /etc/rabbitmq/rabbitmq-env.conf (whose NODENAME is the shared broker's), and HOME, with
 * an Erlang cookie of its own (or one shared with the other nodes of a `startCluster`). It listens on loopback only: AMQP, optionally AMQPS, and its
 * Erlang distribution port, each a free port. It runs as the user running the tests, as a
 * child process of its own process group (`rabbitmq-server` in the foreground), and
 * `ctl` runs /usr/lib/rabbitmq/bin/rabbitmqctl with the same HOME (so the same cookie):
 * the /usr/sbin/rabbitmqctl wrapper would switch to the rabbitmq user and its cookie.
 *
 * A node is stopped by `stop()` (rabbitmqctl stop, then the directory is removed). If the
 * test process exits without that, an exit handler kills the node; if the test process is
 * killed, a small watchdog shell (its own session) notices within a second and does it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

export interface SecondNodeOptions {
  /**
   * Opens a TLS listener on a free port (`listeners.ssl.default = 127.0.0.1:PORT`) with these
   * `ssl_options.*` settings, e.g. `{ cacertfile: …, certfile: …, keyfile: …, verify: 'verify_peer' }`.
   */
  tls?: Record<string, string | boolean>;
  /** More rabbitmq.conf lines (new-style `key = value`). */
  config?: string[];
  /** How long the node may take to boot; 90 s unless told. */
  startTimeoutMs?: number;
  /** The Erlang cookie (a cluster's nodes share one); a random one of its own unless told. */
  cookie?: string;
  /**
   * Enables the management plugin, its API on a free loopback port (not the shared node's
   * 15672); the node is handed over once the API answers. Boots some 10–20 s slower.
   * `'tls'`: the API over https only (https://localhost:PORT), with the certificate and key
   * of `tls`; no client certificate asked for.
   */
  management?: boolean | 'tls';
}

export interface SecondNode {
  /** The Erlang node name, e.g. `warren-test-1234-9f3a2c1b@localhost`. */
  name: string;
  amqpPort: number;
  /** The AMQPS port, when `tls` was given. */
  tlsPort: number | undefined;
  distPort: number;
  /** The management API's port and URL (`http://127.0.0.1:PORT`), when `management` was given. */
  apiPort: number | undefined;
  apiUrl: string | undefined;
  /** `amqp://guest:guest@127.0.0.1:PORT/` (guest may log in over loopback). */
  url: string;
  /** The node's temporary directory (removed by `stop`). */
  dir: string;
  /** Runs `rabbitmqctl -n NODE ...args`; resolves to its stdout, rejects with its stderr. */
  ctl(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** The end of the node's log files, for a failure message. */
  logTail(lines?: number): string;
  /**
   * Stops the node (gracefully, else killed; at once with `kill`) and removes its directory.
   * Safe to call twice.
   */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/** Nodes not stopped yet: killed when the test process exits. */
const running = new Map<number, { watchdog: number | undefined; dir: string }>();
let exitHookInstalled = false;

function killGroup(pgid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pgid, { watchdog, dir }] of running) {
      killGroup(watchdog);
      killGroup(pgid);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Ports the Erlang tooling uses by default (epmd, the shared node's distribution, rabbitmqctl). */
function reserved(port: number): boolean {
  return port === 4369 || port === 25672 || (port >= 35672 && port <= 35682);
}

async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (!taken.has(port) && !reserved(port)) {
      taken.add(port);
      return port;
    }
  }
}

function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: options.env, cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || stdout.trim() || error.message;
          reject(Object.assign(new Error(`${file} ${args.join(' ')} failed: ${detail}`), { stdout, stderr }));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

const newCookie = () => randomBytes(20).toString('hex').toUpperCase();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a start failed, and whether another try on other ports may help. */
class StartFailure extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

export async function startSecondNode(options: SecondNodeOptions = {}): Promise<SecondNode> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options);
    } catch (error) {
      // A port picked as free may have been taken in the meantime: pick others.
      if (!(error instanceof StartFailure && error.portClash && attempt < 3)) throw error;
    }
  }
}

async function startOnce(options: SecondNodeOptions): Promise<SecondNode> {
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const shortName = `warren-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const name = `${shortName}@localhost`;
  const taken = new Set<number>();
  const amqpPort = await freePort(taken);
  const distPort = await freePort(taken);
  const tlsPort = options.tls ? await freePort(taken) : undefined;
  const apiPort = options.management ? await freePort(taken) : undefined;

  const dir = mkdtempSync(join(tmpdir(), 'warren-node-'));
  const config = [
    `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
    'log.console = false',
    'log.file.level = info',
  ];
  if (options.tls) {
    config.push(`listeners.ssl.default = 127.0.0.1:${tlsPort}`);
    for (const [key, value] of Object.entries(options.tls)) config.push(`ssl_options.${key} = ${value}`);
  }
  if (apiPort !== undefined && options.management === 'tls') {
    const tls = options.tls ?? {};
    config.push(`management.ssl.port = ${apiPort}`, 'management.ssl.ip = 127.0.0.1');
    for (const key of ['cacertfile', 'certfile', 'keyfile'])
      config.push(`management.ssl.${key} = ${tls[key]}`);
  } else if (apiPort !== undefined) {
    config.push(`management.tcp.port = ${apiPort}`, 'management.tcp.ip = 127.0.0.1');
  }
  config.push(...(options.config ?? []));
  writeFileSync(join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
  // The plugins it depends on (web dispatch, the agent) are enabled with it.
  writeFileSync(join(dir, 'enabled_plugins'), apiPort === undefined ? '[].\n' : '[rabbitmq_management].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  writeFileSync(join(dir, '.erlang.cookie'), options.cookie ?? newCookie(), { mode: 0o400 });
  mkdirSync(join(dir, 'log'));

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: dir,
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONFIG_FILES: join(dir, 'conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'node.pid'),
    // As /etc/rabbitmq/rabbitmq-env.conf has it for the shared node: loopback only.
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    // No busy-waiting schedulers: several nodes share two cores with the tests.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none',
  };

  const ctl = async (args: string[], ctlOptions: { timeoutMs?: number } = {}) =>
    (
      await run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', name, ...args], {
        env,
        cwd: dir,
        timeoutMs: ctlOptions.timeoutMs ?? 60_000,
      })
    ).stdout;

  const logTail = (lines = 40) => {
    const parts: string[] = [];
    for (const file of [join(dir, 'console.log'), join(dir, 'log', `${name}.log`)]) {
      if (!existsSync(file)) continue;
      parts.push(`--- ${file}\n${readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')}`);
    }
    return parts.join('\n');
  };

  const consoleFd = openSync(join(dir, 'console.log'), 'w');
  let child: ChildProcess;
  try {
    // Its own process group (detached), so that the shell script, erl and beam go together.
    child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', consoleFd, consoleFd],
    });
  } finally {
    closeSync(consoleFd);
  }
  const pgid = child.pid;
  if (pgid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error('rabbitmq-server could not be started');
  }
  child.unref();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  const watchdogProcess = spawn(
    'sh',
    [
      '-c',
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 -"$2" 2>/dev/null; rm -rf "$3"',
      'warren-node-watchdog',
      String(process.pid),
      String(pgid),
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdogProcess.unref();
  const watchdog = watchdogProcess.pid;
  installExitHook();
  running.set(pgid, { watchdog, dir });

  let stopped = false;
  const stop = async (stopOptions: { kill?: boolean } = {}) => {
    if (stopped) return;
    stopped = true;
    killGroup(watchdog);
    if (groupAlive(pgid)) {
      if (!stopOptions.kill) {
        await ctl(['stop'], { timeoutMs: 30_000 }).catch(() => {});
        const until = Date.now() + 15_000;
        while (groupAlive(pgid) && Date.now() < until) await sleep(100);
      }
      if (groupAlive(pgid)) {
        killGroup(pgid);
        while (groupAlive(pgid)) await sleep(50);
      }
    }
    running.delete(pgid);
    rmSync(dir, { recursive: true, force: true });
  };

  const fail = async (message: string): Promise<never> => {
    const tail = logTail();
    await stop();
    throw new StartFailure(
      `second RabbitMQ node ${name}: ${message}\n${tail}`,
      /eaddrinuse|already_used|address already in use/i.test(tail),
    );
  };

  // First it registers with epmd (cheap to ask about), then rabbit boots (await_startup).
  for (;;) {
    if (exited) return fail('rabbitmq-server exited while starting');
    if (Date.now() > deadline) return fail(`not registered with epmd after ${timeoutMs} ms`);
    const names = await run('epmd', ['-names'], { timeoutMs: 5000 }).catch(() => ({ stdout: '' }));
    if (names.stdout.split('\n').some((line) => line.startsWith(`name ${shortName} at port`))) break;
    await sleep(200);
  }
  const left = Math.max(5, Math.ceil((deadline - Date.now()) / 1000));
  try {
    await ctl(['await_startup', '--timeout', String(left)], { timeoutMs: left * 1000 + 15_000 });
  } catch (error) {
    return fail(exited ? 'rabbitmq-server exited while booting' : (error as Error).message);
  }
  const apiUrl =
    apiPort === undefined
      ? undefined
      : options.management === 'tls'
        ? `https://localhost:${apiPort}`
        : `http://127.0.0.1:${apiPort}`;
  if (apiUrl !== undefined && !(await apiAnswers(apiUrl, deadline))) {
    return fail(`the management API at ${apiUrl} did not answer within ${timeoutMs} ms`);
  }

  return {
    name,
    amqpPort,
    tlsPort,
    distPort,
    apiPort,
    apiUrl,
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}/`,
    dir,
    ctl,
    logTail,
    stop,
  };
}

/**
 * Polls GET /api/overview as guest until it answers 200, or the deadline passes (over https
 * without checking the certificate: whether it is checked is what the tests look at).
 */
async function apiAnswers(apiUrl: string, deadline: number): Promise<boolean> {
  const authorization = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  const answers = () =>
    new Promise<boolean>((resolve) => {
      const request = (apiUrl.startsWith('https:') ? httpsGet : httpGet)(
        `${apiUrl}/api/overview`,
        { headers: { authorization }, rejectUnauthorized: false },
        (response) => {
          response.resume();
          resolve(response.statusCode === 200);
        },
      );
      request.on('error', () => resolve(false)); // not listening yet
    });
  while (Date.now() < deadline) {
    if (await answers()) return true;
    await sleep(250);
  }
  return false;
}

export interface Cluster {
  /** The nodes, the first one the others joined. */
  nodes: SecondNode[];
  /** Stops every node and removes their directories. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A RabbitMQ cluster of `size` nodes of the tests' own (each one as `startSecondNode` makes
 * it, all with one cookie): they boot at the same time, then each other node joins the first
 * (`stop_app`, `join_cluster`, `start_app`), and the cluster is handed over once the first node
 * sees them all running. If anything fails on the way, every node is stopped.
 */
export async function startCluster(
  size = 3,
  options: Omit<SecondNodeOptions, 'cookie'> = {},
): Promise<Cluster> {
  const cookie = newCookie();
  const started = await Promise.allSettled(
    Array.from({ length: size }, () => startSecondNode({ ...options, cookie })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  // Thrown away whole: no need to wait for each node to shut down in order.
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop({ kill: true })));
  };
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [first, ...others] = nodes as [SecondNode, ...SecondNode[]];
    // Each rabbitmqctl call costs seconds on a busy machine: what may run at once does. The
    // joins go one at a time (two nodes joining the same node at once can trip over each
    // other's schema sync).
    await Promise.all(others.map((node) => node.ctl(['stop_app'])));
    for (const node of others) await node.ctl(['join_cluster', first.name]);
    await Promise.all(others.map((node) => node.ctl(['start_app'])));
    await awaitRunning(
      first,
      nodes.map((node) => node.name),
      options.startTimeoutMs ?? 90_000,
    );
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until `node` reports every one of `names` running. */
export async function awaitRunning(node: SecondNode, names: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = JSON.parse(await node.ctl(['cluster_status', '--formatter', 'json'])) as {
      running_nodes?: string[];
    };
    const running = status.running_nodes ?? [];
    if (names.every((name) => running.includes(name))) return;
    if (Date.now() > deadline) {
      throw new Error(
        `cluster: ${names.filter((name) => !running.includes(name)).join(', ')} not running on ${node.name}`,
      );
    }
    await sleep(250);
  }
}
