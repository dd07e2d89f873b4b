import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { runWarren } from '../helpers/cli.js';
import {
  type Certificates,
  makeCertificates,
  removeCertificates,
  startTlsProxy,
  type TlsProxy,
} from '../helpers/tlsProxy.js';

let broker: TestBroker;
let certs: Certificates;
let serverOnly: TlsProxy;
let mutual: TlsProxy;

beforeAll(async () => {
  broker = await connectTestBroker();
  certs = makeCertificates();
  serverOnly = await startTlsProxy(certs, { requireClientCert: false });
  mutual = await startTlsProxy(certs, { requireClientCert: true });
});
afterAll(async () => {
  await serverOnly.close();
  await mutual.close();
  removeCertificates(certs);
  await broker.cleanup();
});

const amqps = (proxy: TlsProxy, host = 'localhost') => `amqps://guest:tls-s3cret@${host}:${proxy.port}/`;

/** The proxy speaks to the broker as guest/guest whatever the URL says: the URL's password only needs masking. */
function publishArgs(url: string, queue: string, ...flags: string[]): string[] {
  return [
    'publish',
    '--url',
    url.replace('tls-s3cret', 'guest'),
    '--routing-key',
    queue,
    ...flags,
    'over tls',
  ];
}

describe('amqps://', () => {
  it('connects with --ca and delivers the message', async () => {
    const queue = await broker.queue('tls-ca');
    const run = await runWarren(publishArgs(amqps(serverOnly), queue, '--ca', certs.caCert));
    expect(run.code, run.stderr).toBe(0);
    const [message] = await broker.drain(queue);
    expect(message?.content.toString()).toBe('over tls');
  });

  it('checks the certificate against the host name in the URL', async () => {
    const queue = await broker.queue('tls-ip');
    const run = await runWarren(publishArgs(amqps(serverOnly, '127.0.0.1'), queue, '--ca', certs.caCert));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr, 'no warning about an IP address as TLS server name').not.toMatch(/Warning/);
  });

  it('refuses a certificate it cannot verify: exit 69, and says to give --ca', async () => {
    const queue = await broker.queue('tls-noca');
    const run = await runWarren(['publish', '--url', amqps(serverOnly), '--routing-key', queue, 'x']);
    expect(run.code).toBe(69);
    expect(run.stderr).toMatch(/certificate was not accepted.*--ca/);
    expect(run.stderr).not.toContain('tls-s3cret');
    expect(await broker.messageCount(queue)).toBe(0);
  });

  it('--insecure connects without verifying, and warns', async () => {
    const queue = await broker.queue('tls-insecure');
    const run = await runWarren(publishArgs(amqps(serverOnly), queue, '--insecure'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: --insecure/);
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('presents a client certificate with --cert and --key', async () => {
    const queue = await broker.queue('tls-mutual');
    const run = await runWarren(
      publishArgs(
        amqps(mutual),
        queue,
        '--ca',
        certs.caCert,
        '--cert',
        certs.clientCert,
        '--key',
        certs.clientKey,
      ),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await broker.messageCount(queue)).toBe(1);
  });

  it('without a client certificate the handshake fails: exit 69', async () => {
    const queue = await broker.queue('tls-mutual-missing');
    const run = await runWarren(publishArgs(amqps(mutual), queue, '--ca', certs.caCert));
    expect(run.code).toBe(69);
    expect(run.stderr).toMatch(/cannot connect to amqps:\/\/guest:\*\*\*@localhost/);
  });

  it('an unreadable --ca file is a usage error before connecting', async () => {
    const run = await runWarren([
      'publish',
      '--url',
      amqps(serverOnly),
      '--ca',
      '/nonexistent/ca.pem',
      '-k',
      'q',
      'x',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ca: cannot read '\/nonexistent\/ca.pem'/);
  });
});
