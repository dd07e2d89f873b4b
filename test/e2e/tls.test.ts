/**
 * amqps:// against a real RabbitMQ TLS listener: a second node of our own (the shared
 * broker has no TLS listener) that verifies peers and insists on a client certificate.
 */
import { lookup } from 'node:dns/promises';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/broker.js';
import { type Certificates, makeCertificates, removeCertificates } from '../helpers/certificates.js';
import { ndjson, type RunOptions, type RunResult, runWarren } from '../helpers/cli.js';
import { type SecondNode, startSecondNode } from '../helpers/secondNode.js';
import { hasStackTrace } from '../helpers/spawn.js';

const USER = 'tlsuser';
const PASSWORD = 'S3cr3t-tls-pw';

/** A name of this host that resolves to loopback but is not in the server certificate (if any). */
const OTHER_NAME = await (async () => {
  const name = hostname();
  if (name === 'localhost') return undefined;
  const address = await lookup(name, { family: 4 }).catch(() => undefined);
  return address?.address.startsWith('127.') ? name : undefined;
})();

let certs: Certificates;
let node: SecondNode;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;

beforeAll(async () => {
  certs = makeCertificates();
  node = await startSecondNode({
    tls: {
      cacertfile: certs.caCert,
      certfile: certs.serverCert,
      keyfile: certs.serverKey,
      verify: 'verify_peer',
      fail_if_no_peer_cert: true,
    },
    management: 'tls',
  });
  await node.ctl(['add_user', USER, PASSWORD]);
  await node.ctl(['set_user_tags', USER, 'management']);
  await node.ctl(['set_permissions', '-p', '/', USER, '.*', '.*', '.*']);
  // The test's own view of the node, over TLS too (with the client certificate).
  connection = await amqp.connect(url(), {
    ca: [readFileSync(certs.caCert)],
    cert: readFileSync(certs.clientCert),
    key: readFileSync(certs.clientKey),
    servername: 'localhost',
  });
  channel = await connection.createChannel();
}, 150_000);

afterAll(async () => {
  await connection?.close().catch(() => {});
  await node?.stop();
  if (certs) removeCertificates(certs);
}, 90_000);

function url(host = 'localhost', port = node.tlsPort, scheme = 'amqps'): string {
  return `${scheme}://${USER}:${PASSWORD}@${host}:${port}/`;
}
const masked = (host = 'localhost', port = node.tlsPort) => `amqps://${USER}:***@${host}:${port}/`;

async function queue(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await channel.assertQueue(name, { durable: false });
  return name;
}

async function bodies(name: string): Promise<string[]> {
  const found: string[] = [];
  for (;;) {
    const message = await channel.get(name, { noAck: true });
    if (message === false) return found;
    found.push(message.content.toString());
  }
}

/** Runs warren; whatever happens, the password appears nowhere in what it wrote. */
async function warren(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const run = await runWarren(args, options);
  expect(run.stdout.toString('utf8')).not.toContain(PASSWORD);
  expect(run.stderr).not.toContain(PASSWORD);
  return run;
}

const clientCert = () => ['--cert', certs.clientCert, '--key', certs.clientKey];
const fullTls = () => ['--ca', certs.caCert, ...clientCert()];

function publish(target: string, queueName: string, body: string, ...flags: string[]): string[] {
  return ['publish', '--url', target, '--routing-key', queueName, ...flags, body];
}

/** stderr as lines, without the trailing newline. */
const lines = (stderr: string) => stderr.trimEnd().split('\n');

describe('the management API over https (--api https://…): the TLS flags apply to it', () => {
  /** `warren ls queues` of the one queue `name`, on the node's https API, with `flags`. */
  const ls = (name: string, ...flags: string[]) =>
    warren([
      'ls',
      'queues',
      `^${name.replace(/\./g, '\\.')}$`,
      '--columns',
      'name',
      '--url',
      url(),
      '--api',
      node.apiUrl as string,
      ...flags,
    ]);

  it("--ca verifies its certificate: the queue is listed with the broker URL's user, exit 0", async () => {
    const name = await queue('tls-api');
    const run = await ls(name, '--ca', certs.caCert);
    expect(run.code, run.stderr).toBe(0);
    expect(ndjson(run.stdout)).toEqual([{ name }]);
  });

  it('without --ca: exit 69, the certificate not verified, and what to give', async () => {
    const name = await queue('tls-api-unverified');
    const run = await ls(name);
    expect(run.code).toBe(69);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: cannot reach the management API at ${node.apiUrl}: the API's certificate could not be verified \\(`,
        ),
      ),
      '  give the CA that signed it with --ca (--insecure skips the check, and warns)',
    ]);
  });

  it('--insecure: listed without verifying, and warned of', async () => {
    const name = await queue('tls-api-insecure');
    const run = await ls(name, '--insecure');
    expect(run.code, run.stderr).toBe(0);
    expect(ndjson(run.stdout)).toEqual([{ name }]);
    expect(run.stderr).toMatch(/warning: --insecure: the broker certificate is not verified/);
  });

  it('declare --check, which reads the API and the broker, warns of --insecure once', async () => {
    const name = await queue('tls-api-check');
    // An exchange in the file: its bindings are what the API is asked for.
    const exchange = uniqueName('tls-api-check');
    await channel.assertExchange(exchange, 'fanout', { durable: false });
    const file = join(certs.dir, 'topology.json');
    writeFileSync(
      file,
      JSON.stringify({
        exchanges: [{ name: exchange, type: 'fanout', durable: false }],
        queues: [{ name, durable: false }],
      }),
    );
    const run = await warren([
      'declare',
      '--check',
      '--file',
      file,
      '--url',
      url(),
      '--api',
      node.apiUrl as string,
      '--insecure',
      ...clientCert(),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/warning: --insecure: the broker certificate is not verified/g)).toHaveLength(1);
  });

  it('https to the AMQPS port, which is no API: exit 69, one line and a hint', async () => {
    const run = await warren([
      'ls',
      'queues',
      '--url',
      url(),
      '--api',
      `https://localhost:${node.tlsPort}`,
      ...fullTls(),
    ]);
    expect(run.code).toBe(69);
    expect(lines(run.stderr)).toHaveLength(2);
    expect(run.stderr).toMatch(/^error: cannot reach the management API at https:\/\/localhost:\d+: /);
  });
});

