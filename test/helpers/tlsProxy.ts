/**
 * A TLS terminator in front of the local broker, for amqps:// tests without a second
 * broker node: certificates made with openssl, a tls.Server that pipes each connection to
 * 127.0.0.1:5672.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';

export interface Certificates {
  dir: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  serverCert: string;
  serverKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by the CA. */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=warren test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  for (const [name, extra] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=warren test ${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]);
    writeFileSync(join(dir, `${name}.ext`), `${extra}\n`);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    ]);
  }
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
  };
}

export interface TlsProxy {
  port: number;
  close(): Promise<void>;
}

/** Listens on a free port; with `requireClientCert` only clients with a certificate from the CA get through. */
export async function startTlsProxy(
  certs: Certificates,
  options: { requireClientCert: boolean },
): Promise<TlsProxy> {
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer(
    {
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: [readFileSync(certs.caCert)],
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
    },
    (socket) => {
      sockets.add(socket);
      const upstream = netConnect(5672, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
        sockets.delete(socket);
      };
      socket.on('error', end);
      socket.on('close', end);
      upstream.on('error', end);
      upstream.on('close', end);
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function removeCertificates(certs: Certificates): void {
  rmSync(certs.dir, { recursive: true, force: true });
}