describe('amqps:// with a client certificate (verify_peer, fail_if_no_peer_cert)', () => {
  it('--ca, --cert and --key: publishes, and the message is in the queue', async () => {
    const name = await queue('tls-mutual');
    const run = await warren(publish(url(), name, 'over tls', ...fullTls()));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/published 1, confirmed 1/);
    expect(await bodies(name)).toEqual(['over tls']);
  });

  it('consume over TLS takes the message', async () => {
    const name = await queue('tls-consume');
    channel.sendToQueue(name, Buffer.from('{"via":"tls"}'));
    const run = await warren(['consume', name, '--url', url(), '--count', '1', ...fullTls()]);
    expect(run.code, run.stderr).toBe(0);
    expect(ndjson(run.stdout)).toMatchObject([{ routingKey: name, body: '{"via":"tls"}' }]);
    expect((await channel.checkQueue(name)).messageCount).toBe(0);
  });

  it('checks the certificate against an IP address in the URL (the certificate names 127.0.0.1)', async () => {
    const name = await queue('tls-ip');
    const run = await warren(publish(url('127.0.0.1'), name, 'by address', ...fullTls()));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr, 'no warning about an IP address as TLS server name').not.toMatch(/Warning/);
    expect(await bodies(name)).toEqual(['by address']);
  });

  it.skipIf(OTHER_NAME === undefined)(
    'a host name the certificate does not name is refused: exit 69, nothing published',
    async () => {
      // The host's own name resolves to loopback (/etc/hosts), but the certificate names
      // only localhost and 127.0.0.1.
      const other = OTHER_NAME as string;
      const name = await queue('tls-wrong-name');
      const run = await warren(publish(url(other), name, 'x', ...fullTls()));
      expect(run.code, run.stderr).toBe(69);
      expect(lines(run.stderr)[0]).toContain(`cannot connect to ${masked(other)}`);
      expect(run.stderr).toMatch(/does not match certificate's altnames/);
      expect(hasStackTrace(run.stderr)).toBe(false);
      expect(await bodies(name)).toEqual([]);
    },
  );

  it('without a client certificate: exit 69, no stack trace, nothing published', async () => {
    const name = await queue('tls-no-client-cert');
    const run = await warren(publish(url(), name, 'x', '--ca', certs.caCert));
    expect(run.code, run.stderr).toBe(69);
    expect(run.stdout.length).toBe(0);
    expect(lines(run.stderr)[0]).toMatch(/^error: cannot connect to /);
    expect(run.stderr).toContain(masked());
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(await bodies(name)).toEqual([]);
  });

  it('without a client certificate, --verbose shows no password either', async () => {
    const name = await queue('tls-no-client-cert-v');
    const run = await warren(['--verbose', ...publish(url(), name, 'x', '--ca', certs.caCert)]);
    expect(run.code, run.stderr).toBe(69);
    expect(run.stderr).toContain(masked());
  });

  // OpenSSL's own text runs over two lines and names its source files: warren says what it means.
  it('without a client certificate: one error line saying a client certificate is needed', async () => {
    const name = await queue('tls-no-client-cert-msg');
    const run = await warren(publish(url(), name, 'x', '--ca', certs.caCert));
    expect(run.code).toBe(69);
    const [error, hint, ...rest] = lines(run.stderr);
    expect(rest).toEqual([]);
    if (hint !== undefined) expect(hint).toMatch(/^\s+\S/);
    expect(error).toMatch(/client certificate/i);
    expect(run.stderr).toMatch(/--cert/);
    expect(run.stderr).not.toMatch(/give its CA with --ca|user, password/);
  });

  it('with the wrong CA: exit 69, the broker certificate was refused, nothing published', async () => {
    const name = await queue('tls-wrong-ca');
    const run = await warren(publish(url(), name, 'x', '--ca', certs.otherCaCert, ...clientCert()));
    expect(run.code, run.stderr).toBe(69);
    expect(lines(run.stderr)[0]).toMatch(
      /^error: cannot connect to amqps:\/\/tlsuser:\*\*\*@localhost:\d+\/: the broker certificate could not be verified/,
    );
    expect(hasStackTrace(run.stderr)).toBe(false);
    expect(await bodies(name)).toEqual([]);
  });

  it('with the wrong CA: says the certificate could not be verified, and no login hint', async () => {
    const name = await queue('tls-wrong-ca-msg');
    const run = await warren(publish(url(), name, 'x', '--ca', certs.otherCaCert, ...clientCert()));
    expect(run.code).toBe(69);
    expect(lines(run.stderr)[0]).toMatch(/certificate.*(could not be|cannot be|not) verified/i);
    expect(run.stderr).not.toMatch(/user, password/);
  });

  it('without --ca the certificate cannot be verified: exit 69, and says to give --ca', async () => {
    const name = await queue('tls-no-ca');
    const run = await warren(publish(url(), name, 'x', ...clientCert()));
    expect(run.code, run.stderr).toBe(69);
    expect(lines(run.stderr)[0]).toMatch(/the broker certificate could not be verified/);
    expect(lines(run.stderr)[1]).toMatch(/give the CA that signed it with --ca/);
    expect(await bodies(name)).toEqual([]);
  });

  it('--insecure (with the client certificate) connects without verifying, and warns', async () => {
    const name = await queue('tls-insecure');
    const run = await warren(publish(url(), name, 'insecure', '--insecure', ...clientCert()));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^warning: --insecure: the broker certificate is not verified$/m);
    expect(await bodies(name)).toEqual(['insecure']);
  });

  it('a wrong password over TLS: login refused, exit 69, password masked', async () => {
    const name = await queue('tls-bad-login');
    const run = await warren(
      publish(`amqps://${USER}:not-${PASSWORD}@localhost:${node.tlsPort}/`, name, 'x', ...fullTls()),
    );
    expect(run.code, run.stderr).toBe(69);
    expect(run.stderr).toMatch(/login refused/);
    expect(run.stderr).not.toContain(`not-${PASSWORD}`);
    expect(await bodies(name)).toEqual([]);
  });

  it('amqps:// to the plain AMQP port: exit 69, says the port does not speak TLS', async () => {
    const run = await warren(publish(url('localhost', node.amqpPort), 'nowhere', 'x', ...fullTls()));
    expect(run.code, run.stderr).toBe(69);
    expect(run.stderr).toMatch(/does not speak TLS/);
  });

  it('a profile with url, passwordFile, ca, cert and key connects over TLS', async () => {
    const name = await queue('tls-profile');
    const xdg = join(node.dir, 'xdg');
    mkdirSync(join(xdg, 'warren'), { recursive: true });
    const passwordFile = join(xdg, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const config = {
      profiles: {
        secure: {
          url: `amqps://${USER}@localhost:${node.tlsPort}/`,
          passwordFile,
          ca: certs.caCert,
          cert: certs.clientCert,
          key: certs.clientKey,
        },
      },
    };
    writeFileSync(join(xdg, 'warren', 'config.json'), JSON.stringify(config), { mode: 0o600 });
    const run = await warren(['--profile', 'secure', 'publish', '-k', name, 'via profile'], {
      env: { XDG_CONFIG_HOME: xdg, WARREN_URL: undefined, AMQP_URL: undefined, WARREN_PROFILE: undefined },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(await bodies(name)).toEqual(['via profile']);
  });

  it('an unreadable --ca file is a usage error before connecting', async () => {
    const run = await warren(['publish', '--url', url(), '--ca', '/nonexistent/ca.pem', '-k', 'q', 'x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ca: cannot read '\/nonexistent\/ca.pem'/);
  });
});

describe('check connection over amqps: the days left on the broker certificate (the test CA signs for 2 days)', () => {
  const check = (...flags: string[]) =>
    warren(['check', 'connection', '--url', url(), ...fullTls(), '--format', 'json', ...flags]);

  it('is measured, and crosses --cert-warn and --cert-crit both ways', async () => {
    const fine = await check('--cert-warn', '1d');
    expect(fine.code, fine.stderr).toBe(0);
    const [result] = fine.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const days = result.measures.find((m: { name: string }) => m.name === 'certificate_days_left');
    expect(days.value).toBeGreaterThan(1);
    expect(days.value).toBeLessThanOrEqual(2);
    expect(result.message).toMatch(/certificate valid for/);
    const warning = await check('--cert-warn', '30d', '--cert-crit', '1d');
    expect(warning.code, warning.stderr).toBe(6);
    const critical = await check('--cert-warn', '30d', '--cert-crit', '7d');
    expect(critical.code, critical.stderr).toBe(7);
    const nagios = await check('--cert-crit', '7d', '--format', 'nagios');
    expect(nagios.code).toBe(2);
    expect(nagios.stdout.toString()).toMatch(
      /'connection amqps:\/\/tlsuser:\*\*\*@localhost:\d+\/ certificate_days_left'=[\d.]+;;7:/,
    );
  });
});
